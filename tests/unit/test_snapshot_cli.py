"""make snapshot never ignores an option silently."""

import sys

import pytest

from localdev import snapshot


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
