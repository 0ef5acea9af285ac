"""The FinSpace credential exchange against the emulator: data calls signed with
programmatic access credentials, refreshed by botocore before they expire."""

import time
from collections.abc import Iterator

import pytest

from finspace_users.aws.sessions import reset_role_session
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack import LocalStack
from localdev.harness.template import functions
from tests.helpers import api_event, problem_of

LIFETIME_SECONDS = 2


@pytest.fixture
def enforcing_emulator(stack: LocalStack) -> Iterator[LocalStack]:
    stack.emulator.enforce_issued_credentials = True
    stack.emulator.credential_lifetime_seconds = LIFETIME_SECONDS
    stack.emulator.data_calls_with_expired_keys = 0
    yield stack
    stack.emulator.enforce_issued_credentials = False
    stack.emulator.credential_lifetime_seconds = None


def get_user_function(stack: LocalStack, environment_id: str) -> LocalFunction:
    env_vars = stack.env_vars
    env_vars["Parameters"]["FINSPACE_ENVIRONMENT_ID"] = environment_id
    return LocalFunction(functions()["GetUserFunction"], env_vars)


def get_user_event(stack: LocalStack, index: int) -> dict[str, object]:
    user_id = stack.emulator.directory.user_at(index)["userId"]
    return api_event(f"/users/{user_id}", "/users/{userId}", path_parameters={"userId": user_id})


def test_requests_keep_succeeding_across_refreshes(
    enforcing_emulator: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = enforcing_emulator
    monkeypatch.setenv("FINSPACE_CREDENTIAL_SECONDS", str(LIFETIME_SECONDS))
    function = get_user_function(stack, "env-test")
    exchanges_before = stack.emulator.calls["GetProgrammaticAccessCredentials"]
    statuses = []

    deadline = time.monotonic() + 3.5 * LIFETIME_SECONDS
    index = 0
    while time.monotonic() < deadline:
        statuses.append(function.invoke(get_user_event(stack, index % 50))["statusCode"])
        index += 1
        time.sleep(0.1)

    assert len(statuses) >= 20
    assert set(statuses) == {200}
    assert stack.emulator.calls["GetProgrammaticAccessCredentials"] - exchanges_before >= 3
    assert stack.emulator.data_calls_with_expired_keys == 0


def test_without_an_environment_id_no_exchange_is_made(stack: LocalStack) -> None:
    function = get_user_function(stack, "")
    exchanges_before = stack.emulator.calls["GetProgrammaticAccessCredentials"]

    for index in range(5):
        assert function.invoke(get_user_event(stack, index))["statusCode"] == 200

    assert stack.emulator.calls["GetProgrammaticAccessCredentials"] == exchanges_before


def test_role_credentials_that_finspace_refuses_are_a_502(enforcing_emulator: LocalStack) -> None:
    function = get_user_function(enforcing_emulator, "")
    event = get_user_event(enforcing_emulator, 0)

    response = function.invoke(event)

    assert response["statusCode"] == 502
    problem = problem_of(response, event)
    assert problem["type"] == "urn:finspace-users:problem:upstream-access-denied"
    assert "not authorized" not in problem["detail"]  # FinSpace's own words stay inside


def test_role_key_with_the_wrong_secret_is_a_502(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """FinSpace recomputes the signature: the right key id with the wrong secret fails."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-role-secret")
    reset_role_session()
    function = get_user_function(stack, "")
    event = get_user_event(stack, 0)
    try:
        response = function.invoke(event)
    finally:
        monkeypatch.undo()
        reset_role_session()

    assert response["statusCode"] == 502
    problem = problem_of(response, event)
    assert problem["type"] == "urn:finspace-users:problem:upstream-access-denied"
    assert "signature" not in problem["detail"].lower()


def test_data_call_signed_with_an_expired_finspace_key_is_a_502(
    enforcing_emulator: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The emulator's keys die sooner than the 60 minutes this client relies on."""
    stack = enforcing_emulator
    monkeypatch.setenv("FINSPACE_CREDENTIAL_SECONDS", "3600")
    function = get_user_function(stack, "env-test")
    assert function.invoke(get_user_event(stack, 0))["statusCode"] == 200
    time.sleep(LIFETIME_SECONDS + 0.2)
    event = get_user_event(stack, 1)

    response = function.invoke(event)

    assert response["statusCode"] == 502
    problem = problem_of(response, event)
    assert problem["type"] == "urn:finspace-users:problem:upstream-access-denied"
    assert "expired" not in problem["detail"]
    assert stack.emulator.data_calls_with_expired_keys == 1
