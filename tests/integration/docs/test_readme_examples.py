"""The README's calls to the API run as written against the local front: every curl
line for 127.0.0.1:3000 (signed with --aws-sigv4), and the awscurl and botocore
examples of "Calling the deployed API" with API_URL pointing at the front."""

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.harness.defaults import ACCESS_KEY_ID, API_PORT, SECRET_ACCESS_KEY
from tests.helpers import documentation

README = documentation()  # README.md and the docs site's pages
README_PORT = f"127.0.0.1:{API_PORT}"
VENV_BIN = str(Path(sys.executable).parent)


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def curl_examples() -> list[str]:
    """Each shell snippet that calls the API, one per code block, prompts removed."""
    snippets = []
    for block in code_blocks("bash"):
        lines = [
            line.removeprefix("$ ")
            for line in block.splitlines()
            if line.startswith(("$ curl", "curl", "SIGN=", "TOKEN="))
        ]
        if any(README_PORT in line for line in lines):
            snippets.append("\n".join(lines))
    return snippets


def section(heading: str) -> str:
    return README.split(f"\n{heading}\n", 1)[1].split("\n### ", 1)[0]


def run(script: str, api_url: str, *, language: str = "bash") -> str:
    command = ["bash", "-euo", "pipefail", "-c", script] if language == "bash" else [sys.executable, "-c", script]
    environment = {
        **os.environ,
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "API_URL": api_url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    }
    completed = subprocess.run(  # noqa: S603 - the README's own examples
        command, env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def json_values(text: str) -> Iterator[dict[str, Any]]:
    """The JSON bodies curl printed back to back, with no newline between them."""
    decoder, position = json.JSONDecoder(), 0
    while position < len(text.rstrip()):
        value, position = decoder.raw_decode(text, position)
        yield value
        while position < len(text) and text[position].isspace():
            position += 1


def test_the_readme_has_the_examples_this_suite_runs() -> None:
    assert len(curl_examples()) >= 4
    assert all("--aws-sigv4" in snippet for snippet in curl_examples())


@pytest.mark.parametrize("snippet", curl_examples())
def test_curl_example_is_signed_and_served(api_url: str, snippet: str) -> None:
    output = run(snippet.replace(README_PORT, api_url.removeprefix("http://")), api_url)

    answers = list(json_values(output))
    assert len(answers) == sum(line.startswith("curl") for line in snippet.splitlines())
    for body in answers:
        assert body.get("type") != "urn:finspace-users:problem:forbidden", snippet
        assert "users" in body or "userId" in body or body["status"] in {400, 404}


def test_awscurl_example_runs_against_the_front(api_url: str) -> None:
    calling = section("### Calling the deployed API")
    awscurl = next(line for line in code_blocks("bash") if "awscurl --service" in line and line in calling)
    command = next(line for line in awscurl.splitlines() if line.startswith("awscurl"))

    page = json.loads(run(command, api_url))

    assert len(page["users"]) == 5


def test_botocore_example_runs_against_the_front(api_url: str) -> None:
    calling = section("### Calling the deployed API")
    example = next(block for block in code_blocks("python") if "SigV4Auth" in block and block in calling)

    page = ast.literal_eval(run(example, api_url, language="python"))  # it prints the parsed JSON

    assert len(page["users"]) == 5
