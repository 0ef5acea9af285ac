"""The scheduled access-review snapshot against the emulator, with moto's S3 and
DynamoDB over real HTTP."""

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from finspace_users.access_review.snapshot import reset_snapshot_store
from finspace_users.access_review.snapshot_objects import PART_BYTES, s3_client
from finspace_users.aws.finspace import finspace_batch_client, finspace_client, list_users_page
from finspace_users.aws.orjson_page_parser import BEFORE_PARSING_A_PAGE
from localdev.harness.directory import SeededDirectory
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack import LOCAL_BUCKET_NAME, LOCAL_TABLE_NAME, LocalStack
from tests.helpers import emitted_metrics, load_event, snapshot_event

USERS = 1000
# About 340 bytes a user: users.jsonl outgrows one PART_BYTES part at about 24,700 users.
USERS_BEYOND_ONE_PART = 30_000
DORMANT_AFTER_DAYS = 90


def seeded_directory(stack: LocalStack, users: int) -> Iterator[SeededDirectory]:
    seeded = stack.emulator.directory
    stack.emulator.directory = SeededDirectory(users, seed=11)
    reset_snapshot_store()
    yield stack.emulator.directory
    stack.emulator.directory = seeded
    stack.emulator.faults.fail_list_at_offset = None


@pytest.fixture
def thousand_users(stack: LocalStack) -> Iterator[SeededDirectory]:
    yield from seeded_directory(stack, USERS)


@pytest.fixture
def users_beyond_one_part(stack: LocalStack) -> Iterator[SeededDirectory]:
    yield from seeded_directory(stack, USERS_BEYOND_ONE_PART)


@pytest.fixture
def list_users(stack_functions: dict[str, LocalFunction]) -> LocalFunction:
    return stack_functions["ListUsersFunction"]


@pytest.fixture
def s3(stack: LocalStack) -> Any:
    return boto3.client("s3", endpoint_url=stack.moto_url)


def objects_under(s3: Any, prefix: str) -> dict[str, bytes]:
    listing = s3.list_objects_v2(Bucket=LOCAL_BUCKET_NAME, Prefix=prefix).get("Contents", [])
    return {item["Key"]: s3.get_object(Bucket=LOCAL_BUCKET_NAME, Key=item["Key"])["Body"].read() for item in listing}


def test_snapshot_holds_the_directory_exactly(
    list_users: LocalFunction, thousand_users: SeededDirectory, s3: Any
) -> None:
    summary = list_users.invoke(snapshot_event("2026-09-21T02:00:00Z"))

    prefix = "snapshots/2026/09/21/2026-09-21T02:00:00Z/"
    stored = objects_under(s3, prefix)
    assert set(stored) == {prefix + "users.jsonl", prefix + "summary.json"}
    body = stored[prefix + "users.jsonl"]
    lines = body.decode().splitlines()
    users = [json.loads(line) for line in lines]
    assert users == list(thousand_users)  # every user once, in order, fields as sent
    assert len({user["userId"] for user in users}) == len(lines) == summary["userCount"] == USERS
    assert summary["usersObject"] == {
        "key": prefix + "users.jsonl",
        "sha256": hashlib.sha256(body).hexdigest(),
        "bytes": len(body),
    }
    assert json.loads(stored[prefix + "summary.json"]) == summary
    assert summary["pages"] == USERS // 100


def test_snapshot_client_pages_equal_botocores_parse(
    stack_functions: dict[str, LocalFunction], thousand_users: SeededDirectory
) -> None:
    """The snapshot's client parses pages with orjson (orjson_page_parser.parse_users_page_with_orjson);
    the API's client leaves them to botocore. Page for page, they must agree."""
    bodies_left_to_botocore: list[bytes] = []
    snapshot_client = finspace_batch_client()
    snapshot_client.meta.events.register(  # runs after the orjson handler
        BEFORE_PARSING_A_PAGE,
        lambda response_dict, **_: bodies_left_to_botocore.append(response_dict["body"]),
    )
    pages, next_token = 0, None
    while True:
        page = list_users_page(100, next_token, client=snapshot_client)
        assert page == list_users_page(100, next_token, client=finspace_client())
        pages, next_token = pages + 1, page.get("nextToken")
        if next_token is None:
            break
    assert pages == USERS // 100
    assert bodies_left_to_botocore == [b"{}"] * pages


def test_summary_counts_match_the_seeded_data(list_users: LocalFunction, thousand_users: SeededDirectory) -> None:
    scheduled = datetime(2026, 9, 21, 2, tzinfo=UTC)
    dormant_before = (scheduled - timedelta(days=DORMANT_AFTER_DAYS)).timestamp() * 1000
    users = list(thousand_users)

    summary = list_users.invoke(snapshot_event("2026-09-21T02:00:00Z"))

    assert summary["scheduledTime"] == "2026-09-21T02:00:00Z"
    assert summary["byStatus"] == dict(Counter(user["status"] for user in users))
    assert summary["byType"] == dict(Counter(user["type"] for user in users))
    assert summary["apiAccessEnabled"] == sum(user["apiAccess"] == "ENABLED" for user in users)
    assert summary["dormantUsers"] == sum(
        "lastLoginTime" not in user or user["lastLoginTime"] < dormant_before for user in users
    )
    assert 0 < summary["dormantUsers"] < USERS
    assert summary["startedAt"] <= summary["finishedAt"]
    for written in ("scheduledTime", "startedAt", "finishedAt"):  # one UTC form everywhere
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", summary[written]), written


def test_duplicate_tick_returns_the_stored_summary_without_calling_finspace(
    list_users: LocalFunction, thousand_users: SeededDirectory, stack: LocalStack
) -> None:
    first = list_users.invoke(snapshot_event("2026-10-01T02:00:00Z"))
    calls = stack.emulator.calls["ListUsers"]

    again = list_users.invoke(snapshot_event("2026-10-01T02:00:00Z"))
    same_tick_other_zone = list_users.invoke(snapshot_event("2026-10-01T04:00:00+02:00"))
    classic = list_users.invoke({**load_event("snapshot_scheduled_event.json"), "time": "2026-10-01T02:00:00Z"})

    assert stack.emulator.calls["ListUsers"] == calls
    assert again == same_tick_other_zone == classic == first
    # Byte for byte, as Lambda serialises a function's result: key order included.
    assert json.dumps(again) == json.dumps(first)


def test_a_tick_with_a_summary_returns_it_and_writes_nothing_however_old(
    list_users: LocalFunction, thousand_users: SeededDirectory, stack: LocalStack, s3: Any
) -> None:
    """Long after its idempotency record expired (two days), a re-run of a tick gets the
    snapshot taken then: never today's users under the old date."""
    first = list_users.invoke(snapshot_event("2026-09-25T02:00:00Z"))
    prefix = "snapshots/2026/09/25/2026-09-25T02:00:00Z/"
    written = {key: s3.head_object(Bucket=LOCAL_BUCKET_NAME, Key=key)["ETag"] for key in objects_under(s3, prefix)}
    table = boto3.resource("dynamodb", endpoint_url=stack.moto_url).Table(LOCAL_TABLE_NAME)
    for item in table.scan(ProjectionExpression="id")["Items"]:  # every record expired
        table.delete_item(Key={"id": item["id"]})
    stack.emulator.add_users(1)
    calls = stack.emulator.calls["ListUsers"]

    again = list_users.invoke(snapshot_event("2026-09-25T02:00:00Z"))

    assert stack.emulator.calls["ListUsers"] == calls
    assert json.dumps(again) == json.dumps(first)  # parsed from summary.json, key order included
    assert {key: s3.head_object(Bucket=LOCAL_BUCKET_NAME, Key=key)["ETag"] for key in objects_under(s3, prefix)} == (
        written
    )


def test_summary_json_is_written_once_and_the_first_one_stands(
    list_users: LocalFunction, thousand_users: SeededDirectory, s3: Any
) -> None:
    """summary.json is a conditional write (If-None-Match: *), which moto honours: a
    sweep that finds one written meanwhile returns that one and replaces nothing."""
    key = "snapshots/2026/09/26/2026-09-26T02:00:00Z/summary.json"
    first = {"scheduledTime": "2026-09-26T02:00:00Z", "writtenBy": "a concurrent sweep"}

    def written_meanwhile(params: dict[str, Any], **_: Any) -> None:
        if params["Key"] == key:
            s3.put_object(Bucket=LOCAL_BUCKET_NAME, Key=key, Body=json.dumps(first).encode(), IfNoneMatch="*")

    list_users.invoke(snapshot_event("2026-09-20T02:00:00Z"))  # builds the function's S3 client
    s3_client().meta.events.register("before-parameter-build.s3.PutObject", written_meanwhile)
    try:
        summary = list_users.invoke(snapshot_event("2026-09-26T02:00:00Z"))
    finally:
        s3_client().meta.events.unregister("before-parameter-build.s3.PutObject", written_meanwhile)

    assert summary == first
    assert json.loads(s3.get_object(Bucket=LOCAL_BUCKET_NAME, Key=key)["Body"].read()) == first
    with pytest.raises(ClientError, match="PreconditionFailed"):
        s3.put_object(Bucket=LOCAL_BUCKET_NAME, Key=key, Body=b"{}", IfNoneMatch="*")


def test_new_tick_makes_a_new_snapshot(
    list_users: LocalFunction, thousand_users: SeededDirectory, stack: LocalStack, s3: Any
) -> None:
    list_users.invoke(snapshot_event("2026-10-02T02:00:00Z"))
    calls = stack.emulator.calls["ListUsers"]

    summary = list_users.invoke({**load_event("snapshot_scheduled_event.json"), "time": "2026-10-03T02:00:00Z"})

    assert stack.emulator.calls["ListUsers"] == calls + USERS // 100
    assert summary["scheduledTime"] == "2026-10-03T02:00:00Z"
    assert "snapshots/2026/10/03/2026-10-03T02:00:00Z/summary.json" in objects_under(s3, "snapshots/2026/10/03/")


def test_sweep_failing_midway_leaves_nothing_and_its_retry_completes(
    list_users: LocalFunction, thousand_users: SeededDirectory, stack: LocalStack, s3: Any
) -> None:
    # Page 5 of 10 fails every time. AccessDenied is not retried by botocore, which
    # keeps the test fast; a 500 takes the same path after the client's retries.
    stack.emulator.faults.fail_list_at_offset = 400
    stack.emulator.faults.fail_list_with = "AccessDeniedException"
    calls = stack.emulator.calls["ListUsers"]

    with pytest.raises(ClientError, match="AccessDenied"):
        list_users.invoke(snapshot_event("2026-10-04T02:00:00Z"))

    assert stack.emulator.calls["ListUsers"] == calls + 5
    assert objects_under(s3, "snapshots/2026/10/04/") == {}

    stack.emulator.faults.fail_list_at_offset = None
    summary = list_users.invoke(snapshot_event("2026-10-04T02:00:00Z"))

    stored = objects_under(s3, "snapshots/2026/10/04/")
    users = [json.loads(line) for line in stored[summary["usersObject"]["key"]].decode().splitlines()]
    assert users == list(thousand_users)
    assert summary["userCount"] == USERS


def test_snapshot_beyond_one_part_is_uploaded_in_parts_and_exact(
    list_users: LocalFunction, users_beyond_one_part: SeededDirectory, s3: Any
) -> None:
    summary = list_users.invoke(snapshot_event("2026-10-06T02:00:00Z"))

    key = summary["usersObject"]["key"]
    assert s3.head_object(Bucket=LOCAL_BUCKET_NAME, Key=key)["ETag"].endswith('-2"')  # a two-part upload
    body = s3.get_object(Bucket=LOCAL_BUCKET_NAME, Key=key)["Body"].read()
    assert summary["usersObject"]["bytes"] == len(body) > PART_BYTES
    assert summary["usersObject"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert [json.loads(line) for line in body.decode().splitlines()] == list(users_beyond_one_part)


def test_sweep_failing_after_a_part_was_sent_aborts_the_upload(
    list_users: LocalFunction, users_beyond_one_part: SeededDirectory, stack: LocalStack, s3: Any
) -> None:
    stack.emulator.faults.fail_list_at_offset = 28_000  # past the first 8 MiB part
    stack.emulator.faults.fail_list_with = "AccessDeniedException"

    with pytest.raises(ClientError, match="AccessDenied"):
        list_users.invoke(snapshot_event("2026-10-07T02:00:00Z"))

    assert objects_under(s3, "snapshots/2026/10/07/") == {}
    assert s3.list_multipart_uploads(Bucket=LOCAL_BUCKET_NAME).get("Uploads", []) == []


def test_snapshot_publishes_its_metrics(
    list_users: LocalFunction, thousand_users: SeededDirectory, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()

    summary = list_users.invoke(snapshot_event("2026-10-05T02:00:00Z"))

    metrics = emitted_metrics(capsys.readouterr().out)
    expected = {
        "UsersTotal": USERS,
        "UsersEnabled": summary["byStatus"]["ENABLED"],
        "UsersDisabled": summary["byStatus"]["DISABLED"],
        "SuperUsers": summary["byType"]["SUPER_USER"],
        "ApiAccessEnabled": summary["apiAccessEnabled"],
        "DormantUsers": summary["dormantUsers"],
        "SnapshotPages": summary["pages"],
    }
    for name, value in expected.items():
        assert metrics[name] == [float(value)], name
    assert "SnapshotDurationMs" in metrics
