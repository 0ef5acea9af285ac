"""GET /users pages replayed from the idempotency table (moto server, real HTTP),
keyed on maxResults and nextToken alone."""

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from finspace_users.http.page_cache import IN_PROGRESS_WAIT_SECONDS, reset_page_cache
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack import LOCAL_TABLE_NAME, LocalStack
from tests.conftest import CapturedLog
from tests.helpers import CALLER_AUTH
from tests.integration.pii import PII_TOKENS


@pytest.fixture(autouse=True)
def empty_page_cache(stack: LocalStack, stack_functions: dict[str, LocalFunction]) -> Iterator[LocalFunction]:
    table = boto3.resource("dynamodb", endpoint_url=stack.moto_url).Table(LOCAL_TABLE_NAME)
    for item in table.scan()["Items"]:
        table.delete_item(Key={"id": item["id"]})
    reset_page_cache()
    list_users = stack_functions["ListUsersFunction"]
    saved = dict(list_users.environment)
    yield list_users
    list_users.environment.clear()
    list_users.environment.update(saved)
    reset_page_cache()


def list_calls(stack: LocalStack) -> int:
    return stack.emulator.calls["ListUsers"]


def get_page(api_url: str, **params: Any) -> requests.Response:
    response = requests.get(f"{api_url}/users", params=params, timeout=30, auth=CALLER_AUTH)
    assert response.status_code == 200, response.text
    return response


def test_same_page_twice_makes_one_finspace_call(api_url: str, stack: LocalStack) -> None:
    before = list_calls(stack)

    first = get_page(api_url, maxResults=9)
    second = get_page(api_url, maxResults=9)

    assert list_calls(stack) == before + 1
    assert first.headers["X-Cache"] == "miss"
    assert second.headers["X-Cache"] == "hit"
    assert second.content == first.content  # identical body, nextToken included
    assert "nextToken" in second.json()


def test_key_ignores_headers_and_request_ids(api_url: str, stack: LocalStack) -> None:
    before = list_calls(stack)

    get_page(api_url, maxResults=9)
    replay = requests.get(
        f"{api_url}/users",
        params={"maxResults": 9},
        headers={"X-Client-Retry": "1", "User-Agent": "other"},
        timeout=30,
        auth=CALLER_AUTH,
    )

    assert replay.headers["X-Cache"] == "hit"
    assert list_calls(stack) == before + 1


def test_another_next_token_or_page_size_is_a_new_call(api_url: str, stack: LocalStack) -> None:
    first = get_page(api_url, maxResults=9).json()
    before = list_calls(stack)

    get_page(api_url, maxResults=9, nextToken=first["nextToken"])
    get_page(api_url, maxResults=8)

    assert list_calls(stack) == before + 2


def test_expired_page_is_fetched_again(api_url: str, stack: LocalStack, empty_page_cache: LocalFunction) -> None:
    empty_page_cache.environment["PAGE_CACHE_SECONDS"] = "1"
    before = list_calls(stack)

    get_page(api_url, maxResults=9)
    time.sleep(2.1)  # Powertools compares expiry in whole seconds
    again = get_page(api_url, maxResults=9)

    assert again.headers["X-Cache"] == "miss"
    assert list_calls(stack) == before + 2


def test_zero_seconds_turns_the_cache_off(api_url: str, stack: LocalStack, empty_page_cache: LocalFunction) -> None:
    empty_page_cache.environment["PAGE_CACHE_SECONDS"] = "0"
    before = list_calls(stack)

    first = get_page(api_url, maxResults=9)
    get_page(api_url, maxResults=9)

    assert "X-Cache" not in first.headers
    assert list_calls(stack) == before + 2


def test_twenty_identical_requests_at_once_all_get_the_page_from_one_finspace_call(
    api_url: str, stack: LocalStack
) -> None:
    """Requests that find their page being fetched wait for the record, never fail."""
    responses: list[requests.Response] = []
    start_together = threading.Barrier(20)

    def fetch() -> None:
        start_together.wait()
        responses.append(requests.get(f"{api_url}/users", params={"maxResults": 7}, timeout=30, auth=CALLER_AUTH))

    before = list_calls(stack)
    stack.emulator.faults.latency_seconds = 0.5
    try:
        threads = [threading.Thread(target=fetch) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stack.emulator.faults.latency_seconds = 0.0

    assert [response.status_code for response in responses] == [200] * 20
    assert len({response.content for response in responses}) == 1
    served_by = Counter(response.headers["X-Cache"] for response in responses)
    print(f"figure: 20 identical requests at once: {dict(served_by)}, FinSpace calls: {list_calls(stack) - before}")
    assert served_by["miss"] == 1
    assert set(served_by) <= {"miss", "waited", "hit"}
    assert list_calls(stack) - before == 1


def test_request_that_waits_in_vain_fetches_the_page_itself(api_url: str, stack: LocalStack) -> None:
    """A first request slower than the wait bound does not hold the second one hostage."""
    responses: list[requests.Response] = []

    def fetch() -> None:
        responses.append(requests.get(f"{api_url}/users", params={"maxResults": 6}, timeout=30, auth=CALLER_AUTH))

    before = list_calls(stack)
    stack.emulator.faults.latency_seconds = IN_PROGRESS_WAIT_SECONDS + 0.5
    try:
        first = threading.Thread(target=fetch)
        first.start()
        time.sleep(0.3)  # the first request has recorded the page as in progress
        fetch()
        first.join()
    finally:
        stack.emulator.faults.latency_seconds = 0.0

    assert [response.status_code for response in responses] == [200, 200]
    assert sorted(response.headers["X-Cache"] for response in responses) == ["bypass", "miss"]
    assert responses[0].content == responses[1].content
    assert list_calls(stack) - before == 2
    replay = get_page(api_url, maxResults=6)
    assert replay.headers["X-Cache"] == "hit"  # the first request's record, the only writer


def test_missing_table_falls_back_to_finspace(api_url: str, stack: LocalStack, empty_page_cache: LocalFunction) -> None:
    empty_page_cache.environment["IDEMPOTENCY_TABLE_NAME"] = "no-such-table"
    before = list_calls(stack)

    response = get_page(api_url, maxResults=9)

    assert "X-Cache" not in response.headers
    assert len(response.json()["users"]) == 9
    assert list_calls(stack) == before + 1


def test_stored_records_hold_no_parameters_in_their_keys(api_url: str, stack: LocalStack) -> None:
    first = get_page(api_url, maxResults=9).json()
    get_page(api_url, maxResults=9, nextToken=first["nextToken"])

    items = boto3.resource("dynamodb", endpoint_url=stack.moto_url).Table(LOCAL_TABLE_NAME).scan()["Items"]
    assert len(items) == 2
    for item in items:
        assert first["nextToken"] not in item["id"]
        assert int(item["expiration"]) > time.time()


YEAR_3000 = 32503680000
# Well-formed: only its expiration gives it away.
PAGE = {"users": [{"userId": "forged", "firstName": "Mallory"}]}


def only_record(stack: LocalStack) -> dict[str, Any]:
    items = boto3.resource("dynamodb", endpoint_url=stack.moto_url).Table(LOCAL_TABLE_NAME).scan()["Items"]
    assert len(items) == 1
    record: dict[str, Any] = items[0]
    return record


def forge(stack: LocalStack, record_id: str, **attributes: Any) -> None:
    """Writes over the record of that id, as anyone who can write to the table could."""
    table = boto3.resource("dynamodb", endpoint_url=stack.moto_url).Table(LOCAL_TABLE_NAME)
    table.put_item(Item={"id": record_id, **attributes})


def untrusted_record_warnings(log: CapturedLog) -> list[str]:
    """The warnings about ignored records, each checked to name no user, real or forged."""
    warnings = [line for line in log.lines() if json.loads(line)["level"] == "WARNING" and "did not write" in line]
    for warning in warnings:
        assert not [token for token in (*PII_TOKENS, "mallory", "forged", "someone") if token in warning.lower()]
    return warnings


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param({"status": "COMPLETED", "data": json.dumps(PAGE)}, id="completed"),
        pytest.param({"status": "INPROGRESS"}, id="in-progress"),
    ],
)
def test_a_record_expiring_beyond_the_window_is_ignored(
    api_url: str, stack: LocalStack, powertools_log: CapturedLog, forged: dict[str, Any]
) -> None:
    genuine = get_page(api_url, maxResults=9)
    forge(stack, only_record(stack)["id"], expiration=YEAR_3000, **forged)
    before = list_calls(stack)

    replays = [get_page(api_url, maxResults=9) for _ in range(2)]

    for replay in replays:
        assert replay.headers["X-Cache"] == "bypass"  # fetched from FinSpace, not from the forged record
        assert replay.content == genuine.content
    assert list_calls(stack) == before + 2
    assert len(untrusted_record_warnings(powertools_log)) == 2


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("not json", id="not-json"),
        pytest.param(json.dumps({"users": "all of them"}), id="users-not-a-list"),
        pytest.param(json.dumps({"users": [{"userId": 7}]}), id="user-id-not-a-string"),
        pytest.param(json.dumps({"users": ["someone"]}), id="user-not-an-object"),
        pytest.param(json.dumps({**PAGE, "nextToken": 3}), id="next-token-not-a-string"),
        pytest.param(json.dumps({**PAGE, "redirect": "https://example.com"}), id="extra-field"),
        pytest.param(json.dumps([PAGE]), id="not-an-object"),
    ],
)
def test_a_record_that_is_not_a_users_page_is_ignored(
    api_url: str, stack: LocalStack, powertools_log: CapturedLog, data: str
) -> None:
    genuine = get_page(api_url, maxResults=9)
    record = only_record(stack)
    forge(stack, record["id"], expiration=record["expiration"], status="COMPLETED", data=data)
    before = list_calls(stack)

    replay = get_page(api_url, maxResults=9)

    assert replay.headers["X-Cache"] == "bypass"
    assert replay.content == genuine.content
    assert list_calls(stack) == before + 1
    assert len(untrusted_record_warnings(powertools_log)) == 1
