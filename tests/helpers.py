"""Builders and checks the suites share."""

import json
import os
import re
import subprocess
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from localdev.harness.defaults import ACCESS_KEY_ID, PROJECT_ROOT, REGION, SECRET_ACCESS_KEY
from localdev.harness.front import CallerKey, rest_proxy_event
from localdev.harness.sigv4 import SigV4Signer

PROBLEM_FIELDS = {"type", "title", "status", "detail", "requestId"}

# The key pair the local front accepts in the tests, as `make run` does by default, and
# the requests auth that signs with it.
CALLER_KEY = CallerKey(ACCESS_KEY_ID, SECRET_ACCESS_KEY, REGION)
CALLER_AUTH = SigV4Signer(CALLER_KEY.access_key, CALLER_KEY.secret_key, CALLER_KEY.region)

# What each file in events/ is for, and what it must get.
EVENTS_DIR = PROJECT_ROOT / "events"
API_EVENTS = {
    "get_user.json": ("GetUserFunction", 200),
    "get_user_not_found.json": ("GetUserFunction", 404),
    "list_users.json": ("ListUsersFunction", 200),
    "list_users_bad_max_results.json": ("ListUsersFunction", 400),
}
SNAPSHOT_EVENTS = {
    "snapshot_scheduler.json": "2026-11-23T02:00:00Z",
    "snapshot_scheduled_event.json": "2026-11-24T02:00:00Z",
}
CANARY_EVENTS = {"canary.json"}


def documentation() -> str:
    """README.md, then every page of the docs site in its navigation's order: the text
    that the documentation tests check, wherever a section now lives."""
    mkdocs = (PROJECT_ROOT / "mkdocs.yml").read_text()
    pages = re.findall(r"^  - [^:]+: (\S+\.md)$", mkdocs, re.MULTILINE)
    texts = [(PROJECT_ROOT / "README.md").read_text()] + [(PROJECT_ROOT / "docs" / page).read_text() for page in pages]
    return "\n".join(texts)


def load_event(file_name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / file_name).read_text())
    return event


# The change report's metrics, in the dashboard's order.
CHANGE_METRICS = (
    "UsersAdded",
    "UsersRemoved",
    "UsersChanged",
    "SuperUserGrants",
    "ApiAccessGrants",
    "ChangeHistoryUnreadable",
)


def emitted_metrics(stdout: str) -> dict[str, list[float]]:
    """Every metric value in the EMF blobs a function printed, by metric name."""
    blobs = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]
    return {name: value for blob in blobs for name, value in blob.items() if not name.startswith("_")}


def snapshot_event(scheduled_time: str) -> dict[str, str]:
    return {"action": "snapshot", "scheduledTime": scheduled_time}


def check_api_answer(file_name: str, event: dict[str, Any], response: dict[str, Any]) -> None:
    """The answer an API event of events/ must get: its status, and its body's shape."""
    function_name, status = API_EVENTS[file_name]
    assert response["statusCode"] == status
    assert header(response, "Cache-Control") == "no-store"
    if status != 200:
        problem_of(response, event)
        return
    body = json.loads(response["body"])
    if function_name == "ListUsersFunction":
        assert len(body["users"]) == int(event["queryStringParameters"]["maxResults"])
    else:
        assert body["userId"] == event["pathParameters"]["userId"]


def api_event(
    raw_path: str, resource: str, query: str = "", path_parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway REST proxy event, built the way the local HTTP front builds them."""
    return rest_proxy_event("GET", raw_path, query, [("Accept", "application/json")], resource, path_parameters, b"")


def header(response: dict[str, Any], name: str) -> str | None:
    values = response.get("multiValueHeaders", {}).get(name)
    return values[-1] if values else None


def problem_of(response: dict[str, Any], event: dict[str, Any] | None) -> dict[str, Any]:
    """The RFC 9457 body of an error response, after checking its shape and headers."""
    assert header(response, "Content-Type") == "application/problem+json"
    assert header(response, "Cache-Control") == "no-store"
    body: dict[str, Any] = json.loads(response["body"])
    assert set(body) == PROBLEM_FIELDS
    assert body["status"] == response["statusCode"]
    assert body["type"].startswith("urn:finspace-users:problem:")
    assert body["requestId"] == (event["requestContext"]["requestId"] if event else None)
    assert "Traceback" not in response["body"]
    return body


def http_problem_of(response: Any, slug: str) -> dict[str, Any]:
    """The RFC 9457 body of an HTTP error answer, after checking its shape, headers and type."""
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert set(body) == PROBLEM_FIELDS
    assert body["status"] == response.status_code
    assert body["type"] == f"urn:finspace-users:problem:{slug}"
    assert body["requestId"]
    assert "Traceback" not in response.text
    return body


# botocore standard mode: before retry n (1-based) it sleeps at most 2**(n-1) seconds.
STANDARD_MODE_MAX_BACKOFF = [1, 2, 4, 8]


@dataclass(frozen=True)
class ClientBudget:
    """A botocore Config's retries and timeouts, as botocore resolved them (its stubs
    declare none of these attributes)."""

    attempts: int
    mode: str
    connect_timeout: float
    read_timeout: float

    @classmethod
    def of(cls, config: Config) -> "ClientBudget":
        options = vars(config)
        retries = options["retries"]
        return cls(retries["total_max_attempts"], retries["mode"], options["connect_timeout"], options["read_timeout"])

    def worst_case_seconds(self) -> float:
        """Every attempt times out after connecting, and every backoff is the longest."""
        per_attempt = self.connect_timeout + self.read_timeout
        return self.attempts * per_attempt + sum(STANDARD_MODE_MAX_BACKOFF[: self.attempts - 1])


def make_output(*arguments: str) -> str:
    """What our Makefile prints, run as a user's shell runs it: no make or PYTHON of the
    caller's (a `make test PYTHON=...` or an outer make's MAKEFLAGS) reaches it."""
    inherited = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PYTHON"}
    completed = subprocess.run(  # noqa: S603 - make on our own Makefile
        ["/usr/bin/make", "--no-print-directory", *arguments],
        cwd=PROJECT_ROOT,
        env={name: value for name, value in os.environ.items() if name not in inherited},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout
