"""Ctrl-C (SIGINT to the process group, as a terminal sends it) ends every local command
within 2 s, with one line and no traceback (issue #21): make run, also during its
start-up, make snapshot mid-walk, make changes, and the emulator served alone."""

import json
import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.harness.defaults import REGION
from tests.integration.local_commands import (
    BANNER_END,
    ctrl_c,
    new_user_environment,
    non_default_ports,
    printed_lines,
    shell,
)

LIMIT_SECONDS = 2


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield new_user_environment(tmp_path / "local-stack.json")


def wait_for(process_output: Iterator[str], text: str, timeout: float = 120) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    for line in process_output:
        seen += line
        if text in line or time.monotonic() > deadline:
            break
    assert text in seen, seen
    return seen


def test_ctrl_c_during_make_runs_start_up(environment: dict[str, str]) -> None:
    api, finspace, moto = non_default_ports()
    process = shell(f'make run RUN_ARGS="--port {api} --finspace-port {finspace} --moto-port {moto}"', environment)
    assert process.stdout is not None
    echoed = process.stdout.readline()  # make's echo of the command it starts
    time.sleep(0.3)  # python is importing and starting moto: its banner comes about 0.9 s in

    elapsed, output = ctrl_c(process)

    assert "localdev.run" in echoed
    assert elapsed < LIMIT_SECONDS, elapsed
    assert BANNER_END not in output
    assert "Traceback" not in output
    assert printed_lines(output)[-1] == "Stopped: the local stack is down.", output
    assert not [line for line in printed_lines(output) if line.startswith("make:")], output
    assert not Path(environment["FINSPACE_USERS_LOCAL_STACK"]).exists()


def test_ctrl_c_during_a_snapshot_of_10000_users(environment: dict[str, str]) -> None:
    process = shell("make snapshot SNAPSHOT_ARGS='--users 10000 --scheduled-time 2026-11-23T02:00:00Z'", environment)
    assert process.stdout is not None
    before = wait_for(iter(process.stdout.readline, ""), "Snapshot of tick")
    time.sleep(0.3)  # the walk is under way: it takes about 2 s

    elapsed, output = ctrl_c(process)

    assert elapsed < LIMIT_SECONDS, elapsed
    assert "throwaway stack" in before
    assert "Traceback" not in before + output
    assert printed_lines(output)[-1] == "Interrupted: the snapshot was not finished.", output
    assert not [line for line in printed_lines(output) if line.startswith("make:")], output


def test_ctrl_c_during_make_changes(environment: dict[str, str]) -> None:
    """Against a stack whose S3 takes the connection and never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        record: dict[str, object] = {"apiUrl": url, "finspaceUrl": url, "motoUrl": url, "region": REGION}
        record |= {"bucket": "finspace-users-snapshots", "table": "t", "signingKeyId": "k", "pid": os.getpid()}
        Path(environment["FINSPACE_USERS_LOCAL_STACK"]).write_text(json.dumps(record))
        process = shell("make changes", environment)
        time.sleep(2.5)  # started, and waiting for S3

        elapsed, output = ctrl_c(process)

    assert elapsed < LIMIT_SECONDS, elapsed
    assert "Traceback" not in output
    assert printed_lines(output)[-1] == "finspace-users changes: interrupted", output
    assert not [line for line in printed_lines(output) if re.match(r"make: \*\*\*", line)], output


def test_ctrl_c_ends_the_emulator_served_alone(environment: dict[str, str]) -> None:
    _, finspace, _ = non_default_ports()
    process = shell(f".venv/bin/python -m localdev.emulator --port {finspace}", environment)
    assert process.stdout is not None
    wait_for(iter(process.stdout.readline, ""), "FinSpace Data emulator with")

    elapsed, output = ctrl_c(process)

    assert elapsed < LIMIT_SECONDS, elapsed
    assert "Traceback" not in output
    assert printed_lines(output)[-1] == "Stopped: the FinSpace Data emulator.", output
