"""A FinSpace Data API emulator that boto3 1.43.116 cannot tell from the real thing
for GetUser, ListUsers and GetProgrammaticAccessCredentials.

    python -m localdev.emulator --port 9010

serves it alone until Ctrl-C: the server of localdev/harness/finspace_emulator.py, whose
docstring describes its checks, fault knobs and `/_emulator/` routes.
"""

from werkzeug.serving import make_server

from localdev.harness.commands import command_parser, run_interruptibly
from localdev.harness.defaults import EMULATOR_PORT, HOST
from localdev.harness.directory import add_directory_options
from localdev.harness.finspace_emulator import FinSpaceEmulator


def main() -> None:
    parser = command_parser("localdev.emulator", __doc__)
    parser.add_argument("--host", default=HOST, help="address to listen on")
    parser.add_argument("--port", type=int, default=EMULATOR_PORT, help="port to listen on")
    add_directory_options(parser)
    parser.add_argument(
        "--enforce-issued-credentials",
        action="store_true",
        help="accept data calls only when signed with a live key issued by GetProgrammaticAccessCredentials",
    )
    args = parser.parse_args()
    emulator = FinSpaceEmulator(args.users, args.seed, enforce_issued_credentials=args.enforce_issued_credentials)
    print(f"FinSpace Data emulator with {args.users} users on http://{args.host}:{args.port}", flush=True)
    # Returns at Ctrl-C (werkzeug's serve_forever swallows the KeyboardInterrupt).
    make_server(args.host, args.port, emulator, threaded=True).serve_forever()
    raise KeyboardInterrupt  # so that run_interruptibly prints its one line


if __name__ == "__main__":
    run_interruptibly(main, "Stopped: the FinSpace Data emulator.")
