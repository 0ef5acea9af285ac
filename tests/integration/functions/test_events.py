"""Every file in events/ runs through its function in-process, as `make invoke` and
`sam local invoke -e` run it, against the local stack."""

import pytest

from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack import LocalStack
from tests.helpers import API_EVENTS, CANARY_EVENTS, EVENTS_DIR, SNAPSHOT_EVENTS, check_api_answer, load_event


def test_every_event_file_has_an_expectation() -> None:
    expected = set(API_EVENTS) | set(SNAPSHOT_EVENTS) | CANARY_EVENTS
    assert {path.name for path in EVENTS_DIR.glob("*.json")} == expected


@pytest.mark.parametrize("file_name", sorted(API_EVENTS))
def test_api_event_gets_the_expected_answer(stack_functions: dict[str, LocalFunction], file_name: str) -> None:
    function_name = API_EVENTS[file_name][0]
    event = load_event(file_name)

    check_api_answer(file_name, event, stack_functions[function_name].invoke(event))


@pytest.mark.parametrize("file_name", sorted(SNAPSHOT_EVENTS))
def test_snapshot_event_takes_a_snapshot(
    stack_functions: dict[str, LocalFunction], stack: LocalStack, file_name: str
) -> None:
    summary = stack_functions["ListUsersFunction"].invoke(load_event(file_name))

    assert summary["scheduledTime"] == SNAPSHOT_EVENTS[file_name]
    assert summary["userCount"] == len(stack.emulator.directory)


def test_canary_event_succeeds(stack_functions: dict[str, LocalFunction]) -> None:
    outcome = stack_functions["GetUserFunction"].invoke(load_event("canary.json"))

    assert outcome["success"] is True
