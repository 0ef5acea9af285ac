"""`sam local invoke` and `sam local start-api` on the x86_64 build, in containers, against
the local stack (the FinSpace emulator and moto) served on the engine's bridge gateway,
where the containers reach the host.

    python -m localdev.sam_local invoke GetUserFunction events/get_user.json
    python -m localdev.sam_local start-api --port 3001

It brings its own engine and image where it can (localdev/harness/containers.py and
sam.py), prints each
`sam` command it runs, and stops everything it started on exit. The tests run these
same commands.
"""

import json
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from localdev.harness.commands import DefaultsHelpFormatter, command_parser, run_interruptibly
from localdev.harness.defaults import SAM_API_PORT
from localdev.harness.template import functions

if TYPE_CHECKING:
    from localdev.harness.sam import SamLocal


def main() -> None:
    parser = command_parser("localdev.sam_local", __doc__)
    verbs = parser.add_subparsers(dest="verb", required=True, help="what to run in containers")
    invoke = verbs.add_parser(
        "invoke", formatter_class=DefaultsHelpFormatter, help="invoke one function with one event, like make invoke"
    )
    invoke.add_argument("function", choices=sorted(functions()), help="logical id in template.yaml")
    invoke.add_argument("event", type=Path, help="event JSON file, e.g. events/get_user.json")
    api = verbs.add_parser(
        "start-api", formatter_class=DefaultsHelpFormatter, help="SAM's local API on 127.0.0.1 until Ctrl-C"
    )
    api.add_argument("--port", type=int, default=SAM_API_PORT, help="port of SAM's local API")
    parser.add_argument("--users", type=int, default=50, help="seeded FinSpace users")
    args = parser.parse_args()
    if args.verb == "invoke" and not args.event.is_file():
        parser.error(f"no event file {args.event}")

    # Imported here, after run_interruptibly took Ctrl-C over: boto3 and moto take a second.
    from localdev.harness.containers import EngineUnavailableError
    from localdev.harness.sam import BuildFailedError, build_x86_64, sam_local

    try:
        build_x86_64()
        with sam_local(user_count=args.users) as local:
            if args.verb == "invoke":
                print(json.dumps(local.invoke(args.function, args.event), indent=2))
            else:
                serve_api(local, args.port)
    except (EngineUnavailableError, FileNotFoundError, BuildFailedError) as why:
        parser.exit(1, f"sam local cannot run here: {why}\n")


def serve_api(local: "SamLocal", port: int) -> None:
    with local.start_api(port=port) as url:
        first_user = local.stack.emulator.directory.user_at(0)["userId"]
        print(f"\nSAM's local API: {url}")
        print(f"  curl -s '{url}/users?maxResults=5'\n  curl -s '{url}/users/{first_user}'")
        print("Ctrl-C stops it, its containers, the stack and any engine started for it.", flush=True)
        # Until Ctrl-C: run_interruptibly prints the one line once all of it stopped.
        while True:
            signal.pause()


if __name__ == "__main__":
    run_interruptibly(main, "Stopped: sam local, its containers and the stack are down.")
