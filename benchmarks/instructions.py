"""`make bench-instructions`: cold starts counted in CPU instructions, which this noisy
machine cannot blur. Each handler runs once under valgrind's callgrind (about a minute
in all): the bare boto3 handler, the minimal Powertools handler and ours, serving the
same first request against the same emulator.

    python -m benchmarks.instructions
"""

import argparse
import json
import re
import shutil
import subprocess
import sys

from rich.console import Console
from rich.table import Table

from benchmarks.run import child_environment, compile_our_code, get_user_event, list_users_event
from localdev.harness.commands import DefaultsHelpFormatter, cli_description, quiet_server_logs
from localdev.harness.defaults import PROJECT_ROOT
from localdev.harness.stack import local_stack
from localdev.harness.template import functions

VALGRIND = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(mode: str, event: dict[str, object], environment: dict[str, str]) -> int:
    completed = subprocess.run(  # noqa: S603 - valgrind on our own module and arguments
        [*VALGRIND, sys.executable, "-m", "benchmarks.child", mode, json.dumps(event)],
        env=environment,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = COLLECTED.search(completed.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{completed.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    # No option yet, but --help answers (and says what a run does) instead of starting one.
    argparse.ArgumentParser(
        prog="python -m benchmarks.instructions",
        description=cli_description(__doc__),
        formatter_class=DefaultsHelpFormatter,
    ).parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    compile_our_code()
    console = Console(width=120)
    table = Table(title="cold start in CPU instructions (one run each; ratio against the bare handler)")
    for column in ("function", "bare boto3", "minimal Powertools", "ratio", "ours", "ratio"):
        table.add_column(column, justify="left" if column == "function" else "right")
    with local_stack(user_count=100, finspace_port=0, moto_port=0, moto_apart=True) as stack:
        quiet_server_logs()
        user_id = stack.emulator.directory.user_at(0)["userId"]
        cases = [
            ("GetUserFunction", "bare-get_user", get_user_event(user_id)),
            ("ListUsersFunction", "bare-list_users", list_users_event(7)),
        ]
        for function_name, bare_mode, event in cases:
            environment = child_environment(stack, function_name)
            console.print(f"{function_name}…")
            bare = instructions(bare_mode, event, environment)
            floor = instructions("powertools", event, environment)
            ours = instructions(str(functions()[function_name].code_dir), event, environment)
            table.add_row(
                function_name, f"{bare:,}", f"{floor:,}", f"{floor / bare:.3f}x", f"{ours:,}", f"{ours / bare:.3f}x"
            )
    console.print(table)


if __name__ == "__main__":
    main()
