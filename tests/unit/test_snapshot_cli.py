"""make snapshot never ignores an option silently; make changes says what it needs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from localdev import changes, snapshot
from localdev.running import RECORD_VARIABLE, RunningStack
from localdev.stack import free_port

A_RUNNING_STACK = RunningStack(
    "http://127.0.0.1:3100", "http://127.0.0.1:9110", "http://127.0.0.1:9120", "us-east-1", "b", "t", "k", 1
)


@pytest.mark.parametrize("options", [["--users", "10000"], ["--seed", "7"]])
def test_stack_options_are_refused_while_a_make_run_stack_answers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], options: list[str]
) -> None:
    monkeypatch.setattr(snapshot, "running_or_none", lambda: (A_RUNNING_STACK, ""))
    monkeypatch.setattr(sys, "argv", ["make snapshot", *options])

    with pytest.raises(SystemExit) as exited:
        snapshot.main()

    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "--users and --seed" in error
    assert "make run" in error
    assert "http://127.0.0.1:9110" in error  # the running stack's own port


def test_make_changes_with_no_stack_recorded_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv(RECORD_VARIABLE, str(tmp_path / "local-stack.json"))
    monkeypatch.setattr(sys, "argv", ["make changes"])

    with pytest.raises(SystemExit) as exited:
        changes.main()

    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1
    assert "no `make run` stack is running" in error
    assert "local-stack.json is absent" in error


def test_a_record_left_by_a_process_that_ended_is_no_running_stack(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """make run killed with SIGKILL leaves its record: nothing may use it."""
    ended = subprocess.run(  # noqa: S603 - a python that prints its pid and ends
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    record = tmp_path / "local-stack.json"
    record.write_text(json.dumps({**A_RUNNING_STACK.as_record(), "pid": int(ended.stdout)}))
    monkeypatch.setenv(RECORD_VARIABLE, str(record))
    monkeypatch.setattr(sys, "argv", ["make changes"])

    with pytest.raises(SystemExit) as exited:
        changes.main()

    assert exited.value.code == 1
    assert f"names process {int(ended.stdout)}, which has ended" in capsys.readouterr().err


def test_make_changes_without_a_running_stack_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["make changes", "--moto-url", f"http://127.0.0.1:{free_port()}"])

    with pytest.raises(SystemExit) as exited:
        changes.main()

    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert "make changes reads the snapshots of a running `make run` stack" in error
    assert "Traceback" not in error
