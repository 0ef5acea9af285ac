"""make snapshot never ignores an option silently; make changes says what it needs."""

import sys

import pytest

from localdev import changes, snapshot
from localdev.stack import free_port


@pytest.mark.parametrize("options", [["--users", "10000"], ["--seed", "7"]])
def test_stack_options_are_refused_while_a_make_run_stack_answers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], options: list[str]
) -> None:
    monkeypatch.setattr(snapshot, "_running_stack_answers", lambda: True)
    monkeypatch.setattr(sys, "argv", ["make snapshot", *options])

    with pytest.raises(SystemExit) as exited:
        snapshot.main()

    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "--users and --seed" in error
    assert "make run" in error


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
