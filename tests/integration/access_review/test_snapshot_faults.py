"""Faults never lose a tick. DynamoDB fails for a moment, for real, at each point where the
snapshot touches its tick's record: the in-progress put before the walk, the delete after
a walk that failed, the completion update after summary.json. FinSpace fails mid-walk,
and S3 refuses summary.json. Each tick is delivered as Lambda delivers an asynchronous
invocation (a failed one is retried twice), and must end with a complete snapshot: no
delivery that a retry could have completed is left for the dead-letter queue.

Lambda's clock is scaled down: the function's 900 s timeout becomes TIMEOUT_SECONDS, its
retries' waits of one and two minutes RETRY_DELAYS, and the snapshot's own waits
(snapshot.RECORD_RETRY_SECONDS, STOP_BEFORE_END_SECONDS) in about the same proportion."""

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from botocore.config import Config
from botocore.exceptions import ClientError

from finspace_users.access_review import snapshot
from finspace_users.access_review.snapshot_objects import s3_client
from localdev.harness.directory import SeededDirectory
from localdev.harness.stack import LocalStack
from tests.integration.dynamodb_proxy import DynamoDBProxy
from tests.integration.history import History, use_directory

USERS = 250  # three pages: a walk can fail on the second
TIMEOUT_SECONDS = 6
RETRY_DELAYS = (TIMEOUT_SECONDS * 60 / 900, TIMEOUT_SECONDS * 120 / 900)
TICK = "2026-11-10T02:00:00Z"
PREFIX = f"snapshots/2026/11/10/{TICK}/"
# The store when DynamoDB fails for longer than its patience (8 attempts, which could
# take a minute here): 2 attempts.
IMPATIENT_STORE = Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "total_max_attempts": 2})


class Delivery:
    """The first invocation and up to two retries, each after its delay, as Lambda runs an
    asynchronous event; what each failed attempt raised."""

    def __init__(self, history: History, after_failure: Callable[[], None] = lambda: None) -> None:
        self.errors: list[Exception] = []
        self.summary: dict[str, Any] | None = None
        for delay in (0.0, *RETRY_DELAYS):
            time.sleep(delay)
            try:
                self.summary = history.take(TICK)
                return
            except Exception as error:  # what Lambda would record, then retry
                self.errors.append(error)
                after_failure()


@pytest.fixture
def directory(stack: LocalStack) -> Iterator[SeededDirectory]:
    yield from use_directory(stack, USERS, seed=31)
    stack.emulator.inject()  # every fault knob back to none


@pytest.fixture
def dynamodb(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBProxy]:
    monkeypatch.setattr(snapshot, "RECORD_RETRY_SECONDS", 0.05)
    monkeypatch.setattr(snapshot, "STOP_BEFORE_END_SECONDS", 0.05)  # far less than RETRY_DELAYS[0], as 10 s is than 60
    proxy = DynamoDBProxy(stack.moto_url)
    with proxy.serving():
        yield proxy


@pytest.fixture
def history(stack: LocalStack, directory: SeededDirectory, dynamodb: DynamoDBProxy) -> History:
    return History(stack, dynamodb_url=dynamodb.url, timeout_seconds=TIMEOUT_SECONDS)


def impatient_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "SNAPSHOT_STORE_CONFIG", IMPATIENT_STORE)
    snapshot.reset_snapshot_store()


def assert_complete(history: History, delivery: Delivery, directory: SeededDirectory) -> None:
    """The tick's snapshot is complete and exact, and what every delivery got."""
    assert delivery.summary is not None, f"to the dead-letter queue after {delivery.errors!r}"
    stored = history.objects_under(PREFIX)
    assert set(stored) == {PREFIX + "users.jsonl", PREFIX + "summary.json"}  # the first in its bucket: no changes.jsonl
    assert json.loads(stored[PREFIX + "summary.json"]) == delivery.summary
    assert [json.loads(line) for line in stored[PREFIX + "users.jsonl"].splitlines()] == list(directory)
    assert delivery.summary["userCount"] == USERS
    assert history.s3.list_multipart_uploads(Bucket=history.bucket).get("Uploads", []) == []


@pytest.mark.parametrize(
    ("operation", "times", "how", "patience"),
    [
        ("PutItem", 2, "refuse", "default"),
        ("PutItem", 2, "drop", "default"),
        ("PutItem", 5, "refuse", "exhausted"),
        ("UpdateItem", 2, "refuse", "default"),
        ("UpdateItem", 2, "drop", "default"),
        ("UpdateItem", 1000, "refuse", "exhausted"),
    ],
    ids=["put-500s", "put-dropped", "put-beyond-patience", "update-500s", "update-dropped", "update-beyond-patience"],
)
def test_a_record_failing_for_a_moment_costs_no_delivery(
    history: History,
    directory: SeededDirectory,
    dynamodb: DynamoDBProxy,
    stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    times: int,
    how: str,
    patience: str,
) -> None:
    """Before the walk, the snapshot waits for the table; after summary.json, the
    snapshot is complete whatever its record says."""
    if patience == "exhausted":
        impatient_store(monkeypatch)
    dynamodb.misbehave(operation, times, how)
    calls = stack.emulator.calls["ListUsers"]

    delivery = Delivery(history)

    assert dynamodb.misbehaved[operation] == min(times, dynamodb.calls[operation])  # it did fail, as often as asked
    assert delivery.errors == []
    assert_complete(history, delivery, directory)
    assert stack.emulator.calls["ListUsers"] == calls + 3  # one walk
    assert Delivery(history).summary == delivery.summary  # a later delivery gets the same, without a walk
    assert stack.emulator.calls["ListUsers"] == calls + 3


def test_an_in_progress_put_that_landed_but_answered_500_only_delays_the_tick(
    history: History, directory: SeededDirectory, dynamodb: DynamoDBProxy, stack: LocalStack
) -> None:
    """botocore's retry of that put finds the record in progress, its own: the first
    invocation cannot tell it from another delivery's sweep, so it outlasts it and fails;
    Lambda's retry finds the tick free."""
    dynamodb.misbehave("PutItem", 1, "lose")
    calls = stack.emulator.calls["ListUsers"]

    delivery = Delivery(history)

    assert [type(error) for error in delivery.errors] == [IdempotencyAlreadyInProgressError]
    assert_complete(history, delivery, directory)
    assert stack.emulator.calls["ListUsers"] == calls + 3


@pytest.mark.parametrize(("times", "patience"), [(2, "default"), (5, "exhausted")], ids=["500s", "beyond-patience"])
def test_a_failed_walk_whose_record_delete_fails_is_retried_in_full(
    history: History,
    directory: SeededDirectory,
    dynamodb: DynamoDBProxy,
    stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    times: int,
    patience: str,
) -> None:
    """FinSpace fails on page 2; clearing the in-progress record then fails too. The
    record must not outlast the invocation's failure, or every retry is refused."""
    if patience == "exhausted":
        impatient_store(monkeypatch)
    stack.emulator.faults.fail_list_at_offset = 100
    stack.emulator.faults.fail_list_with = "AccessDeniedException"
    dynamodb.misbehave("DeleteItem", times, "refuse")

    delivery = Delivery(history, after_failure=lambda: setattr(stack.emulator.faults, "fail_list_at_offset", None))

    assert dynamodb.misbehaved["DeleteItem"] == times
    assert len(delivery.errors) == 1
    assert isinstance(delivery.errors[0], ClientError)  # FinSpace's error, the cause, is what the failure says
    assert "AccessDenied" in str(delivery.errors[0])
    assert_complete(history, delivery, directory)


def _failing_summary_writes(params: dict[str, Any], **_: Any) -> None:
    if params["Key"].endswith("/summary.json"):
        raise ClientError({"Error": {"Code": "InternalError", "Message": "Injected failure"}}, "PutObject")


def test_a_failed_summary_write_leaves_nothing_and_its_retry_completes(
    history: History, directory: SeededDirectory, stack: LocalStack
) -> None:
    history.take("2026-11-09T02:00:00Z")  # a previous snapshot, so that changes.jsonl is written too
    stack.emulator.add_users(1)
    s3_client().meta.events.register("before-parameter-build.s3.PutObject", _failing_summary_writes)

    def stop_failing() -> None:
        s3_client().meta.events.unregister("before-parameter-build.s3.PutObject", _failing_summary_writes)
        assert history.objects_under(PREFIX) == {}  # nothing left behind by the failed delivery

    delivery = Delivery(history, after_failure=stop_failing)

    assert len(delivery.errors) == 1
    assert "InternalError" in str(delivery.errors[0])
    assert delivery.summary is not None
    assert delivery.summary["changes"]["added"] == 1
    assert set(history.objects_under(PREFIX)) == {
        PREFIX + name for name in ("users.jsonl", "changes.jsonl", "summary.json")
    }
