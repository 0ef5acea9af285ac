"""The commands of the README's "Local development" table run as written, from a new
user's shell: no virtual environment active, no .venv/bin on PATH, and no `make run`
stack (a record of the test's own, absent), so each that would use one starts its own."""

import json
import re
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from localdev.harness.defaults import EMULATOR_PORT, PROJECT_ROOT
from localdev.harness.stack import free_port
from tests.helpers import documentation
from tests.integration import local_commands

README = documentation()  # README.md and the docs site's pages
# Commands this suite does not run, and why: each is covered elsewhere, or is this suite.
NOT_RUN_HERE = {
    "make run": "a server until Ctrl-C: tests/integration/localdev/test_make_run.py starts its module",
    "make test": "the whole suite, this test included",
    "make unit": "a part of this suite",
    "make integration": "a part of this suite",
    "make containers": "a part of this suite",
    "make bench": "minutes of measurement: run by hand",
    "make bench-instructions": "minutes under valgrind: run by hand",
    "make sam-invoke": "tests/containers runs the same sam local commands",
    "make sam-api": "tests/containers runs the same sam local commands",
    "make changes": "reads a running make run stack: test_readme_runner.py runs it against one on other ports",
}
SERVERS = {".venv/bin/python -m localdev.emulator --users 1000": "FinSpace Data emulator with 1000 users on"}


def table_commands() -> list[str]:
    section = README.split("\n# Local development\n", 1)[1]
    table = section.strip().split("\n\n", 1)[0]
    first_cells = [line.split("|")[1] for line in table.splitlines()[2:]]
    return [command for cell in first_cells for command in re.findall(r"`([^`]+)`", cell)]


def new_user_environment() -> dict[str, str]:
    return local_commands.new_user_environment(Path(tempfile.gettempdir()) / f"no-stack-{uuid.uuid4()}.json")


def test_every_command_of_the_table_is_run_here_or_says_why_not() -> None:
    commands = table_commands()
    assert commands
    for command in commands:
        assert command in NOT_RUN_HERE or command in SERVERS or command.startswith("make "), command


@pytest.mark.parametrize(
    "command",
    [command for command in table_commands() if command not in NOT_RUN_HERE and command not in SERVERS],
)
def test_command_runs_as_written(command: str) -> None:
    completed = subprocess.run(  # noqa: S602 - the README's own command, as a user types it
        command, shell=True, cwd=PROJECT_ROOT, env=new_user_environment(), capture_output=True, text=True, timeout=300
    )

    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr


def emulator_curl_lines() -> list[str]:
    section = README.split("\n# Local development\n", 1)[1].split("\n### ", 1)[0]
    return [line for line in re.findall(r"`(curl [^`]+)`", section) if f"127.0.0.1:{EMULATOR_PORT}" in line]


@pytest.mark.parametrize("command", sorted(SERVERS))
def test_server_command_starts_as_written_and_answers_the_readmes_curl(command: str) -> None:
    port = free_port()
    server = subprocess.Popen(  # noqa: S602 - the README's own command, on a free port
        f"exec {command} --port {port}",
        shell=True,
        cwd=PROJECT_ROOT,
        env=new_user_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        first_line = server.stdout.readline()
        answers = [
            subprocess.run(  # noqa: S602 - the README's own command, on that port
                line.replace(f"127.0.0.1:{EMULATOR_PORT}", f"127.0.0.1:{port}") + " --fail --silent",
                shell=True,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            for line in emulator_curl_lines()
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert SERVERS[command] in first_line
    assert emulator_curl_lines()
    for answer in answers:
        assert answer.returncode == 0, answer.stderr
        assert json.loads(answer.stdout)["throttle_rate"] == 0.3
