"""What the local tools print is what a user asked for: a snapshot's progress and summary
without metric blobs, an invoke's result and its function's own log lines, one clear line
for a bad argument, and --help texts with every sentence and option."""

import argparse
import importlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from localdev.harness.defaults import PROJECT_ROOT
from localdev.harness.template import functions
from tests.integration.local_commands import MakeRun, new_user_environment

CLIS = [
    "localdev.run",
    "localdev.snapshot",
    "localdev.invoke",
    "localdev.emulator",
    "localdev.openapi",
    "localdev.sam_local",
    "localdev.running",
    "benchmarks.run",
    "benchmarks.instructions",
]
# Named as users type them, not as run.py; benchmarks.run is not one of ours to rename.
OUR_CLIS = [module for module in CLIS if module != "benchmarks.run"]
INVOKE_RUNNING = ("localdev.invoke", "GetUserFunction", "events/get_user.json", "--running")


def run_module(
    *arguments: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own modules
        [sys.executable, "-m", *arguments],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
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
    says_throwaway, *function_lines = completed.stderr.splitlines()
    assert says_throwaway.startswith("A throwaway stack of its own (50 users) for this call, gone with it")
    log_lines = [json.loads(line) for line in function_lines]
    requests_logged = [line for line in log_lines if line.get("message") == "request"]
    assert len(requests_logged) == 1
    assert requests_logged[0]["function_memory_size"] == functions()["GetUserFunction"].memory_size_mb == 1024
    assert "No application metrics to publish" not in completed.stderr


def test_invoke_with_a_missing_event_file_says_so_in_one_line() -> None:
    completed = run_module("localdev.invoke", "GetUserFunction", "events/no-such-event.json")

    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "cannot read the event events/no-such-event.json" in completed.stderr.splitlines()[-1]


def test_invoke_running_finds_make_run_on_its_ports_with_no_aws_region_in_the_shell(tmp_path: Path) -> None:
    environment = new_user_environment(tmp_path / "local-stack.json")
    make_run = MakeRun(environment)
    try:
        completed = run_module(*INVOKE_RUNNING, env=environment, timeout=120)
        calls = requests.get(f"http://127.0.0.1:{make_run.finspace_port}/_emulator/calls", timeout=30).json()
    finally:
        make_run.stop()

    assert "AWS_REGION" not in environment
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["statusCode"] == 200, completed.stdout
    assert calls["GetUser"] >= 1  # make run's emulator, on its non-default port


def test_invoke_running_with_no_stack_says_so_in_one_line(tmp_path: Path) -> None:
    environment = new_user_environment(tmp_path / "local-stack.json")
    completed = run_module(*INVOKE_RUNNING, env=environment, timeout=120)

    assert completed.returncode == 1
    assert completed.stdout == ""
    assert len(completed.stderr.strip().splitlines()) == 1
    assert "no `make run` stack is running" in completed.stderr


def test_benchmarks_instructions_help_answers_at_once_and_runs_nothing() -> None:
    started = time.monotonic()
    completed = run_module("benchmarks.instructions", "--help")

    assert completed.returncode == 0, completed.stderr
    assert time.monotonic() - started < 20
    assert completed.stdout.startswith("usage: python -m benchmarks.instructions")
    assert "valgrind" in completed.stdout
    assert "…" not in completed.stdout  # no benchmark ran


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


@pytest.mark.parametrize("module_name", OUR_CLIS)
def test_usage_names_the_command_as_typed_and_help_shows_the_defaults(
    module_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parser = parser_of(module_name, monkeypatch)

    assert parser.prog == f"python -m {module_name}"
    for each in parsers_within(parser):
        shown = each.format_help()
        for action in each._actions:
            if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
                if "default" in (action.help or ""):
                    continue  # says it in words, as "(default: this minute)"
                assert f"(default: {action.default})" in shown, (
                    f"{module_name}: {action.option_strings} hides its default"
                )


def test_make_run_and_the_emulator_name_the_credential_option_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    def options(module_name: str) -> set[str]:
        return {name for action in parser_of(module_name, monkeypatch)._actions for name in action.option_strings}

    assert "--enforce-issued-credentials" in options("localdev.run") & options("localdev.emulator")


@pytest.mark.parametrize("module_name", CLIS)
def test_help_has_whole_sentences_and_every_option_explained(module_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    parser = parser_of(module_name, monkeypatch)

    assert parser.description and parser.description.rstrip().endswith((".", ")")), parser.description
    for each in parsers_within(parser):
        for action in each._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"{module_name}: {action.option_strings or action.dest} has no help"
