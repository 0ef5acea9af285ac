"""Every file in events/ runs through its function in-process, as `make invoke` and
`sam local invoke -e` run it, against the local stack."""

import json
from pathlib import Path
from typing import Any

import pytest

from localdev.invoke import LocalFunction
from localdev.stack import LocalStack
from localdev.template import PROJECT_ROOT

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


def load(file_name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(Path(EVENTS_DIR / file_name).read_text())
    return event


def test_every_event_file_has_an_expectation() -> None:
    expected = set(API_EVENTS) | set(SNAPSHOT_EVENTS) | CANARY_EVENTS
    assert {path.name for path in EVENTS_DIR.glob("*.json")} == expected


@pytest.mark.parametrize("file_name", sorted(API_EVENTS))
def test_api_event_gets_the_expected_answer(stack_functions: dict[str, LocalFunction], file_name: str) -> None:
    function_name, status = API_EVENTS[file_name]
    event = load(file_name)

    response = stack_functions[function_name].invoke(event)

    assert response["statusCode"] == status
    body = json.loads(response["body"])
    if status == 200 and function_name == "ListUsersFunction":
        assert len(body["users"]) == int(event["queryStringParameters"]["maxResults"])
    elif status == 200:
        assert body["userId"] == event["pathParameters"]["userId"]
    else:
        assert body["status"] == status


@pytest.mark.parametrize("file_name", sorted(SNAPSHOT_EVENTS))
def test_snapshot_event_takes_a_snapshot(
    stack_functions: dict[str, LocalFunction], stack: LocalStack, file_name: str
) -> None:
    summary = stack_functions["ListUsersFunction"].invoke(load(file_name))

    assert summary["scheduledTime"] == SNAPSHOT_EVENTS[file_name]
    assert summary["userCount"] == len(stack.emulator.directory)


def test_canary_event_succeeds(stack_functions: dict[str, LocalFunction]) -> None:
    outcome = stack_functions["GetUserFunction"].invoke(load("canary.json"))

    assert outcome["success"] is True
