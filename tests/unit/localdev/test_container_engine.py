"""Where containers reach the host: the default bridge's gateway, as `docker network
inspect` reports it, or the subnet's first address when it reports none."""

import subprocess
from pathlib import Path

import pytest

from localdev.harness import containers
from localdev.harness.containers import EngineUnavailableError, bridge_gateway


def engine_answering(monkeypatch: pytest.MonkeyPatch, returncode: int, stdout: str, stderr: str = "") -> None:
    def docker(docker_env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        assert args[:3] == ("network", "inspect", "bridge")
        return subprocess.CompletedProcess(["docker", *args], returncode, stdout, stderr)

    monkeypatch.setattr(containers, "docker", docker)


def test_the_recorded_gateway_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    engine_answering(monkeypatch, 0, "172.18.0.0/16 172.18.0.254\n")

    assert bridge_gateway({}) == "172.18.0.254"


def test_a_bridge_without_a_recorded_gateway_uses_the_subnets_first_address(monkeypatch: pytest.MonkeyPatch) -> None:
    # What dockerd 20.10 records when it creates docker0 itself, as on a new machine.
    engine_answering(monkeypatch, 0, "172.17.0.0/16 \n")

    assert bridge_gateway({}) == "172.17.0.1"


@pytest.mark.parametrize(
    ("returncode", "stdout", "stderr"),
    [(1, "", "Error: No such network: bridge"), (0, "\n", "")],
    ids=["no bridge network", "a bridge with no subnet"],
)
def test_no_usable_bridge_says_so(monkeypatch: pytest.MonkeyPatch, returncode: int, stdout: str, stderr: str) -> None:
    engine_answering(monkeypatch, returncode, stdout, stderr)

    with pytest.raises(EngineUnavailableError, match="no default bridge"):
        bridge_gateway({})


def test_a_system_program_off_path_is_found_where_debian_puts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-login root shell may lack /usr/sbin, where docker.io puts dockerd."""
    program = tmp_path / "dockerd"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(containers, "SYSTEM_PROGRAMS", str(tmp_path))
    assert containers._program("dockerd") == str(program)
    assert containers._program("no-such-program") is None
