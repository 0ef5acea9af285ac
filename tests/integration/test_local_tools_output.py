"""What the local tools print is what a user asked for: a snapshot's progress and summary
without metric blobs, an invoke's result and its function's own log lines, one clear line
for a bad argument, and --help texts with every sentence and option."""

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from localdev.template import PROJECT_ROOT, functions

CLIS = [
    "localdev.run",
    "localdev.snapshot",
    "localdev.changes",
    "localdev.invoke",
    "localdev.emulator",
    "localdev.openapi",
    "localdev.sam_local",
    "benchmarks.run",
]


def run_module(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own modules
        [sys.executable, "-m", *arguments], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_snapshot_prints_no_metric_blobs_unless_asked_to_write_them(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.emf"
    # 250 pages: Powertools flushes its metrics every 100 values, mid-walk.
    quiet = run_module("localdev.snapshot", "--users", "25000", "--scheduled-time", "2026-11-20T02:00:00Z")
    written = run_module(
        "localdev.snapshot", "--users", "25000", "--scheduled-time", "2026-11-21T02:00:00Z", "--metrics", str(metrics)
    )

    assert quiet.returncode == written.returncode == 0, quiet.stderr + written.stderr
    assert '"_aws"' not in quiet.stdout + quiet.stderr
    assert '"_aws"' not in written.stdout + written.stderr
    emf = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert emf and all("_aws" in blob for blob in emf)


def test_invoke_prints_the_result_and_only_the_functions_own_log_lines() -> None:
    completed = run_module("localdev.invoke", "GetUserFunction", "events/get_user.json")

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["statusCode"] == 200
    log_lines = [json.loads(line) for line in completed.stderr.splitlines()]
    requests_logged = [line for line in log_lines if line.get("message") == "request"]
    assert len(requests_logged) == 1
    assert requests_logged[0]["function_memory_size"] == functions()["GetUserFunction"].memory_size_mb == 1024
    assert "No application metrics to publish" not in completed.stderr


def test_invoke_with_a_missing_event_file_says_so_in_one_line() -> None:
    completed = run_module("localdev.invoke", "GetUserFunction", "events/no-such-event.json")

    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "cannot read the event events/no-such-event.json" in completed.stderr.splitlines()[-1]


class _ParserCapturedError(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def parser_of(module_name: str, monkeypatch: pytest.MonkeyPatch) -> argparse.ArgumentParser:
    def capture(parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        raise _ParserCapturedError(parser)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(_ParserCapturedError) as parsed:
        importlib.import_module(module_name).main()
    return parsed.value.parser


def parsers_within(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    nested = [
        subparser
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for subparser in action.choices.values()
    ]
    return [parser, *nested]


@pytest.mark.parametrize("module_name", CLIS)
def test_help_has_whole_sentences_and_every_option_explained(module_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    parser = parser_of(module_name, monkeypatch)

    assert parser.description and parser.description.rstrip().endswith((".", ")")), parser.description
    for each in parsers_within(parser):
        for action in each._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"{module_name}: {action.option_strings or action.dest} has no help"
