"""The README's local sections, run as a new user types them (issue #21): `make run` on
free ports that are not its defaults, then each shell line of "Two commands", "Local
development" and "Access-review changes, locally" in a clean shell with no venv on PATH,
exactly as printed but for the ports, each checked against what the README says."""

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from localdev.harness.defaults import (
    ACCESS_KEY_ID,
    API_PORT,
    EMULATOR_PORT,
    MOTO_PORT,
    PROJECT_ROOT,
    REGION,
    SECRET_ACCESS_KEY,
)
from tests.helpers import documentation
from tests.integration.local_commands import MakeRun, new_user_environment

README = documentation()  # README.md and the docs site's pages
SECTIONS = ("## Two commands", "# Local development", "### Access-review changes, locally")
# Lines of those sections not run here, and why; nothing is left out for needing a stack.
NOT_RUN_HERE = {
    "make run": "this runner starts it, on free ports, and ends it with Ctrl-C",
    "make test": "the whole suite, this test included",
}
README_API = "127.0.0.1:3000"


def section(heading: str) -> str:
    """A section's own text, up to its next heading."""
    return re.split(r"\n#{2,3} ", README.split(f"\n{heading}\n", 1)[1], maxsplit=1)[0]


def shell_lines() -> list[str]:
    return [
        line
        for heading in SECTIONS
        for block in re.findall(r"```bash\n(.*?)```", section(heading), re.DOTALL)
        for line in block.splitlines()
        if line.strip()
    ]


def command_of(line: str) -> str:
    return line.split("  #", 1)[0].strip()


def run_line(line: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the README's own line, as a user types it
        ["/bin/bash", "-c", line],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return new_user_environment(tmp_path_factory.mktemp("stack") / "local-stack.json")


@pytest.fixture(scope="module")
def make_run(environment: dict[str, str]) -> Iterator[MakeRun]:
    shutil.rmtree(PROJECT_ROOT / "build" / "evidence-2026-11-23", ignore_errors=True)  # the walkthrough's pack
    running = MakeRun(environment)
    yield running
    running.stop()


def test_every_shell_line_is_run_here_or_says_why_not() -> None:
    lines = shell_lines()
    assert len(lines) >= 10
    assert {command_of(line) for line in lines} >= set(NOT_RUN_HERE)
    assert any(line == "make changes" for line in lines)
    for question in ("changes", "who", "history", "query", "export"):
        assert any(line.startswith(f".venv/bin/finspace-users {question} ") for line in lines), question


def test_make_run_moves_to_the_ports_it_is_given_and_records_them(
    make_run: MakeRun, environment: dict[str, str]
) -> None:
    assert f"API front          http://127.0.0.1:{make_run.api_port}" in make_run.banner
    record = json.loads(Path(environment["FINSPACE_USERS_LOCAL_STACK"]).read_text())
    assert record["apiUrl"] == f"http://127.0.0.1:{make_run.api_port}"
    assert record["finspaceUrl"] == f"http://127.0.0.1:{make_run.finspace_port}"
    assert record["motoUrl"] == f"http://127.0.0.1:{make_run.moto_port}"


def check_output(line: str, completed: subprocess.CompletedProcess[str], make_run: MakeRun) -> None:
    """What the README says each line gives."""
    output = completed.stdout
    command = command_of(line)
    if command.startswith("curl") and README_API in command:
        answer = json.loads(output)
        if "maxResults=5" in command:
            assert len(answer["users"]) == 5
        else:
            user_id = re.search(r"/users/(\w+)'", command)
            assert user_id is not None
            assert answer["userId"] == user_id[1]
    elif command.startswith("make snapshot"):
        tick = re.search(r"--scheduled-time (\S+?)\"", command)
        assert tick is not None
        assert f"Snapshot of tick {tick[1]} against the running `make run` stack" in output
        assert f'"scheduledTime": "{tick[1]}"' in output
    elif command.startswith("curl") and "_emulator/users" in command:
        if "-X DELETE" in command:
            assert output == ""
        else:
            assert json.loads(output)
    elif command in ("make changes", ".venv/bin/finspace-users changes --since 2026-11-22"):
        assert "compared with 2026-11-22T02:00:00Z" in output
        assert "verified (signatures, chain links, versions" in output
        counts = dict(
            re.findall(
                r"│ (users added|users removed|users changed|new super users|new API access)\s+│\s+(\d+)", output
            )
        )
        assert counts == {
            "users added": "1",
            "users removed": "1",
            "users changed": "2",
            "new super users": "1",
            "new API access": "1",
        }
    elif command.startswith("make verify"):
        last = output.splitlines()[-1]
        assert last.startswith("verify s3://finspace-users-snapshots: 2 snapshots, 5 objects"), last
        assert last.endswith("versions checked: 0 findings"), last
    elif command.startswith(".venv/bin/finspace-users"):
        check_question(command, output)
    else:
        raise AssertionError(f"no check for this README line: {line}")


def check_question(command: str, output: str) -> None:
    """What the walkthrough's questions answer, as its closing paragraph says."""
    both = "Answered by 2 snapshots, 2026-11-22T02:00:00Z to 2026-11-23T02:00:00Z, all verified"
    if " who " in command:
        assert "9jLCRKMG4KMPJrLv000001" in output
        assert "Answered by snapshot 2026-11-23T02:00:00Z, verified" in output
        assert "the one that stood at 2026-11-23T23:59:59Z" in output
    elif " history " in command:
        rows = [[cell.strip() for cell in line.strip("│ ").split("│")] for line in output.splitlines() if "│" in line]
        granted = ["2026-11-23T02:00:00Z", "2026-11-22T02:00:00Z", "U3HbG7UEFT2gVl26000003", "changed"]
        assert [*granted, "apiAccess", "DISABLED", "ENABLED"] in rows, output
        assert any(row[:4] == ["2026-11-22T02:00:00Z", "—", "U3HbG7UEFT2gVl26000003", "present"] for row in rows)
        assert both in output
    elif " query " in command:
        assert "2026-11-22T02:00:00" in output and "2026-11-23T02:00:00" in output
        assert both in output
    elif " export " in command:
        assert "Evidence pack of snapshot 2026-11-23T02:00:00Z in build/evidence-2026-11-23" in output
        assert (PROJECT_ROOT / "build" / "evidence-2026-11-23" / "report.html").is_file()
    elif " verify --pack " in command:
        assert output.splitlines()[-1].endswith("0 findings"), output
    else:
        raise AssertionError(f"no check for this README line: {command}")


def test_every_line_works_as_written_against_make_run_on_other_ports(
    make_run: MakeRun, environment: dict[str, str]
) -> None:
    for line in shell_lines():
        if command_of(line) in NOT_RUN_HERE:
            continue
        typed = line.replace(README_API, f"127.0.0.1:{make_run.api_port}")
        completed = run_line(typed, environment)

        assert completed.returncode == 0, f"{typed}\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
        assert "Traceback" not in completed.stdout + completed.stderr, typed
        check_output(line, completed, make_run)

    # The report the walkthrough wrote is the README's example, byte for byte.
    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{make_run.moto_port}",
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )
    example = re.findall(r"```json\n(.*?)```", section("### Access-review changes"), re.DOTALL)[0]
    key = "snapshots/2026/11/23/2026-11-23T02:00:00Z/changes.jsonl"
    assert s3.get_object(Bucket="finspace-users-snapshots", Key=key)["Body"].read().decode() == example


def test_help_of_make_run_is_the_command_the_readme_names(environment: dict[str, str]) -> None:
    (command,) = re.findall(r"`(\.venv/bin/python -m localdev\.run --help)`", section("## Two commands"))
    completed = run_line(command, environment)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: python -m localdev.run")
    for default in (API_PORT, EMULATOR_PORT, MOTO_PORT, 50, 42):
        assert f"(default: {default})" in completed.stdout


def test_ctrl_c_ends_make_run_within_2_s_with_one_line(make_run: MakeRun, environment: dict[str, str]) -> None:
    elapsed, after_banner = make_run.interrupt()

    assert elapsed < 2, elapsed
    assert "Traceback" not in after_banner
    last_lines = [line for line in after_banner.splitlines() if line.strip()]
    assert last_lines[-1] == "Stopped: the local stack is down."
    assert not [line for line in last_lines if line.startswith("make:")]
    assert not Path(environment["FINSPACE_USERS_LOCAL_STACK"]).exists()
