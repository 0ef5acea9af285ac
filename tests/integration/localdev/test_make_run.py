"""`make run` as a user starts it (python -m localdev.run), on free ports: its API
checks SigV4 as API Gateway does, and its emulator checks the signature bytes."""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.auth
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from localdev.harness.defaults import ACCESS_KEY_ID, PROJECT_ROOT, RECORD_VARIABLE, REGION, SECRET_ACCESS_KEY
from localdev.harness.sigv4 import SigV4Signer
from localdev.harness.stack import free_port
from tests.helpers import CALLER_AUTH, http_problem_of


class RunningStack:
    def __init__(self, *options: str) -> None:
        self.api_port, self.finspace_port, self.moto_port = free_port(), free_port(), free_port()
        command = [sys.executable, "-m", "localdev.run", "--port", str(self.api_port)]
        command += ["--finspace-port", str(self.finspace_port), "--moto-port", str(self.moto_port), *options]
        # A user's shell with no AWS settings: the front then accepts testing/testing. Its
        # record goes to a file of its own, never this checkout's build/local-stack.json.
        environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
        environment[RECORD_VARIABLE] = os.path.join(tempfile.mkdtemp(), "local-stack.json")
        self.process = subprocess.Popen(  # noqa: S603 - our own module
            command, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert self.process.stdout is not None
        self.banner = ""
        deadline = time.monotonic() + 60
        while "Ctrl-C stops everything." not in self.banner:
            line = self.process.stdout.readline()
            if not line and (self.process.poll() is not None or time.monotonic() > deadline):
                raise RuntimeError(f"make run did not start:\n{self.banner}")
            self.banner += line
        # Keep reading its log lines, so that a full pipe never blocks the server.
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def running() -> Iterator[RunningStack]:
    stack = RunningStack()
    yield stack
    stack.stop()


def first_user(running: RunningStack) -> str:
    page = requests.get(f"{running.api}/users?maxResults=1", auth=CALLER_AUTH, timeout=30).json()
    user_id: str = page["users"][0]["userId"]
    return user_id


def test_each_request_is_one_short_log_line_and_no_metric_or_warning_noise(running: RunningStack) -> None:
    logged_before = len(running.log)
    for path in ("/users?maxResults=2", "/users/no-such-user", "/users?maxResults=500"):
        requests.get(f"{running.api}{path}", auth=CALLER_AUTH, timeout=30)
    time.sleep(0.5)

    lines = running.log[logged_before:]
    assert [line.split()[:3] for line in lines] == [
        ["GET", "/users?maxResults=2", "200"],
        ["GET", "/users/no-such-user", "404"],
        ["GET", "/users?maxResults=500", "400"],
    ], lines
    assert all(len(line) < 120 for line in lines)


def test_banner_says_how_to_sign(running: RunningStack) -> None:
    assert "SigV4 required" in running.banner
    assert f'--aws-sigv4 "aws:amz:{REGION}:execute-api" --user "{ACCESS_KEY_ID}:{SECRET_ACCESS_KEY}"' in running.banner


def test_signed_requests_get_200(running: RunningStack) -> None:
    assert requests.get(f"{running.api}/users?maxResults=3", auth=CALLER_AUTH, timeout=30).status_code == 200
    assert requests.get(f"{running.api}/users/{first_user(running)}", auth=CALLER_AUTH, timeout=30).status_code == 200


@pytest.mark.parametrize(
    ("case", "auth"),
    [
        ("unsigned", None),
        ("wrong secret", SigV4Signer(ACCESS_KEY_ID, "not-the-secret", REGION)),
        ("unknown key", SigV4Signer("AKIDUNKNOWN", SECRET_ACCESS_KEY, REGION)),
    ],
)
def test_refused_requests_get_a_403_problem(running: RunningStack, case: str, auth: Any) -> None:
    response = requests.get(f"{running.api}/users?maxResults=3", auth=auth, timeout=30)

    assert response.status_code == 403, case
    http_problem_of(response, "forbidden")


def test_stale_x_amz_date_gets_a_403_problem(running: RunningStack, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=6)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: stale)

    response = requests.get(f"{running.api}/users?maxResults=3", auth=CALLER_AUTH, timeout=30)

    assert response.status_code == 403
    http_problem_of(response, "forbidden")


def test_emulator_refuses_a_data_call_signed_with_the_wrong_secret(running: RunningStack) -> None:
    client = boto3.client(
        "finspace-data",
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{running.finspace_port}",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key="not-the-secret",
        config=Config(retries={"total_max_attempts": 1}),
    )

    with pytest.raises(ClientError) as refused:
        client.list_users(maxResults=1)

    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_no_auth_serves_unsigned_requests_and_says_so_loudly() -> None:
    stack = RunningStack("--no-auth")
    try:
        response = requests.get(f"{stack.api}/users?maxResults=3", timeout=30)
    finally:
        stack.stop()

    assert response.status_code == 200
    assert "--no-auth: requests are NOT checked" in stack.banner


@pytest.mark.parametrize("option", ["--port", "--finspace-port", "--moto-port"])
def test_a_port_in_use_fails_fast_with_one_line_naming_it_and_its_option(option: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {"--port": free_port(), "--finspace-port": free_port(), "--moto-port": free_port(), option: port}
        command = [sys.executable, "-m", "localdev.run", *(str(part) for pair in ports.items() for part in pair)]

        started = time.monotonic()
        completed = subprocess.run(  # noqa: S603 - our own module
            command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False
        )

    assert completed.returncode == 1
    assert time.monotonic() - started < 30
    assert completed.stdout == ""
    message = completed.stderr.strip()
    assert len(message.splitlines()) == 1
    assert f"Port {port}" in message
    assert f"{option} <port>" in message
    assert "Traceback" not in completed.stderr
