"""`make run`: the emulator, moto and the API front on 127.0.0.1, until Ctrl-C. It records
where they listen in build/local-stack.json, where every other local command finds them.

Options go through RUN_ARGS, e.g. make run RUN_ARGS="--users 1000 --port 3100".
"""

import os
import socket

from localdev.harness.commands import command_parser, quiet_server_logs, run_interruptibly
from localdev.harness.defaults import ACCESS_KEY_ID, API_PORT, EMULATOR_PORT, HOST, MOTO_PORT, REGION, SECRET_ACCESS_KEY
from localdev.harness.directory import add_directory_options


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


def main() -> None:
    parser = command_parser("localdev.run", __doc__)
    parser.add_argument("--port", type=int, default=API_PORT, help="API front port")
    parser.add_argument("--finspace-port", type=int, default=EMULATOR_PORT, help="FinSpace emulator port")
    parser.add_argument("--moto-port", type=int, default=MOTO_PORT, help="moto (DynamoDB, S3 and KMS) port")
    add_directory_options(parser)
    parser.add_argument(
        # The emulator's name for it; --enforce-credentials is the name it had before.
        "--enforce-issued-credentials",
        "--enforce-credentials",
        action="store_true",
        help="FinSpace credential exchange on: the emulator accepts only keys it issued",
    )
    parser.add_argument(
        "--no-auth",
        action="store_true",
        help="serve unsigned requests too (API Gateway's AWS_IAM check off); never what AWS does",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="the functions' own log level; INFO adds each request's JSON log line and metrics (EMF), as in Lambda",
    )
    args = parser.parse_args()
    for name, port, option in (
        ("the API front", args.port, "--port"),
        ("the FinSpace emulator", args.finspace_port, "--finspace-port"),
        ("moto", args.moto_port, "--moto-port"),
    ):
        if not port_is_free(port):
            parser.exit(
                1,
                f"Port {port} ({name}) is in use, perhaps by another `make run`: stop it, or move {name} "
                f'with RUN_ARGS="{option} <port>".\n',
            )
    # Imported here, after Ctrl-C is ours, and not for --help: moto and werkzeug are slow
    # to import, and an interrupted start-up then ends in one line.
    from localdev.harness.front import CallerKey, LocalApi, front_server
    from localdev.harness.lambda_runtime import load_functions
    from localdev.harness.stack import local_stack, recorded
    from localdev.harness.stack_record import record_path, shown_path

    # Read before the stack sets the functions' own (role) credentials in this process.
    from_shell = "AWS_SECRET_ACCESS_KEY" in os.environ
    caller_key = CallerKey(
        os.environ.get("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
        os.environ.get("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
        os.environ.get("AWS_REGION", REGION),
    )
    # One short line per request from the front; no server lines of moto or the emulator.
    quiet_server_logs()

    with local_stack(
        user_count=args.users, seed=args.seed, finspace_port=args.finspace_port, moto_port=args.moto_port
    ) as stack:
        env_vars = stack.env_vars
        env_vars["Parameters"]["POWERTOOLS_LOG_LEVEL"] = args.log_level
        if args.log_level not in ("DEBUG", "INFO"):
            # Nor each request's metric blob (EMF); --log-level INFO shows both, as Lambda logs them.
            os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        if args.enforce_issued_credentials:
            stack.emulator.enforce_issued_credentials = True
            env_vars["Parameters"]["FINSPACE_ENVIRONMENT_ID"] = "local-environment"
        front = LocalApi(load_functions(env_vars), None if args.no_auth else caller_key)
        api = front_server(front, args.port, access_log=True)
        base = f"http://{HOST}:{args.port}"
        first_user = stack.emulator.directory.user_at(0)["userId"]
        if args.no_auth:
            sign = ""
            auth_banner = (
                "!! --no-auth: requests are NOT checked for a SigV4 signature. API Gateway (AWS_IAM)\n"
                "!! refuses every unsigned request in AWS: do not rely on this mode.\n"
            )
        else:
            # A real secret from this shell's environment is named, never printed.
            secret = "$AWS_SECRET_ACCESS_KEY" if from_shell else caller_key.secret_key
            sign = f' --aws-sigv4 "aws:amz:{caller_key.region}:execute-api" --user "{caller_key.access_key}:{secret}"'
            auth_banner = (
                "SigV4 required, as API Gateway's AWS_IAM requires it: service execute-api, "
                f"region {caller_key.region},\naccess key {caller_key.access_key}, secret {secret} "
                "(this shell's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else testing/testing).\n"
                "Unsigned or badly signed requests get 403 forbidden; --no-auth turns the check off.\n"
            )
        with recorded(stack, base):
            print(
                f"""
finspace-users is running locally ({args.users} seeded users, seed {args.seed}):
  API front          {base}
  FinSpace emulator  {stack.finspace_url}
  moto (DynamoDB/S3) {stack.moto_url}
(recorded in {shown_path(record_path())}, where make snapshot, make changes
and make invoke INVOKE_ARGS=--running find them)

{auth_banner}
Try:
  curl -s{sign} '{base}/users?maxResults=5'
  curl -s{sign} '{base}/users/{first_user}'
  curl -s{sign} '{base}/users/no-such-user'
  curl -s{sign} '{base}/users?maxResults=500'

Ctrl-C stops everything.
""",
                flush=True,
            )
            # Returns at Ctrl-C (werkzeug's serve_forever swallows the KeyboardInterrupt).
            api.serve_forever()
            raise KeyboardInterrupt


if __name__ == "__main__":
    run_interruptibly(main, "Stopped: the local stack is down.")
