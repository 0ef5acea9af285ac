"""`sam local invoke` and `sam local start-api` on the x86_64 build, in containers, against
the local stack (the FinSpace emulator and moto) served on the engine's bridge gateway,
where the containers reach the host.

    python -m localdev.sam_local invoke GetUserFunction events/get_user.json
    python -m localdev.sam_local start-api --port 3001

It brings its own engine and image where it can (localdev/containers.py), prints each
`sam` command it runs, and stops everything it started on exit. The tests run these
same commands.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdev import DefaultsHelpFormatter, command_parser, run_interruptibly
from localdev.containers import (
    CONTAINERS_DIR,
    EngineUnavailableError,
    bridge_gateway,
    container_engine,
    lambda_python_image,
)
from localdev.stack import LocalStack, free_port, http_answers, local_stack, wait_until_ready
from localdev.template import PROJECT_ROOT, functions

SAM = ".venv-sam/bin/sam"  # every path here is relative to the project root, where sam runs
ARCHITECTURE = "x86_64"  # the machines here are x86_64; arm64 would need qemu/binfmt
BUILD_DIR = f".aws-sam/build-{ARCHITECTURE}"
ENV_VARS_PATH = CONTAINERS_DIR / "env.json"


def sam_command(verb: str, *args: str, image: str) -> list[str]:
    """`sam local VERB` on the x86_64 build, with the given Lambda image."""
    return [
        SAM,
        "local",
        verb,
        *args,
        "--template",
        f"{BUILD_DIR}/template.yaml",
        # The built template keeps the parameter's default (arm64): say it again.
        "--parameter-overrides",
        f"Architecture={ARCHITECTURE}",
        "--env-vars",
        ENV_VARS_PATH.relative_to(PROJECT_ROOT).as_posix(),
        "--invoke-image",
        image,
        "--skip-pull-image",
    ]


@dataclass
class SamLocal:
    stack: LocalStack
    docker_env: dict[str, str]
    image: str

    @property
    def environment(self) -> dict[str, str]:
        """The caller's environment with the stack's (testing credentials, region), the
        engine's and no telemetry. SAM hands the credentials to the container."""
        return {**os.environ, **self.docker_env, "SAM_CLI_TELEMETRY": "0"}

    def invoke(self, function: str, event_path: Path) -> Any:
        """The function's payload; its logs go to this process's stderr."""
        event = os.path.relpath(event_path.resolve(), PROJECT_ROOT)
        command = sam_command("invoke", function, "--event", event, image=self.image)
        print("$", " ".join(command), file=sys.stderr, flush=True)
        completed = subprocess.run(  # noqa: S603 - SAM CLI with our own arguments
            command, cwd=PROJECT_ROOT, env=self.environment, stdout=subprocess.PIPE, text=True, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(f"sam local invoke {function} exited {completed.returncode}")
        return json.loads(completed.stdout.strip().splitlines()[-1])

    @contextmanager
    def start_api(self, port: int = 0, timeout: float = 120) -> Iterator[str]:
        """SAM's own local API on 127.0.0.1; yields its URL once it answers."""
        port = port or free_port()
        command = sam_command("start-api", "--host", "127.0.0.1", "--port", str(port), image=self.image)
        print("$", " ".join(command), file=sys.stderr, flush=True)
        api = subprocess.Popen(command, cwd=PROJECT_ROOT, env=self.environment, start_new_session=True)  # noqa: S603
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_ready(lambda: http_answers(url), api, timeout, f"sam local start-api on {url}")
            yield url
        finally:
            # SAM stops its containers on SIGINT, as on Ctrl-C.
            api.send_signal(signal.SIGINT)
            try:
                api.wait(timeout=60)
            except subprocess.TimeoutExpired:
                api.kill()
                api.wait()


@contextmanager
def sam_local(user_count: int = 50) -> Iterator[SamLocal]:
    """Engine, image and the local stack on the bridge gateway; stops them on exit.
    Raises containers.EngineUnavailableError where no engine or image can be had."""
    if not (PROJECT_ROOT / BUILD_DIR / "template.yaml").exists():
        raise FileNotFoundError(f"no {BUILD_DIR}: run `make build-x86_64` first")
    with container_engine() as docker_env:
        image = lambda_python_image(docker_env)
        gateway = bridge_gateway(docker_env)
        # moto apart: its own process, as in AWS, and never the emulator's GIL.
        with local_stack(user_count=user_count, finspace_port=0, moto_port=0, host=gateway, moto_apart=True) as stack:
            ENV_VARS_PATH.parent.mkdir(parents=True, exist_ok=True)
            ENV_VARS_PATH.write_text(json.dumps(stack.env_vars, indent=2))
            yield SamLocal(stack, docker_env, image)


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
    api.add_argument("--port", type=int, default=3001, help="port of SAM's local API")
    parser.add_argument("--users", type=int, default=50, help="seeded FinSpace users")
    args = parser.parse_args()
    if args.verb == "invoke" and not args.event.is_file():
        parser.error(f"no event file {args.event}")

    try:
        with sam_local(user_count=args.users) as local:
            if args.verb == "invoke":
                print(json.dumps(local.invoke(args.function, args.event), indent=2))
            else:
                serve_api(local, args.port)
    except (EngineUnavailableError, FileNotFoundError) as why:
        parser.exit(1, f"sam local cannot run here: {why}\n")


def serve_api(local: SamLocal, port: int) -> None:
    with local.start_api(port=port) as url:
        first_user = local.stack.emulator.directory.user_at(0)["userId"]
        print(f"\nSAM's local API: {url}")
        print(f"  curl -s '{url}/users?maxResults=5'\n  curl -s '{url}/users/{first_user}'")
        print("Ctrl-C stops it, its containers, the stack and any engine started for it.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    run_interruptibly(main, "Stopped: sam local, its containers and the stack are down.")
