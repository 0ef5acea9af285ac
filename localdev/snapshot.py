"""`make snapshot`: take an access-review snapshot against the local stack, with a
progress bar, and show its summary. Its metrics stay silent unless --metrics names a file.

It uses the running `make run` stack that build/local-stack.json records, whatever its
ports. With none, it says so and snapshots a throwaway stack of its own, which goes away
with the snapshot when it ends.
"""

import contextlib
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localdev.harness.commands import command_parser, quiet_server_logs, run_interruptibly
from localdev.harness.env_vars import load_env_vars
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack_record import NoRunningStackError, RunningStack, running_stack
from localdev.harness.template import functions

PAGE_SIZE = 100
DEFAULT_USERS = 1000
DEFAULT_SEED = 42


def running_or_none() -> tuple[RunningStack | None, str]:
    """The running stack, or None and why there is none."""
    try:
        return running_stack(), ""
    except NoRunningStackError as none:
        return None, str(none)


@contextmanager
def _stack(
    running: RunningStack | None, users: int, seed: int
) -> Iterator[tuple[dict[str, Any], Callable[[], dict[str, Any]], str]]:
    """(env-vars, a function reading the emulator's call counts and size, a label)."""
    # Here, not at the top: requests and moto are slow to import, and --help never needs them.
    import requests

    from localdev.harness.stack import local_stack

    if running is not None:
        os.environ.update(running.process_environment)

        def remote_state() -> dict[str, Any]:
            calls = requests.get(f"{running.finspace_url}/_emulator/calls", timeout=5).json()
            directory = requests.get(f"{running.finspace_url}/_emulator/directory", timeout=5).json()
            return {"ListUsers": calls.get("ListUsers", 0), "userCount": directory["userCount"]}

        yield running.env_vars(load_env_vars()), remote_state, f"the running `make run` stack ({running.finspace_url})"
        return
    with local_stack(user_count=users, seed=seed, finspace_port=0, moto_port=0) as stack:

        def local_state() -> dict[str, Any]:
            return {"ListUsers": stack.emulator.calls["ListUsers"], "userCount": len(stack.emulator.directory)}

        yield stack.env_vars, local_state, f"a throwaway stack of its own ({users} users)"


def main() -> None:
    parser = command_parser("localdev.snapshot", __doc__)
    parser.add_argument(
        "--users",
        type=int,
        help=f"seeded users of the throwaway stack it starts (default {DEFAULT_USERS}); not with a running stack",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help=f"seed of the throwaway stack it starts (default {DEFAULT_SEED}); not with a running one",
    )
    parser.add_argument(
        "--scheduled-time",
        default=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:00Z"),
        help="the tick to snapshot (default: this minute); the same tick twice is taken once",
    )
    parser.add_argument(
        "--metrics", type=Path, help="write the snapshot's metrics (CloudWatch EMF lines) to this file; else none"
    )
    args = parser.parse_args()
    running, why_none = running_or_none()
    if running is not None and (args.users is not None or args.seed is not None):
        parser.error(
            "--users and --seed shape a throwaway stack that make snapshot starts itself, but a `make run` stack "
            f"is running ({running.finspace_url}) and would be snapshotted as it is. Stop it, or drop those options."
        )
    # Here, not at the top: rich is slow to import, and --help and a refused option never need it.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # The progress bar and the summary are the output: no request or metric lines. The
    # function prints its metrics (EMF) on stdout, so the console keeps the terminal while
    # stdout goes to --metrics or nowhere.
    console = Console(file=sys.stdout)
    quiet_server_logs()
    if args.metrics is None:
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"

    users = DEFAULT_USERS if args.users is None else args.users
    seed = DEFAULT_SEED if args.seed is None else args.seed
    if running is None:
        console.print(
            f"{why_none[:1].upper()}{why_none[1:]}: snapshotting a throwaway stack of its own "
            f"({users} users, seed {seed}); the snapshot goes away with it. Start `make run` to keep snapshots."
        )
    with (
        (args.metrics or Path(os.devnull)).open("w") as metrics_sink,
        contextlib.redirect_stdout(metrics_sink),
        _stack(running, users, seed) as (env_vars, state, label),
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

        # A daemon: Ctrl-C ends the command at once, even while the walk still retries.
        worker = threading.Thread(target=run, daemon=True)
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
    run_interruptibly(main, "Interrupted: the snapshot was not finished.")
