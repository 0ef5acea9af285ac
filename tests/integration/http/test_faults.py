"""Faults injected through the emulator: the API stays inside its contract and its
time budget, and the snapshot stays complete."""

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from finspace_users.access_review.snapshot import reset_snapshot_store
from finspace_users.aws.finspace import reset_finspace_clients
from finspace_users.http.page_cache import reset_page_cache
from localdev.harness.directory import SeededDirectory
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack import LocalStack
from localdev.harness.template import functions
from tests.helpers import CALLER_AUTH, http_problem_of

API_GATEWAY_LIMIT_SECONDS = 29


@pytest.fixture(autouse=True)
def healthy_afterwards(stack: LocalStack) -> Iterator[None]:
    yield
    stack.emulator.inject()


def test_30_percent_throttling_gives_200_or_429_never_5xx(
    api_url: str, stack: LocalStack, stack_functions: dict[str, LocalFunction]
) -> None:
    list_users = stack_functions["ListUsersFunction"]
    list_users.environment["PAGE_CACHE_SECONDS"] = "0"  # every request reaches FinSpace
    reset_page_cache()
    stack.emulator.inject(throttle_rate=0.3)
    outcomes: Counter[int] = Counter()
    try:
        for index in range(30):
            user_id = stack.emulator.directory.user_at(index)["userId"]
            for response in (
                requests.get(f"{api_url}/users/{user_id}", timeout=30, auth=CALLER_AUTH),
                requests.get(f"{api_url}/users", params={"maxResults": 1 + index}, timeout=30, auth=CALLER_AUTH),
            ):
                outcomes[response.status_code] += 1
                if response.status_code == 429:
                    assert int(response.headers["Retry-After"]) >= 1
                    http_problem_of(response, "throttled")
    finally:
        list_users.environment["PAGE_CACHE_SECONDS"] = "60"
        reset_page_cache()

    print(f"figure: 30% throttling, 60 API requests: {dict(outcomes)}")
    assert set(outcomes) <= {200, 429}
    assert outcomes[200] > 40  # botocore's retries absorb most throttling


def test_30_percent_throttling_still_gives_a_complete_snapshot(
    stack: LocalStack, stack_functions: dict[str, LocalFunction]
) -> None:
    seeded = stack.emulator.directory
    stack.emulator.directory = SeededDirectory(1000, seed=5)
    reset_snapshot_store()
    stack.emulator.inject(throttle_rate=0.3)
    calls_before = stack.emulator.calls["ListUsers"]
    try:
        summary = stack_functions["ListUsersFunction"].invoke(
            {"action": "snapshot", "scheduledTime": "2026-11-01T02:00:00Z"}
        )
        expected = list(stack.emulator.directory)
    finally:
        stack.emulator.directory = seeded
    throttled_calls = stack.emulator.calls["ListUsers"] - calls_before - summary["pages"]
    print(f"figure: snapshot of 1000 users under 30% throttling: {throttled_calls} throttled calls retried")
    assert throttled_calls > 0
    assert summary["userCount"] == len(expected) == 1000
    assert summary["pages"] == 10


def test_transient_500s_are_retried_to_success(api_url: str, stack: LocalStack) -> None:
    user = stack.emulator.directory.user_at(3)
    calls_before = stack.emulator.calls["GetUser"]
    stack.emulator.inject(transient_failures=2)

    response = requests.get(f"{api_url}/users/{user['userId']}", timeout=30, auth=CALLER_AUTH)

    assert response.status_code == 200
    assert response.json() == user
    assert stack.emulator.calls["GetUser"] == calls_before + 3


def test_latency_beyond_the_read_timeout_is_504_inside_the_budget(api_url: str, stack: LocalStack) -> None:
    stack.emulator.inject(latency_seconds=3.5)  # the client's read timeout is 3 s
    started = time.monotonic()

    response = requests.get(
        f"{api_url}/users/{stack.emulator.directory.user_at(0)['userId']}", timeout=60, auth=CALLER_AUTH
    )

    elapsed = time.monotonic() - started
    print(f"figure: FinSpace answering in 3.5 s: {response.status_code} after {elapsed:.1f} s")
    assert response.status_code == 504
    http_problem_of(response, "upstream-timeout")
    assert elapsed < API_GATEWAY_LIMIT_SECONDS


def test_access_denied_is_502_revealing_nothing_internal(api_url: str, stack: LocalStack) -> None:
    stack.emulator.inject(fail_list_at_offset=0, fail_list_with="AccessDeniedException")

    response = requests.get(f"{api_url}/users", params={"maxResults": 42}, timeout=30, auth=CALLER_AUTH)

    assert response.status_code == 502
    body = http_problem_of(response, "upstream-access-denied")
    for internal in ("Injected", "AccessDeniedException", "botocore", "http://", "Traceback", "arn:"):
        assert internal not in json.dumps(body)


def test_unreachable_finspace_is_502_without_hanging(stack: LocalStack) -> None:
    env_vars = stack.env_vars
    env_vars["Parameters"]["FINSPACE_ENDPOINT_URL"] = "http://127.0.0.1:9"  # nothing listens there
    function = LocalFunction(functions()["GetUserFunction"], env_vars)
    reset_finspace_clients()
    event: dict[str, Any] = {
        "resource": "/users/{userId}",
        "path": "/users/abc",
        "httpMethod": "GET",
        "pathParameters": {"userId": "abc"},
        "requestContext": {"requestId": "r-1", "stage": "local", "path": "/local/users/abc"},
    }
    started = time.monotonic()
    try:
        response = function.invoke(event)
    finally:
        reset_finspace_clients()

    elapsed = time.monotonic() - started
    print(f"figure: FinSpace unreachable: {response['statusCode']} after {elapsed:.1f} s")
    assert response["statusCode"] in {502, 504}
    assert json.loads(response["body"])["type"] in {
        "urn:finspace-users:problem:upstream-unreachable",
        "urn:finspace-users:problem:upstream-timeout",
    }
    assert elapsed < API_GATEWAY_LIMIT_SECONDS
