"""The SnapStart after-restore hook, run in-process the way the runtime runs it: after
it, no FinSpace credentials, client or connection from before the snapshot is used."""

from collections.abc import Iterator

import pytest
from snapshot_restore_py import get_after_restore

from finspace_users.aws.finspace import finspace_client
from finspace_users.aws.sessions import role_session
from finspace_users.snapstart_hook import forget_connections_and_credentials
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack import LocalStack
from localdev.harness.template import functions
from tests.helpers import api_event


@pytest.fixture
def exchanging_function(stack: LocalStack) -> Iterator[LocalFunction]:
    stack.emulator.enforce_issued_credentials = True
    env_vars = stack.env_vars
    env_vars["Parameters"]["FINSPACE_ENVIRONMENT_ID"] = "env-snapstart"
    yield LocalFunction(functions()["GetUserFunction"], env_vars)
    stack.emulator.enforce_issued_credentials = False


def run_restore_hooks() -> None:
    for hook, args, kwargs in get_after_restore():
        hook(*args, **kwargs)


def test_hook_is_registered_with_the_runtime() -> None:
    assert forget_connections_and_credentials in [hook for hook, _, _ in get_after_restore()]


def test_after_restore_the_next_request_uses_new_credentials_and_a_new_client(
    stack: LocalStack, exchanging_function: LocalFunction
) -> None:
    user_id = stack.emulator.directory.user_at(1)["userId"]
    event = api_event(f"/users/{user_id}", "/users/{userId}", path_parameters={"userId": user_id})
    exchanges = stack.emulator.calls["GetProgrammaticAccessCredentials"]

    assert exchanging_function.invoke(event)["statusCode"] == 200
    client_before_snapshot = finspace_client()
    role_session_before_snapshot = role_session()  # holds the role's cached credentials
    keys_before_snapshot = set(stack.emulator.issued)
    assert stack.emulator.calls["GetProgrammaticAccessCredentials"] == exchanges + 1

    run_restore_hooks()
    # Whatever the snapshot held is now dead: the emulator refuses those keys.
    for key in keys_before_snapshot:
        stack.emulator.issued.pop(key)

    assert exchanging_function.invoke(event)["statusCode"] == 200
    assert stack.emulator.calls["GetProgrammaticAccessCredentials"] == exchanges + 2
    assert finspace_client() is not client_before_snapshot
    assert role_session() is not role_session_before_snapshot
