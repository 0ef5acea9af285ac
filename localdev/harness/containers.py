"""A container engine and a Lambda Python 3.13 image for `sam local`, on a machine that
may have neither and may reach no image registry.

- Engine: whatever Docker engine answers. Otherwise, on Linux as root, a private
  `dockerd` from Debian's `docker.io`, on its own socket with its data under build/,
  `--iptables=false` and the default bridge, stopped on exit.
- Image: `public.ecr.aws/lambda/python:3.13` where it can be had. Otherwise a stand-in
  built from Debian trixie (python3.13) and `awslambdaric` from PyPI, imported once and
  kept in the engine under a tag that names its recipe.
"""

import hashlib
import ipaddress
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from localdev.harness.defaults import PROJECT_ROOT
from localdev.harness.stack import wait_until_ready

CONTAINERS_DIR = PROJECT_ROOT / "build" / "containers"
# Where Debian installs dockerd and debootstrap: a non-login root shell may not have it on PATH.
SYSTEM_PROGRAMS = "/usr/sbin:/sbin"
LAMBDA_IMAGE = "public.ecr.aws/lambda/python:3.13"
RUNTIME_INTERFACE_CLIENT = "awslambdaric==4.2.2"
DEBIAN_SUITE = "trixie"  # its python3 is 3.13
# Lambda's python3.13 runtime: /var/task first, then the layers, then the runtime's own.
BOOTSTRAP = """#!/bin/sh
export PYTHONPATH=/var/task:/opt/python/lib/python3.13/site-packages:/opt/python:/var/runtime
exec /usr/bin/python3.13 -m awslambdaric "$_HANDLER"
"""
STANDIN_TAG = hashlib.sha256(f"{DEBIAN_SUITE}\n{RUNTIME_INTERFACE_CLIENT}\n{BOOTSTRAP}".encode()).hexdigest()[:12]
STANDIN_IMAGE = f"finspace-users/lambda-python:3.13-standin-{STANDIN_TAG}"


class EngineUnavailableError(RuntimeError):
    """No container engine, or no Lambda image, can be had on this machine."""


def docker(docker_env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the docker CLI with our own arguments
        ["docker", *args],  # noqa: S607 - the CLI found on PATH, as a user runs it
        env={**os.environ, **docker_env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _answers(docker_env: dict[str, str]) -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return docker(docker_env, "info", "--format", "{{.ServerVersion}}", timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _apt_install(*packages: str) -> None:
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]
    for command in (["apt-get", "update", "-qq"], install):
        _run_or_explain(command, environment={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _require_linux_root(purpose: str) -> None:
    if platform.system() != "Linux" or os.geteuid() != 0:
        raise EngineUnavailableError(f"{purpose} needs Linux and root")
    if shutil.which("apt-get") is None:
        raise EngineUnavailableError(f"{purpose} installs Debian packages, and this machine has no apt-get")


def _program(name: str) -> str | None:
    """A system program's path: on PATH, else in SYSTEM_PROGRAMS."""
    return shutil.which(name) or shutil.which(name, path=SYSTEM_PROGRAMS)


@contextmanager
def container_engine() -> Iterator[dict[str, str]]:
    """Yields the environment (DOCKER_HOST or nothing) under which `docker` and SAM reach
    an engine."""
    if _answers({}):
        yield {}
        return
    _require_linux_root("no Docker engine answers, and starting one")
    if _program("dockerd") is None or shutil.which("docker") is None:
        _apt_install("docker.io")
    dockerd_program, containerd_program = _program("dockerd"), _program("containerd")
    if dockerd_program is None or containerd_program is None:
        raise EngineUnavailableError("docker.io is installed, but dockerd or containerd is not on PATH or in /usr/sbin")
    engine_dir = CONTAINERS_DIR / "engine"
    engine_dir.mkdir(parents=True, exist_ok=True)
    docker_env = {"DOCKER_HOST": f"unix://{engine_dir / 'docker.sock'}"}
    # containerd's sockets live under the exec root, and a socket path may not exceed
    # 108 bytes: keep it short and out of the (possibly deep) checkout.
    exec_root = tempfile.mkdtemp(prefix="fsu-dockerd-")
    log_path = engine_dir / "dockerd.log"
    with ExitStack() as running, log_path.open("w") as log:
        running.callback(shutil.rmtree, exec_root, ignore_errors=True)
        # containerd apart, as dockerd would run it, but stopped by us: dockerd stops its
        # own one by polling it each second, which cost every Ctrl-C 2 s more.
        containerd_socket = f"{exec_root}/containerd.sock"
        config = Path(exec_root) / "containerd.toml"
        config.write_text(CONTAINERD_CONFIG)
        containerd = running.enter_context(
            _daemon(
                [
                    containerd_program,
                    "--config",
                    str(config),
                    "--address",
                    containerd_socket,
                    "--root",
                    str(engine_dir / "data" / "containerd" / "daemon"),
                    "--state",
                    f"{exec_root}/containerd",
                ],
                log,
            )
        )
        dockerd = running.enter_context(
            _daemon(
                [
                    dockerd_program,
                    "--host",
                    docker_env["DOCKER_HOST"],
                    "--containerd",
                    containerd_socket,
                    "--data-root",
                    str(engine_dir / "data"),
                    "--exec-root",
                    exec_root,
                    "--pidfile",
                    str(engine_dir / "dockerd.pid"),
                    "--iptables=false",
                    # A container still running at the end gets 1 s, not 15, to stop.
                    "--shutdown-timeout=1",
                ],
                log,
            )
        )
        try:
            wait_until_ready(lambda: Path(containerd_socket).exists(), containerd, 30, "containerd")
            wait_until_ready(lambda: _answers(docker_env), dockerd, 60, "dockerd")
        except RuntimeError:
            raise EngineUnavailableError(f"dockerd did not start: {log_path.read_text()[-500:]}") from None
        yield docker_env


# What dockerd writes for the containerd it runs itself: no Kubernetes (CRI) plugin.
CONTAINERD_CONFIG = """version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
"""


@contextmanager
def _daemon(command: list[str], log: IO[str]) -> Iterator[subprocess.Popen[bytes]]:
    """A daemon of the engine in a session of its own (Ctrl-C is ours to pass on), logging
    to log; SIGTERM on exit, SIGKILL after 30 s."""
    daemon = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603
    try:
        yield daemon
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def bridge_gateway(docker_env: dict[str, str]) -> str:
    """The host's address on the default bridge: containers reach the host there. A
    dockerd that had to create docker0 itself (the first start on a machine) records
    the bridge's subnet but no gateway; it gives docker0 the subnet's first address,
    as Docker's IPAM does for any network without a set gateway."""
    subnet_and_gateway = "{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}"
    inspected = docker(docker_env, "network", "inspect", "bridge", "--format", subnet_and_gateway)
    subnet, _, gateway = inspected.stdout.strip().partition(" ")
    if inspected.returncode != 0 or not subnet:
        raise EngineUnavailableError(f"the engine has no default bridge: {inspected.stderr.strip()}")
    return gateway or str(ipaddress.ip_network(subnet).network_address + 1)


def lambda_python_image(docker_env: dict[str, str]) -> str:
    """The real Lambda base image if the engine has it or can pull it, else the stand-in,
    built once."""
    for image in (LAMBDA_IMAGE, STANDIN_IMAGE):
        if docker(docker_env, "image", "inspect", image).returncode == 0:
            return image
    try:
        if docker(docker_env, "pull", LAMBDA_IMAGE, timeout=300).returncode == 0:
            return LAMBDA_IMAGE
    except subprocess.TimeoutExpired:
        pass
    _build_standin_image(docker_env)
    return STANDIN_IMAGE


def _build_standin_image(docker_env: dict[str, str]) -> None:
    _require_linux_root(f"{LAMBDA_IMAGE} cannot be pulled, and building a stand-in")
    if _program("debootstrap") is None:
        _apt_install("debootstrap")
    debootstrap = _program("debootstrap") or "debootstrap"
    machine = {"x86_64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[platform.machine()]
    CONTAINERS_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CONTAINERS_DIR, prefix="rootfs-") as scratch:
        rootfs = Path(scratch)
        _run_or_explain(
            [debootstrap, "--variant=minbase", "--include=python3,ca-certificates", DEBIAN_SUITE, str(rootfs)]
        )
        _run_or_explain(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(rootfs / "var" / "runtime"),
                "--only-binary=:all:",
                "--implementation",
                "cp",
                "--python-version",
                "3.13",
                "--platform",
                f"manylinux2014_{machine}",
                RUNTIME_INTERFACE_CLIENT,
            ]
        )
        bootstrap = rootfs / "var" / "runtime" / "bootstrap"
        bootstrap.write_text(BOOTSTRAP)
        bootstrap.chmod(0o755)
        (rootfs / "var" / "task").mkdir(exist_ok=True)
        (rootfs / "opt").mkdir(exist_ok=True)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)  # noqa: S603, S607
        imported = subprocess.run(  # noqa: S603 - the docker CLI with our own arguments
            ["docker", "import", "--change", "WORKDIR /var/task", "--change", "ENV LANG=C.UTF-8", "-", STANDIN_IMAGE],  # noqa: S607
            stdin=tar.stdout,
            env={**os.environ, **docker_env},
            capture_output=True,
            text=True,
            check=False,
        )
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise EngineUnavailableError(f"docker import of the stand-in failed: {imported.stderr.strip()}")


def _run_or_explain(command: list[str], environment: dict[str, str] | None = None) -> None:
    """Run a setup step; its failure means no engine or image can be had here."""
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise EngineUnavailableError(f"`{' '.join(command[:3])} ...` failed: {completed.stderr.strip()[-500:]}")
