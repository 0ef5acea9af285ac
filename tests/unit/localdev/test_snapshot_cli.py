"""make snapshot never ignores an option silently; make changes (finspace-users changes) says what it needs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from localdev import snapshot
from localdev.harness.defaults import PROJECT_ROOT, RECORD_VARIABLE, REGION
from localdev.harness.stack import free_port
from localdev.harness.stack_record import RunningStack

TOOL = PROJECT_ROOT / ".venv" / "bin" / "finspace-users"
A_RUNNING_STACK = RunningStack(
    "http://127.0.0.1:3100", "http://127.0.0.1:9110", "http://127.0.0.1:9120", REGION, "b", "t", "k", 1
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


def make_changes(record: Path) -> subprocess.CompletedProcess[str]:
    """What `make changes` runs, `finspace-users changes`, in a shell with no AWS settings."""
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(record.parent), RECORD_VARIABLE: str(record)}
    return subprocess.run(  # noqa: S603 - our own console script
        [str(TOOL), "changes"], env=environment, capture_output=True, text=True, timeout=60, check=False
    )


def test_make_changes_with_no_stack_recorded_says_so_in_one_line(tmp_path: Path) -> None:
    completed = make_changes(tmp_path / "local-stack.json")

    assert completed.returncode == 2
    assert len(completed.stderr.strip().splitlines()) == 1
    assert "no local stack is running" in completed.stderr
    assert "local-stack.json is absent" in completed.stderr


def test_a_record_left_by_a_process_that_ended_is_no_running_stack(tmp_path: Path) -> None:
    """make run killed with SIGKILL leaves its record: nothing may use it."""
    ended = subprocess.run(  # noqa: S603 - a python that prints its pid and ends
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    record = tmp_path / "local-stack.json"
    record.write_text(json.dumps({**A_RUNNING_STACK.as_record(), "pid": int(ended.stdout)}))

    completed = make_changes(record)

    assert completed.returncode == 2
    assert f"names process {int(ended.stdout)}, which has ended" in completed.stderr


def test_make_changes_without_a_running_stack_says_how_to_get_one(tmp_path: Path) -> None:
    """A record of a live process whose S3 does not answer."""
    record = tmp_path / "local-stack.json"
    silent = f"http://127.0.0.1:{free_port()}"
    record.write_text(json.dumps({**A_RUNNING_STACK.as_record(), "motoUrl": silent, "pid": os.getpid()}))

    completed = make_changes(record)

    assert completed.returncode == 2
    assert f'Could not connect to the endpoint URL: "{silent}/"' in completed.stderr
    assert "Traceback" not in completed.stderr
