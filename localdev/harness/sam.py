"""`sam local` on the x86_64 build, in containers, against a local stack served on the
engine's bridge gateway: the engine and image (containers.py), the stack, and each `sam`
process, which Ctrl-C stops within 2 s with every container it made. localdev/sam_local.py
is its command.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from localdev.harness.containers import CONTAINERS_DIR, bridge_gateway, container_engine, docker, lambda_python_image
from localdev.harness.defaults import PROJECT_ROOT
from localdev.harness.stack import LocalStack, free_port, http_answers, local_stack, wait_until_ready

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


# After Ctrl-C, sam has this long to stop its containers itself; then it is killed and
# they are removed by force. Ctrl-C ends every command within 2 s (issue #21).
STOP_GRACE_SECONDS = 0.5
CONTAINER_ID_LINE = "SAM_CONTAINER_ID: "  # sam logs each container it creates so


class ChildSession:
    """A child command (`sam local`, or the make that builds for it) in a session of its
    own, so that the terminal's Ctrl-C reaches only this process, which then stops it once,
    and its containers: a second SIGINT would cut sam's own clean-up short. Its output
    passes through until then (stdout is kept instead where asked); the containers it says
    it created are noted."""

    def __init__(
        self, command: list[str], environment: dict[str, str], keep_stdout: bool = False, whole_group: bool = False
    ) -> None:
        print("$", " ".join(command), file=sys.stderr, flush=True)
        self.process = subprocess.Popen(  # noqa: S603 - SAM CLI with our own arguments
            command,
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        # make's children (sam build) need the SIGINT a terminal sends them; sam's own
        # (docker) must not get it, or its clean-up is cut short.
        self.whole_group = whole_group
        self.container_ids: list[str] = []
        self.stdout: list[str] = []
        self._stopping = threading.Event()
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._pass_on, args=(self.process.stdout, None if keep_stdout else sys.stdout)),
            threading.Thread(target=self._pass_on, args=(self.process.stderr, sys.stderr)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    def _pass_on(self, source: IO[str], target: IO[str] | None) -> None:
        for line in source:
            if line.startswith(CONTAINER_ID_LINE):
                self.container_ids.append(line.removeprefix(CONTAINER_ID_LINE).strip())
            if target is None:
                self.stdout.append(line)
            elif not self._stopping.is_set():
                # Once stopping, sam's goodbyes ("Aborted!", its next-command hints) are not
                # the user's business: the command prints its own one line.
                target.write(line)
                target.flush()

    def wait(self) -> int:
        """Its exit status, once it ended and its output was read."""
        # Its output ends as it does. Joining those first spares Ctrl-C the 0.25 s that
        # Popen.wait grants a child before it lets a KeyboardInterrupt through.
        for reader in self._readers:
            reader.join()
        return self.process.wait()

    def stop(self, docker_env: dict[str, str]) -> None:
        """Stop it as Ctrl-C would, and every container it created, within about
        STOP_GRACE_SECONDS: then by force (SIGKILL, `docker rm --force`)."""
        self._stopping.set()
        if self.process.poll() is None:
            if self.whole_group:
                os.killpg(self.process.pid, signal.SIGINT)
            else:
                self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for reader in self._readers:
            reader.join(timeout=1)
        remove_build_locks_of(self.process.pid)
        if self.container_ids:
            # Those sam removed already are "No such container": nothing to do.
            with contextlib.suppress(subprocess.TimeoutExpired):
                docker(docker_env, "rm", "--force", *self.container_ids, timeout=5)


def remove_build_locks_of(pid: int) -> None:
    """sam locks each image build it starts with a file in the temp directory that names
    its pid, and releases it only if the build ends or raises an Exception: a Ctrl-C
    (KeyboardInterrupt) or a kill mid-build leaves it, and every later sam waits 5
    minutes for it ("Another process is building the same image")."""
    for lock in Path(tempfile.gettempdir()).glob("*.building.lock"):
        with contextlib.suppress(OSError):
            if lock.read_text().split("\n", 1)[0].strip() == str(pid):
                lock.with_suffix(".status").unlink(missing_ok=True)
                lock.unlink()


class BuildFailedError(Exception):
    """`make build-x86_64` failed; its output says why."""


def build_x86_64() -> None:
    """`make build-x86_64`, what sam local runs: a Ctrl-C during it ends it as any other
    (without sam's "Aborted!" and make's "*** Interrupt" lines)."""
    make = ChildSession(["make", "--no-print-directory", "build-x86_64"], dict(os.environ), whole_group=True)
    try:
        status = make.wait()
    except BaseException:
        make.stop({})
        raise
    if status != 0:
        raise BuildFailedError(f"make build-x86_64 exited {status}")


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

    def _sam(self, verb: str, *args: str, keep_stdout: bool = False) -> ChildSession:
        # Written for each command: another sam_local of this checkout (a test's, another
        # terminal's) may have written its own stack's endpoints there since.
        ENV_VARS_PATH.parent.mkdir(parents=True, exist_ok=True)
        ENV_VARS_PATH.write_text(json.dumps(self.stack.env_vars, indent=2))
        return ChildSession(sam_command(verb, *args, image=self.image), self.environment, keep_stdout)

    def invoke(self, function: str, event_path: Path) -> Any:
        """The function's payload; its logs go to this process's stderr."""
        event = os.path.relpath(event_path.resolve(), PROJECT_ROOT)
        sam = self._sam("invoke", function, "--event", event, keep_stdout=True)
        try:
            status = sam.wait()
        except BaseException:
            sam.stop(self.docker_env)
            raise
        if status != 0:
            raise RuntimeError(f"sam local invoke {function} exited {status}")
        return json.loads("".join(sam.stdout).strip().splitlines()[-1])

    @contextmanager
    def start_api(self, port: int = 0, timeout: float = 120) -> Iterator[str]:
        """SAM's own local API on 127.0.0.1; yields its URL once it answers."""
        port = port or free_port()
        sam = self._sam("start-api", "--host", "127.0.0.1", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_ready(lambda: http_answers(url), sam.process, timeout, f"sam local start-api on {url}")
            yield url
        finally:
            sam.stop(self.docker_env)


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
            yield SamLocal(stack, docker_env, image)
