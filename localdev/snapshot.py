"""`make snapshot`: take an access-review snapshot against the local stack, with a
progress bar, and show its summary. Its metrics stay silent unless --metrics names a file.

Uses the stack of a running `make run` when there is one, else starts its own.
"""

import argparse
import contextlib
import json
import logging
import math
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from localdev import cli_description
from localdev.invoke import LocalFunction, load_env_vars
from localdev.stack import PROCESS_ENVIRONMENT, local_stack
from localdev.template import functions

RUNNING_FINSPACE = "http://127.0.0.1:9010"
RUNNING_MOTO = "http://127.0.0.1:9020"
PAGE_SIZE = 100


def _running_stack_answers() -> bool:
    try:
        return requests.get(f"{RUNNING_FINSPACE}/_emulator/directory", timeout=1).ok
    except requests.ConnectionError:
        return False


@contextmanager
def _stack(users: int, seed: int) -> Iterator[tuple[dict[str, Any], Callable[[], dict[str, Any]], str]]:
    """(env-vars, a function reading the emulator's call counts and size, a label)."""
    if _running_stack_answers():
        os.environ.update(PROCESS_ENVIRONMENT)
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = os.environ["AWS_ENDPOINT_URL_S3"] = RUNNING_MOTO

        def remote_state() -> dict[str, Any]:
            calls = requests.get(f"{RUNNING_FINSPACE}/_emulator/calls", timeout=5).json()
            directory = requests.get(f"{RUNNING_FINSPACE}/_emulator/directory", timeout=5).json()
            return {"ListUsers": calls.get("ListUsers", 0), "userCount": directory["userCount"]}

        yield load_env_vars(), remote_state, "the running `make run` stack"
        return
    with local_stack(user_count=users, seed=seed, finspace_port=0, moto_port=0) as stack:

        def local_state() -> dict[str, Any]:
            return {"ListUsers": stack.emulator.calls["ListUsers"], "userCount": len(stack.emulator.directory)}

        yield stack.env_vars, local_state, f"a stack of its own ({users} users)"


def main() -> None:
    parser = argparse.ArgumentParser(description=cli_description(__doc__))
    parser.add_argument(
        "--users", type=int, help="seeded users of the stack it starts (default 1000); not with a running stack"
    )
    parser.add_argument("--seed", type=int, help="seed of the stack it starts (default 42); not with a running stack")
    parser.add_argument(
        "--scheduled-time",
        default=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:00Z"),
        help="the tick to snapshot (default: this minute); the same tick twice is taken once",
    )
    parser.add_argument(
        "--metrics", type=Path, help="write the snapshot's metrics (CloudWatch EMF lines) to this file; else none"
    )
    args = parser.parse_args()
    if _running_stack_answers() and (args.users is not None or args.seed is not None):
        parser.error(
            "--users and --seed shape a stack that make snapshot starts itself, but a `make run` stack is "
            "running on 127.0.0.1:9010 and would be snapshotted as it is. Stop it, or drop those options."
        )
    # The progress bar and the summary are the output: no request or metric lines. The
    # function prints its metrics (EMF) on stdout, so the console keeps the terminal while
    # stdout goes to --metrics or nowhere.
    console = Console(file=sys.stdout)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if args.metrics is None:
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    users, seed = 1000 if args.users is None else args.users, 42 if args.seed is None else args.seed
    with (
        (args.metrics or Path(os.devnull)).open("w") as metrics_sink,
        contextlib.redirect_stdout(metrics_sink),
        _stack(users, seed) as (env_vars, state, label),
    ):
        env_vars["Parameters"]["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        console.print(f"Snapshot of tick {args.scheduled_time} against {label}")
        function = LocalFunction(functions()["ListUsersFunction"], env_vars)
        before = state()
        pages = max(math.ceil(before["userCount"] / PAGE_SIZE), 1)
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["summary"] = function.invoke({"action": "snapshot", "scheduledTime": args.scheduled_time})
            except Exception as error:  # shown to the user below
                outcome["error"] = error

        worker = threading.Thread(target=run)
        columns = (TextColumn("pages"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("pages", total=pages)
            worker.start()
            while worker.is_alive():
                progress.update(task, completed=min(state()["ListUsers"] - before["ListUsers"], pages))
                time.sleep(0.1)
            progress.update(task, completed=min(state()["ListUsers"] - before["ListUsers"], pages))
        worker.join()
        finspace_calls = state()["ListUsers"] - before["ListUsers"]

    if "error" in outcome:
        console.print(f"[red]Snapshot failed:[/red] {outcome['error']}")
        raise SystemExit(1)
    if finspace_calls == 0:
        console.print("This tick was already taken: here is its stored summary (no FinSpace call).")
    console.print_json(json.dumps(outcome["summary"]))


if __name__ == "__main__":
    main()
