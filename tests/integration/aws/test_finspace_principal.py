"""Both functions reach FinSpace as one principal: they assume FINSPACE_PRINCIPAL_ROLE_ARN
(moto's STS, over HTTP) and sign the credential exchange with that role's keys. The
emulator here accepts only keys that STS issued for that role, as FinSpace accepts only
the principal registered for its user."""

from collections.abc import Iterator
from typing import Any

import pytest
from moto.sts.models import sts_backends

from finspace_users.aws.finspace import reset_finspace_clients
from finspace_users.aws.sessions import reset_role_session
from finspace_users.http.page_cache import reset_page_cache
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack import LocalStack
from localdev.harness.template import functions
from tests.helpers import api_event, problem_of

ACCOUNT = "123456789012"
PRINCIPAL_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/finspace-users-dev-FinSpacePrincipalRole-TEST"


class PrincipalRoleKeys(dict[str, str]):
    """The secrets of the sessions moto's STS issued for the principal role, and no other."""

    def get(self, access_key: str, default: Any = None) -> Any:
        assumed = sts_backends[ACCOUNT]["aws"].get_assumed_role_from_access_key(access_key)
        if assumed is None or assumed.role_arn != PRINCIPAL_ROLE_ARN:
            return default
        return assumed.secret_access_key


@pytest.fixture
def principal_only_emulator(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    monkeypatch.setattr(stack.emulator, "role_keys", PrincipalRoleKeys())
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", stack.moto_url)
    reset_role_session()
    reset_page_cache()  # every page from FinSpace: PAGE_CACHE_SECONDS is 0 here
    yield stack
    reset_role_session()
    reset_page_cache()


def function_as(stack: LocalStack, name: str, principal_role_arn: str) -> LocalFunction:
    env_vars = stack.env_vars
    env_vars["Parameters"]["FINSPACE_ENVIRONMENT_ID"] = "env-principal"
    env_vars["Parameters"]["FINSPACE_PRINCIPAL_ROLE_ARN"] = principal_role_arn
    env_vars["Parameters"]["PAGE_CACHE_SECONDS"] = "0"
    return LocalFunction(functions()[name], env_vars)


def test_both_functions_reach_finspace_as_the_principal_role(principal_only_emulator: LocalStack) -> None:
    stack = principal_only_emulator
    user_id = stack.emulator.directory.user_at(0)["userId"]
    exchanges_before = stack.emulator.calls["GetProgrammaticAccessCredentials"]

    get_user = function_as(stack, "GetUserFunction", PRINCIPAL_ROLE_ARN)
    got = get_user.invoke(api_event(f"/users/{user_id}", "/users/{userId}", path_parameters={"userId": user_id}))
    reset_finspace_clients()  # the other function runs in a container of its own
    list_users = function_as(stack, "ListUsersFunction", PRINCIPAL_ROLE_ARN)
    listed = list_users.invoke(api_event("/users", "/users", query="maxResults=5"))

    assert (got["statusCode"], listed["statusCode"]) == (200, 200)
    assert stack.emulator.calls["GetProgrammaticAccessCredentials"] - exchanges_before == 2
    sessions = [role.role_arn for role in sts_backends[ACCOUNT]["aws"].assumed_roles]
    assert sessions.count(PRINCIPAL_ROLE_ARN) >= 2


def test_without_the_principal_role_finspace_refuses_the_functions_own_role(
    principal_only_emulator: LocalStack,
) -> None:
    stack = principal_only_emulator
    user_id = stack.emulator.directory.user_at(0)["userId"]
    event = api_event(f"/users/{user_id}", "/users/{userId}", path_parameters={"userId": user_id})

    response = function_as(stack, "GetUserFunction", "").invoke(event)

    assert response["statusCode"] == 502
    assert problem_of(response, event)["type"] == "urn:finspace-users:problem:upstream-access-denied"
