"""Local commands as a new user runs them: from a shell with no virtual environment
active, no .venv/bin on PATH and no AWS settings, through make, and `make run` on free
ports that are not its defaults, recorded in a file of the test's own."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from localdev.harness.defaults import API_PORT, EMULATOR_PORT, MOTO_PORT, PROJECT_ROOT, RECORD_VARIABLE
from localdev.harness.stack import free_port

BANNER_END = "Ctrl-C stops everything."
DEFAULT_PORTS = {API_PORT, EMULATOR_PORT, MOTO_PORT}


def new_user_environment(record: Path) -> dict[str, str]:
    """This process's environment less the venv and AWS, with the stack record at record."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(part for part in os.environ["PATH"].split(os.pathsep) if part != venv_bin)
    kept = {
        name: value
        for name, value in os.environ.items()
        if name not in ("VIRTUAL_ENV", "PYTHONPATH", "MAKELEVEL", "MAKEFLAGS") and not name.startswith("AWS_")
    }
    return {**kept, "PATH": path, RECORD_VARIABLE: str(record), "COLUMNS": "200"}


def non_default_ports() -> tuple[int, int, int]:
    while True:
        ports = free_port(), free_port(), free_port()
        if len(set(ports)) == 3 and not DEFAULT_PORTS & set(ports):
            return ports


def shell(command: str, environment: dict[str, str], **options: Any) -> subprocess.Popen[str]:
    """command in bash, in a session of its own (its process group gets the Ctrl-C)."""
    return subprocess.Popen(  # noqa: S603 - the README's own commands, as a user types them
        ["/bin/bash", "-c", command],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        **options,
    )


def printed_lines(output: str) -> list[str]:
    """What a command printed, blank lines left out."""
    return [line for line in output.splitlines() if line.strip()]


def ctrl_c(process: subprocess.Popen[str], timeout: float = 10) -> tuple[float, str]:
    """SIGINT to the process group, as a terminal's Ctrl-C; (seconds until it ended, the
    rest of its output)."""
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        rest, _ = process.communicate()
        return time.monotonic() - started, rest
    return time.monotonic() - started, rest


class MakeRun:
    """`make run` as a user types it, moved to free non-default ports with RUN_ARGS."""

    def __init__(self, environment: dict[str, str], *options: str) -> None:
        self.api_port, self.finspace_port, self.moto_port = non_default_ports()
        run_args = f"--port {self.api_port} --finspace-port {self.finspace_port} --moto-port {self.moto_port}"
        self.process = shell(f'make run RUN_ARGS="{run_args} {" ".join(options)}"', environment)
        assert self.process.stdout is not None
        self.banner = ""
        deadline = time.monotonic() + 120
        while BANNER_END not in self.banner:
            line = self.process.stdout.readline()
            if not line and (self.process.poll() is not None or time.monotonic() > deadline):
                self.stop()
                raise RuntimeError(f"make run did not start:\n{self.banner}")
            self.banner += line
        self.log: list[str] = []
        # Keep reading its log, so that a full pipe never blocks the server.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line)

    def interrupt(self) -> tuple[float, str]:
        """Ctrl-C; (seconds until make ended, what it printed after the banner)."""
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)
        self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        return time.monotonic() - started, "".join(self.log)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
