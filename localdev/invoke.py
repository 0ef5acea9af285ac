"""Run a function of template.yaml in this process, as `sam local invoke` would in a
container: the handler and environment come from the template, the layers' code from
this checkout, and template values that need AWS come from an env-vars file in
`sam local`'s format (``{"Parameters": {...}, "<LogicalId>": {...}}``).

    python -m localdev.invoke GetUserFunction events/get_user.json

It starts a throwaway emulator and moto of its own for the call, and says so; with
--running it uses the running `make run` stack that build/local-stack.json records.
"""

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from localdev.harness.commands import command_parser, quiet_server_logs, run_interruptibly
from localdev.harness.env_vars import load_env_vars
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack_record import NoRunningStackError, running_stack
from localdev.harness.template import functions


@contextmanager
def _stack_for_one_invoke(user_count: int) -> Iterator[dict[str, Any]]:
    # Here, not at the top: moto's import is slow, and --help and --running never need it.
    from localdev.harness.stack import local_stack

    with local_stack(user_count=user_count, finspace_port=0, moto_port=0) as stack:
        yield stack.env_vars


def main() -> None:
    parser = command_parser("localdev.invoke", __doc__)
    parser.add_argument("function", help="logical id in template.yaml, e.g. GetUserFunction")
    parser.add_argument("event", type=Path, help="event JSON file, e.g. events/get_user.json")
    parser.add_argument(
        "--running",
        action="store_true",
        help="use the running `make run` stack (build/local-stack.json) instead of a throwaway one",
    )
    args = parser.parse_args()
    specs = functions()
    if args.function not in specs:
        parser.error(f"no function {args.function!r} in template.yaml; choose from {', '.join(specs)}")
    try:
        event = json.loads(args.event.read_text())
    except (OSError, ValueError) as unreadable:
        parser.error(f"cannot read the event {args.event}: {unreadable}")
    if args.running:
        try:
            running = running_stack()
        except NoRunningStackError as none:
            parser.exit(1, f"--running: {none}. Start `make run`, or drop --running for a throwaway stack.\n")
    else:
        print(
            "A throwaway stack of its own (50 users) for this call, gone with it; --running uses make run's.",
            file=sys.stderr,
        )
    # The function's own log lines only.
    quiet_server_logs()
    # Like `sam local invoke`: the function's logs on stderr, its result on stdout.
    with contextlib.redirect_stdout(sys.stderr):
        if args.running:
            # What the Lambda runtime and the stack provide: the region, the role's key,
            # the endpoints.
            os.environ.update(running.process_environment)
            result = LocalFunction(specs[args.function], running.env_vars(load_env_vars())).invoke(event)
        else:
            with _stack_for_one_invoke(user_count=50) as env_vars:
                result = LocalFunction(specs[args.function], env_vars).invoke(event)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    run_interruptibly(main, "Interrupted.")
