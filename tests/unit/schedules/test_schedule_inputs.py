"""Events that are not API Gateway requests: schedule inputs, and everything else.

A bad one raises InvalidEventError: a function error that Lambda reports, counts and
routes to the failure destination, whose message is an RFC 9457 problem."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from finspace_users.contracts.schedule_requests import SnapshotRequest, utc_timestamp
from finspace_users.schedules.schedule import InvalidEventError, parse_schedule_input
from localdev.harness.defaults import PROJECT_ROOT
from localdev.harness.lambda_runtime import LocalFunction
from tests.helpers import PROBLEM_FIELDS

CLASSIC_SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-23T02:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/daily"],
    "detail": {},
}
# Far beyond the 2 minutes of clock skew a tick may arrive early by, and still in the
# future when this runs, however long after collection (make test takes minutes).
IN_A_DAY = utc_timestamp(datetime.now(UTC) + timedelta(days=1))
FUTURE = "scheduledTime: must not lie more than 2 minutes in the future"
BEFORE_2000 = "scheduledTime: must not be before 2000-01-01"


def rejection(function: LocalFunction, event: Any) -> dict[str, Any]:
    with pytest.raises(InvalidEventError) as raised:
        function.invoke(event)
    problem: dict[str, Any] = json.loads(str(raised.value))
    assert set(problem) == PROBLEM_FIELDS
    assert problem["status"] == 400
    assert problem["type"] == "urn:finspace-users:problem:unsupported-event"
    assert problem["requestId"] is None
    return problem


@pytest.mark.parametrize("function_name", ["GetUserFunction", "ListUsersFunction"])
@pytest.mark.parametrize(
    ("event", "explanation"),
    [
        ({}, '"action"'),
        ({"foo": "bar"}, '"action"'),
        ({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}, '"action"'),
        ({"httpMethod": "GET"}, '"action"'),
        ({"action": "no-such-action"}, "Unknown action 'no-such-action'"),
        ([], "API Gateway REST proxy event"),
        ("hello", "API Gateway REST proxy event"),
        (None, "API Gateway REST proxy event"),
    ],
    ids=["empty", "unknown-keys", "sqs", "http-method-only", "unknown-action", "list", "string", "null"],
)
def test_non_api_event_gets_a_clear_problem_never_a_key_error(
    unit_functions: dict[str, LocalFunction], function_name: str, event: Any, explanation: str
) -> None:
    problem = rejection(unit_functions[function_name], event)

    assert explanation in problem["detail"]


@pytest.mark.parametrize(
    ("function_name", "event", "explanation"),
    [
        ("ListUsersFunction", {"scheduledTime": "2026-11-23T02:00:00Z"}, 'needs an "action"'),
        ("ListUsersFunction", {"action": "purge", "scheduledTime": "2026-11-23T02:00:00Z"}, "Unknown action 'purge'"),
        ("ListUsersFunction", {"action": "canary", "userId": "u1"}, "supports 'snapshot'"),
        ("GetUserFunction", {"action": "snapshot", "scheduledTime": "2026-11-23T02:00:00Z"}, "supports 'canary'"),
        ("GetUserFunction", {"action": "canary"}, "canary input: userId: Field required"),
        ("GetUserFunction", {"action": "canary", "userId": "   "}, "canary input: userId: String should match"),
        ("ListUsersFunction", {"action": "snapshot", "scheduledTime": "yesterday"}, "scheduledTime: Input should be"),
        ("ListUsersFunction", {"action": "snapshot", "scheduledTime": "2026-11-23T02:00:00"}, "timezone"),
        ("ListUsersFunction", {"action": "snapshot"}, "snapshot input: scheduledTime: Field required"),
        (
            "ListUsersFunction",
            {key: value for key, value in CLASSIC_SCHEDULED_EVENT.items() if key != "time"},
            "Scheduled Event: time: Field required",
        ),
        (
            "ListUsersFunction",
            {"detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-11-23T02:00:00Z"},
            "Scheduled Event: version: Field required; id: Field required",
        ),
        (
            "ListUsersFunction",
            {**CLASSIC_SCHEDULED_EVENT, "time": "2026-11-23T02:00:00"},
            "Scheduled Event: time: Input should have timezone info",
        ),
        ("ListUsersFunction", {"action": "snapshot", "scheduledTime": IN_A_DAY}, FUTURE),
        ("ListUsersFunction", {**CLASSIC_SCHEDULED_EVENT, "time": IN_A_DAY}, FUTURE),
        ("ListUsersFunction", {"action": "snapshot", "scheduledTime": "9999-12-31T23:59:59-23:59"}, FUTURE),
        ("ListUsersFunction", {"action": "snapshot", "scheduledTime": "1999-12-31T23:59:59Z"}, BEFORE_2000),
        ("ListUsersFunction", {"action": "snapshot", "scheduledTime": "0001-01-01T00:00:00Z"}, BEFORE_2000),
        ("ListUsersFunction", {"action": "snapshot", "scheduledTime": "0001-01-01T00:00:00+01:00"}, BEFORE_2000),
    ],
    ids=[
        "missing-action",
        "unknown-action",
        "canary-on-list-users",
        "snapshot-on-get-user",
        "canary-without-user-id",
        "canary-blank-user-id",
        "malformed-scheduled-time",
        "scheduled-time-without-zone",
        "snapshot-without-scheduled-time",
        "scheduled-event-without-time",
        "scheduled-event-missing-envelope-fields",
        "scheduled-event-time-without-zone",
        "snapshot-in-the-future",
        "scheduled-event-in-the-future",
        "snapshot-at-the-end-of-year-9999",  # its UTC form would overflow
        "snapshot-before-2000",
        "snapshot-in-year-1",
        "snapshot-in-year-1-whose-utc-form-is-year-0",
    ],
)
def test_bad_schedule_input_is_refused_clearly(
    unit_functions: dict[str, LocalFunction], function_name: str, event: dict[str, Any], explanation: str
) -> None:
    problem = rejection(unit_functions[function_name], event)

    assert explanation in problem["detail"]
    assert "yesterday" not in problem["detail"]  # rules are named, values are not echoed


@pytest.mark.parametrize(
    "event",
    [
        {"action": "snapshot", "scheduledTime": "2026-11-23T02:00:00Z"},
        {"action": "snapshot", "scheduledTime": "2026-11-23T03:00:00+01:00"},
        CLASSIC_SCHEDULED_EVENT,
    ],
    ids=["scheduler", "scheduler-other-zone", "classic-scheduled-event"],
)
def test_every_snapshot_input_names_the_same_tick(event: dict[str, Any]) -> None:
    request = parse_schedule_input(event, ["snapshot"])

    assert isinstance(request, SnapshotRequest)
    assert request.tick == "2026-11-23T02:00:00Z"


@pytest.mark.parametrize("ahead", [timedelta(0), timedelta(minutes=1, seconds=50)], ids=["now", "within-skew"])
def test_a_tick_due_now_or_within_clock_skew_is_taken(ahead: timedelta) -> None:
    scheduled = (datetime.now(UTC) + ahead).replace(microsecond=0)

    request = parse_schedule_input({"action": "snapshot", "scheduledTime": scheduled.isoformat()}, ["snapshot"])

    assert isinstance(request, SnapshotRequest)
    assert request.tick == utc_timestamp(scheduled)


@pytest.mark.parametrize("action_module", ["finspace_users.access_review.snapshot", "finspace_users.schedules.canary"])
def test_schedule_actions_do_not_import_the_dispatcher_back(action_module: str) -> None:
    """schedule.py imports the actions; they share only the request models with it."""
    script = f"import sys, {action_module}; print('finspace_users.schedules.schedule' in sys.modules)"
    loaded = subprocess.run(  # noqa: S603 - our own modules
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "layers" / "shared")},
    )

    assert loaded.stdout.strip() == "False"
