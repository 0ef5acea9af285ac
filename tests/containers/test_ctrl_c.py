"""Ctrl-C ends `make sam-invoke` and `make sam-api` within 2 s (issue #21), typed as a user
types them: through make, in a session of its own, SIGINT to its process group as a
terminal sends it, also during the build they run first. Each ends with one line and no
traceback, and leaves nothing behind: no container, no process of its own (sam included,
in whatever session it runs), nothing listening on the stack's ports or on SAM's.

The engine and the image are the package's (conftest.py): DOCKER_HOST names that engine,
so the commands start none of their own."""

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from localdev.harness.containers import docker
from localdev.harness.defaults import PROJECT_ROOT, SAM_API_PORT  # make sam-api passes no other
from localdev.harness.sam import SamLocal
from tests.integration.local_commands import new_user_environment, printed_lines, shell

LIMIT_SECONDS = 2
STOPPED = "Stopped: sam local, its containers and the stack are down."
MARKER = "FINSPACE_USERS_CTRL_C_RUN"  # in the environment of every process a command starts
# Lines a command prints as it stops: exactly one of them may appear.
STOPPING_WORDS = ("stopped", "interrupted", "aborted", "cancelled", "terminated", "shutting down")


@dataclass
class Typed:
    """A make command as a user types it, its output (stdout and stderr) read as it comes."""

    process: subprocess.Popen[str]
    lines: "queue.Queue[str | None]"
    seen: list[str]

    @classmethod
    def start(cls, command: str, environment: dict[str, str]) -> "Typed":
        typed = cls(shell(command, environment), queue.Queue(), [])
        threading.Thread(target=typed._read, daemon=True).start()
        return typed

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float = 240) -> str:
        """The first line (from here on) that holds text."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {timeout} s:\n{''.join(self.seen)}") from None
            if line is None:
                raise AssertionError(f"it ended before {text!r}:\n{''.join(self.seen)}")
            self.seen.append(line)
            if text in line:
                return line

    def ctrl_c(self, timeout: float = 30) -> tuple[float, str]:
        """SIGINT to its process group, as a terminal's Ctrl-C; (seconds until make exited
        and every process holding its output had closed it, what it printed after)."""
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)
        rest = []
        while (line := self.lines.get(timeout=max(started + timeout - time.monotonic(), 0.01))) is not None:
            rest.append(line)
        self.process.wait(timeout=max(started + timeout - time.monotonic(), 0.01))
        return time.monotonic() - started, "".join(rest)


def sam_command_of(typed: Typed, verb: str) -> list[str]:
    """The `sam local VERB` command the tool prints as it starts it."""
    return typed.wait_for(f"$ .venv-sam/bin/sam local {verb} ").split()[1:]


def stack_endpoints(sam_command: list[str]) -> tuple[str, str]:
    """(the emulator's URL, moto's) from the env-vars file the command hands SAM."""
    env_vars_path = PROJECT_ROOT / sam_command[sam_command.index("--env-vars") + 1]
    parameters = json.loads(env_vars_path.read_text())["Parameters"]
    return parameters["FINSPACE_ENDPOINT_URL"], parameters["AWS_ENDPOINT_URL_S3"]


def containers(docker_env: dict[str, str]) -> set[str]:
    listed = docker(docker_env, "ps", "--all", "--quiet", "--no-trunc")
    assert listed.returncode == 0, listed.stderr
    return set(listed.stdout.split())


def processes_with(marker: str) -> list[str]:
    """Every live process whose environment holds marker: what a command left running."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if marker.encode() in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except (OSError, ValueError):
            continue
    return found


def listening(url: str) -> bool:
    """Whether anything still listens on url's host and port."""
    address = urlsplit(url)
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT is no listener
        try:
            probe.bind((address.hostname or "", address.port or 80))
        except OSError:
            return True
    return False


def stale_sam_build_locks() -> list[Path]:
    """sam's image build locks (files in the temp directory naming their sam's pid) whose
    sam is gone: every later sam would wait 5 minutes for them."""
    stale = []
    for lock in Path(tempfile.gettempdir()).glob("*.building.lock"):
        with contextlib.suppress(OSError, ValueError):
            if not Path(f"/proc/{int(lock.read_text().split()[0])}").exists():
                stale.append(lock)
    return stale


def stopping_lines(output: str) -> list[str]:
    return [line for line in printed_lines(output) if any(word in line.lower() for word in STOPPING_WORDS)]


@dataclass
class Run:
    environment: dict[str, str]
    marker: str
    docker_env: dict[str, str]
    containers_before: set[str]

    def left_behind(self) -> tuple[list[str], set[str]]:
        """(processes, containers) that the command left."""
        return processes_with(self.marker), containers(self.docker_env) - self.containers_before


@pytest.fixture
def run(local: SamLocal, tmp_path: Path) -> Iterator[Run]:
    """A new user's environment on the package's engine, marked; whatever a command leaves
    is killed afterwards, so that one failure is not the next test's."""
    marker = f"{MARKER}={uuid.uuid4()}"
    name, _, value = marker.partition("=")
    engine = local.docker_env or {"DOCKER_HOST": os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")}
    environment = {**new_user_environment(tmp_path / "local-stack.json"), **engine, name: value}
    started = Run(environment, marker, local.docker_env, containers(local.docker_env))
    yield started
    for proc in Path("/proc").iterdir():
        try:
            if marker.encode() in (proc / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue
    for container in containers(local.docker_env) - started.containers_before:
        docker(local.docker_env, "rm", "--force", container)
    for lock in stale_sam_build_locks():
        lock.unlink(missing_ok=True)


def assert_ended_cleanly(elapsed: float, output: str, run: Run, urls: list[str]) -> None:
    processes, left_containers = run.left_behind()
    assert elapsed < LIMIT_SECONDS, (elapsed, output)
    assert "Traceback" not in output, output
    assert stopping_lines(output) == [STOPPED], output
    assert printed_lines(output)[-1] == STOPPED, output
    assert not [line for line in printed_lines(output) if line.startswith("make")], output
    assert not processes, processes
    assert not left_containers, left_containers
    assert not stale_sam_build_locks()
    assert not [url for url in urls if listening(url)], urls


def hold_finspace_calls(finspace_url: str) -> None:
    """The emulator answers no FinSpace call for 20 s: a function that calls it keeps running."""
    requests.post(f"{finspace_url}/_emulator/faults", json={"latency_seconds": 20}, timeout=10).raise_for_status()


def wait_for_a_held_call(finspace_url: str, operation: str, timeout: float = 30) -> None:
    """Until the function has called operation, which the emulator now holds."""
    deadline = time.monotonic() + timeout
    while not requests.get(f"{finspace_url}/_emulator/calls", timeout=10).json().get(operation):
        assert time.monotonic() < deadline, f"the function never called {operation}"
        time.sleep(0.05)


def test_ctrl_c_while_make_sam_invokes_container_runs_the_function(run: Run) -> None:
    typed = Typed.start("make sam-invoke FUNCTION=GetUserFunction EVENT=events/get_user.json", run.environment)
    finspace_url, moto_url = stack_endpoints(sam_command_of(typed, "invoke"))
    hold_finspace_calls(finspace_url)
    container_id = typed.wait_for("SAM_CONTAINER_ID:").split()[-1]
    # The function runs: the emulator holds its GetUser (the runtime's START line is not
    # always relayed, so it is not waited for).
    wait_for_a_held_call(finspace_url, "GetUser")
    before = "".join(typed.seen)

    elapsed, output = typed.ctrl_c()

    print(f"make sam-invoke ended {elapsed:.2f} s after Ctrl-C")
    assert container_id not in containers(run.docker_env)
    assert '"statusCode"' not in output, "the invoke ended before Ctrl-C: it interrupted nothing"
    assert "Traceback" not in before, before
    assert_ended_cleanly(elapsed, output, run, [finspace_url, moto_url])


def test_ctrl_c_while_sam_builds_the_functions_image(run: Run) -> None:
    """As make sam-invoke starts: sam builds an image of the base image and the layers
    (about 2.5 s) on each invoke, under a lock of its own."""
    typed = Typed.start("make sam-invoke FUNCTION=GetUserFunction EVENT=events/get_user.json", run.environment)
    finspace_url, moto_url = stack_endpoints(sam_command_of(typed, "invoke"))
    typed.wait_for("SharedLayer is a local Layer in the template")  # the build is next
    time.sleep(0.5)
    before = "".join(typed.seen)

    elapsed, output = typed.ctrl_c()

    print(f"make sam-invoke (building its image) ended {elapsed:.2f} s after Ctrl-C")
    assert "SAM_CONTAINER_ID" not in before + output, "the build was over before Ctrl-C"
    assert "Traceback" not in before, before
    assert_ended_cleanly(elapsed, output, run, [finspace_url, moto_url])


def test_ctrl_c_while_make_sam_invoke_builds_the_functions(run: Run) -> None:
    """Before sam local: the command runs `make build-x86_64` first, and a Ctrl-C there
    ends it with the same one line (not sam build's "Aborted!" and make's "*** Interrupt")."""
    typed = Typed.start("make sam-invoke FUNCTION=GetUserFunction EVENT=events/get_user.json", run.environment)
    typed.wait_for("Starting Build")
    time.sleep(0.3)
    before = "".join(typed.seen)

    elapsed, output = typed.ctrl_c()

    print(f"make sam-invoke (sam build) ended {elapsed:.2f} s after Ctrl-C")
    assert "sam local invoke" not in before + output, "the build was over before Ctrl-C"
    assert "Traceback" not in before, before
    assert_ended_cleanly(elapsed, output, run, [])


@pytest.mark.parametrize("request_in_flight", [False, True], ids=["idle", "request-in-flight"])
def test_ctrl_c_while_make_sam_api_serves(run: Run, request_in_flight: bool) -> None:
    """Idle, or with a request whose container runs the function."""
    api_url = f"http://127.0.0.1:{SAM_API_PORT}"
    assert not listening(api_url), f"port {SAM_API_PORT} is taken: make sam-api needs it"
    typed = Typed.start("make sam-api", run.environment)
    finspace_url, moto_url = stack_endpoints(sam_command_of(typed, "start-api"))
    user_path = typed.wait_for(f"curl -s '{api_url}/users/").split("'")[1].removeprefix(api_url)
    typed.wait_for("Ctrl-C stops it")  # it answered HTTP
    container_id = ""
    if request_in_flight:
        hold_finspace_calls(finspace_url)
        threading.Thread(target=get_until_cut_off, args=(api_url + user_path,), daemon=True).start()
        container_id = typed.wait_for("SAM_CONTAINER_ID:").split()[-1]
        wait_for_a_held_call(finspace_url, "GetUser")
    before = "".join(typed.seen)

    elapsed, output = typed.ctrl_c()

    print(f"make sam-api ({'request in flight' if request_in_flight else 'idle'}) ended {elapsed:.2f} s after Ctrl-C")
    assert "Traceback" not in before, before
    assert not container_id or container_id not in containers(run.docker_env)
    assert_ended_cleanly(elapsed, output, run, [finspace_url, moto_url, api_url])


def get_until_cut_off(url: str) -> None:
    with contextlib.suppress(requests.RequestException):
        requests.get(url, timeout=60)
