"""GET /users against a DynamoDB that answers slowly (not one that is down): a request
makes at most 4 store calls, calls FinSpace at most once (CLIENT_CONFIG's attempts),
and ends inside its budget, which is inside the function timeout."""

import os
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from finspace_users.aws.finspace import CLIENT_CONFIG
from finspace_users.aws.record_store import STORE_CONFIG
from finspace_users.http import page_cache
from finspace_users.http.page_cache import IN_PROGRESS_POLL_DELAYS, reset_page_cache
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack import LOCAL_TABLE_NAME, LocalStack
from localdev.harness.template import load_template
from tests.helpers import CALLER_AUTH, ClientBudget
from tests.integration.dynamodb_proxy import DynamoDBProxy

# page_cache.py: a put, the one repeat Powertools may make of it, and two reads while
# another request writes the page (or a save or delete when this one does).
STORE_CALLS_AT_MOST = 4
STORE_BUDGET, FINSPACE_BUDGET = ClientBudget.of(STORE_CONFIG), ClientBudget.of(CLIENT_CONFIG)
STORE_CALL_SECONDS = STORE_BUDGET.worst_case_seconds()
FINSPACE_SECONDS = FINSPACE_BUDGET.worst_case_seconds()
FINSPACE_ATTEMPTS = FINSPACE_BUDGET.attempts
# The paths of page_cache.py: the writer (put, FinSpace, save or delete), and the longest,
# a request whose put is repeated, then waits in vain and asks FinSpace itself.
WRITER_SECONDS = STORE_CALL_SECONDS + FINSPACE_SECONDS + STORE_CALL_SECONDS
REQUEST_WORST_CASE_SECONDS = STORE_CALLS_AT_MOST * STORE_CALL_SECONDS + sum(IN_PROGRESS_POLL_DELAYS) + FINSPACE_SECONDS


@pytest.fixture
def slow_store(
    stack: LocalStack, stack_functions: dict[str, LocalFunction], monkeypatch: pytest.MonkeyPatch
) -> Iterator[DynamoDBProxy]:
    """ListUsersFunction's DynamoDB calls go through a proxy that answers late on demand."""
    table = boto3.resource("dynamodb", endpoint_url=stack.moto_url).Table(LOCAL_TABLE_NAME)
    for item in table.scan()["Items"]:
        table.delete_item(Key={"id": item["id"]})
    list_users = stack_functions["ListUsersFunction"]
    saved = dict(list_users.environment)
    # invoke() copies the function's environment into the process: restore both.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    # Late enough to overrun the store's read timeout, so that the client gives up.
    proxy = DynamoDBProxy(stack.moto_url, late_by_seconds=STORE_BUDGET.read_timeout + 0.5)
    try:
        with proxy.serving() as proxy_url:
            list_users.environment["AWS_ENDPOINT_URL_DYNAMODB"] = proxy_url
            reset_page_cache()
            yield proxy
    finally:
        list_users.environment.clear()
        list_users.environment.update(saved)
        reset_page_cache()
        stack.emulator.inject()


def finspace_attempts(stack: LocalStack) -> int:
    return stack.emulator.calls["ListUsers"]


def timed_request(api_url: str, stack: LocalStack, store: DynamoDBProxy, **params: Any) -> dict[str, Any]:
    """One GET /users, and what it cost: store calls, FinSpace attempts, seconds."""
    store_before, finspace_before, started = store.total_calls(), finspace_attempts(stack), time.monotonic()
    response = requests.get(f"{api_url}/users", params=params, timeout=60, auth=CALLER_AUTH)
    return {
        "response": response,
        "store calls": store.total_calls() - store_before,
        "FinSpace attempts": finspace_attempts(stack) - finspace_before,
        "seconds": round(time.monotonic() - started, 2),
    }


def report(scenario: str, *costs: dict[str, Any]) -> None:
    for index, cost in enumerate(costs, 1):
        response = cost["response"]
        shown = {key: value for key, value in cost.items() if key != "response"}
        cache = response.headers.get("X-Cache")
        print(f"figure: {scenario}, request {index}: {response.status_code} X-Cache={cache} {shown}")


def test_the_worst_case_fits_the_function_timeout() -> None:
    assert STORE_BUDGET.attempts == 1  # a late answer is "cache unavailable"
    assert len(IN_PROGRESS_POLL_DELAYS) + 2 == STORE_CALLS_AT_MOST
    function_timeout = load_template()["Globals"]["Function"]["Timeout"]
    assert function_timeout > REQUEST_WORST_CASE_SECONDS
    assert page_cache.WRITER_SECONDS >= WRITER_SECONDS  # a live writer's record is never taken over


def test_a_slow_first_put_costs_few_store_calls_then_and_for_the_next_request(
    api_url: str, stack: LocalStack, slow_store: DynamoDBProxy
) -> None:
    slow_store.misbehave("PutItem", 1, "late")  # the put lands; its answer comes after the read timeout

    first = timed_request(api_url, stack, slow_store, maxResults=5)
    second = timed_request(api_url, stack, slow_store, maxResults=5)  # finds the record still in progress

    report("slow first put", first, second)
    assert [cost["response"].status_code for cost in (first, second)] == [200, 200]
    assert first["response"].content == second["response"].content
    for cost in (first, second):
        assert cost["store calls"] <= STORE_CALLS_AT_MOST
        assert cost["FinSpace attempts"] == 1  # FinSpace is healthy: one call, one attempt
        assert cost["seconds"] < REQUEST_WORST_CASE_SECONDS
    assert first["store calls"] == 1  # the late put is "cache unavailable": no retry
    assert "X-Cache" not in first["response"].headers
    # The put's record, which nobody completes, locks the page for the writer's worst
    # case, not until it expires (ListUsersFunction's 900 s timeout is the snapshot's).
    (stuck,) = boto3.resource("dynamodb", endpoint_url=stack.moto_url).Table(LOCAL_TABLE_NAME).scan()["Items"]
    assert stuck["status"] == "INPROGRESS"
    assert int(stuck["in_progress_expiration"]) <= (time.time() + WRITER_SECONDS) * 1000


def test_finspace_failing_then_a_slow_delete_calls_finspace_once(
    api_url: str, stack: LocalStack, slow_store: DynamoDBProxy
) -> None:
    stack.emulator.inject(fail_list_at_offset=0)  # every first-page call answers 500
    slow_store.misbehave("DeleteItem", 99, "late")

    cost = timed_request(api_url, stack, slow_store, maxResults=5)

    report("FinSpace 500s, slow delete", cost)
    assert cost["response"].status_code == 502
    assert cost["FinSpace attempts"] == FINSPACE_ATTEMPTS  # one client call, its retries
    assert cost["store calls"] <= STORE_CALLS_AT_MOST
    assert cost["seconds"] < WRITER_SECONDS


def test_finspace_timing_out_then_a_slow_delete_stays_inside_the_budget(
    api_url: str, stack: LocalStack, slow_store: DynamoDBProxy
) -> None:
    stack.emulator.inject(latency_seconds=FINSPACE_BUDGET.read_timeout + 0.5)  # every attempt times out
    slow_store.misbehave("DeleteItem", 99, "late")

    cost = timed_request(api_url, stack, slow_store, maxResults=5)

    report("FinSpace timing out, slow delete", cost)
    assert cost["response"].status_code == 504
    assert cost["FinSpace attempts"] == FINSPACE_ATTEMPTS
    assert cost["store calls"] <= STORE_CALLS_AT_MOST
    assert cost["seconds"] < WRITER_SECONDS  # put + FinSpace's 15 s + delete


def test_a_slow_save_serves_the_page_without_asking_finspace_again(
    api_url: str, stack: LocalStack, slow_store: DynamoDBProxy
) -> None:
    slow_store.misbehave("UpdateItem", 99, "late")

    cost = timed_request(api_url, stack, slow_store, maxResults=5)

    report("slow save", cost)
    assert cost["response"].status_code == 200
    assert len(cost["response"].json()["users"]) == 5
    assert cost["FinSpace attempts"] == 1
    assert cost["store calls"] <= STORE_CALLS_AT_MOST
    assert cost["seconds"] < WRITER_SECONDS
