import json
from typing import Any

import pytest
from botocore.stub import Stubber

from localdev.harness.lambda_runtime import LocalFunction
from tests.helpers import api_event, header, problem_of

PAGE = {
    "users": [
        {"userId": "aaaaaaaaaaaaaaaa000001", "status": "ENABLED", "createTime": 1_700_000_000_000},
        {"userId": "bbbbbbbbbbbbbbbb000002", "status": "DISABLED", "lastLoginTime": 1_710_000_000_000},
    ],
    "nextToken": "+/+/AAAABwHQXG1OZg==",
}


def list_users_event(query: str = "") -> dict[str, Any]:
    return api_event("/users", "/users", query)


@pytest.fixture
def list_users(unit_functions: dict[str, LocalFunction]) -> LocalFunction:
    return unit_functions["ListUsersFunction"]


def test_returns_the_page_as_finspace_sent_it(list_users: LocalFunction, finspace_stub: Stubber) -> None:
    finspace_stub.add_response("list_users", PAGE, {"maxResults": 2})

    response = list_users.invoke(list_users_event("maxResults=2"))

    assert response["statusCode"] == 200
    assert header(response, "Cache-Control") == "no-store"
    assert json.loads(response["body"]) == PAGE


def test_max_results_defaults_to_100(list_users: LocalFunction, finspace_stub: Stubber) -> None:
    finspace_stub.add_response("list_users", {"users": []}, {"maxResults": 100})

    response = list_users.invoke(list_users_event())

    assert response["statusCode"] == 200


def test_last_page_has_no_next_token(list_users: LocalFunction, finspace_stub: Stubber) -> None:
    token = PAGE["nextToken"]
    assert isinstance(token, str)
    finspace_stub.add_response("list_users", {"users": PAGE["users"]}, {"maxResults": 100, "nextToken": token})

    # "+", "/" and "=" arrive percent-encoded and reach FinSpace decoded.
    response = list_users.invoke(list_users_event("nextToken=%2B%2F%2B%2FAAAABwHQXG1OZg%3D%3D"))

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"users": PAGE["users"]}


@pytest.mark.parametrize(
    ("query", "broken_rule"),
    [
        ("maxResults=0", "greater than or equal to 1"),
        ("maxResults=101", "less than or equal to 100"),
        ("maxResults=-1", "whole number written with the digits 0-9 only"),
        ("maxResults=abc", "whole number written with the digits 0-9 only"),
        ("maxResults=1e3", "whole number written with the digits 0-9 only"),
        ("maxResults=", "whole number written with the digits 0-9 only"),
        ("nextToken=", "at least 1 character"),
        # FinSpace's and the OpenAPI document's integer is digits only.
        ("maxResults=1_0", "whole number written with the digits 0-9 only"),
        ("maxResults=%2B5", "whole number written with the digits 0-9 only"),
        ("maxResults=%201", "whole number written with the digits 0-9 only"),
        ("maxResults=5%20", "whole number written with the digits 0-9 only"),
        ("maxResults=%EF%BC%95", "whole number written with the digits 0-9 only"),
    ],
    ids=[
        "zero",
        "101",
        "negative",
        "abc",
        "1e3",
        "empty",
        "empty-token",
        "underscore",
        "plus",
        "space",
        "trailing-space",
        "fullwidth-5",
    ],
)
def test_bad_parameters_are_400_without_calling_finspace(
    list_users: LocalFunction, finspace_stub: Stubber, query: str, broken_rule: str
) -> None:
    event = list_users_event(query)

    response = list_users.invoke(event)

    assert response["statusCode"] == 400
    problem = problem_of(response, event)
    assert problem["type"] == "urn:finspace-users:problem:bad-request"
    parameter = query.split("=")[0]
    assert f"query parameter {parameter}" in problem["detail"]
    assert broken_rule in problem["detail"]


def test_next_token_finspace_rejects_is_400(list_users: LocalFunction, finspace_stub: Stubber) -> None:
    finspace_stub.add_client_error("list_users", "ValidationException", "Invalid nextToken", 400)
    event = list_users_event("nextToken=forged")

    response = list_users.invoke(event)

    assert response["statusCode"] == 400
    problem = problem_of(response, event)
    assert problem["type"] == "urn:finspace-users:problem:bad-request"
    assert "nextToken" in problem["detail"]


def test_throttling_that_outlasts_retries_is_429_with_retry_after(
    list_users: LocalFunction, finspace_stub: Stubber
) -> None:
    finspace_stub.add_client_error("list_users", "ThrottlingException", "Rate exceeded", 429)
    event = list_users_event()

    response = list_users.invoke(event)

    assert response["statusCode"] == 429
    assert problem_of(response, event)["type"] == "urn:finspace-users:problem:throttled"
    assert int(header(response, "Retry-After") or "0") >= 1


@pytest.mark.parametrize(
    ("raw_path", "method"),
    [("/nope", "GET"), ("/users/abc/extra", "GET"), ("/users", "POST")],
    ids=["unknown-path", "too-deep", "wrong-method"],
)
def test_unknown_route_is_404_problem(list_users: LocalFunction, raw_path: str, method: str) -> None:
    event = api_event(raw_path, raw_path)
    event["httpMethod"] = method

    response = list_users.invoke(event)

    assert response["statusCode"] == 404
    assert problem_of(response, event)["type"] == "urn:finspace-users:problem:route-not-found"
