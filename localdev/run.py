"""`make run`: the emulator, moto and the API front on 127.0.0.1, until Ctrl-C."""

import argparse
import logging
import signal
from types import FrameType

from werkzeug.serving import make_server

from localdev.front import LocalApi
from localdev.invoke import load_functions
from localdev.stack import local_stack


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=3000, help="API front port")
    parser.add_argument("--users", type=int, default=50, help="seeded FinSpace users")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--enforce-credentials",
        action="store_true",
        help="FinSpace credential exchange on: the emulator accepts only keys it issued",
    )
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Ctrl-C, and `kill` from a supervisor, both end in the same clean shutdown.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    with local_stack(user_count=args.users, seed=args.seed) as stack:
        env_vars = stack.env_vars
        if args.enforce_credentials:
            stack.emulator.enforce_issued_credentials = True
            env_vars["Parameters"]["FINSPACE_ENVIRONMENT_ID"] = "local-environment"
        api = make_server("127.0.0.1", args.port, LocalApi(load_functions(env_vars)), threaded=True)
        base = f"http://127.0.0.1:{args.port}"
        first_user = stack.emulator.directory.user_at(0)["userId"]
        print(
            f"""
finspace-users is running locally ({args.users} seeded users, seed {args.seed}):
  API front          {base}
  FinSpace emulator  {stack.finspace_url}
  moto (DynamoDB/S3) {stack.moto_url}

Try:
  curl -s '{base}/users?maxResults=5'
  curl -s '{base}/users/{first_user}'
  curl -s '{base}/users/no-such-user'
  curl -s '{base}/users?maxResults=500'

Ctrl-C stops everything.
""",
            flush=True,
        )
        try:
            api.serve_forever()
        except KeyboardInterrupt:
            print("\nStopping.", flush=True)
        finally:
            api.server_close()


if __name__ == "__main__":
    main()
