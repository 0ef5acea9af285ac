"""GET /users/{userId} and GET /users end to end: HTTP front, handler, real boto3 HTTP,
FinSpace emulator."""

import logging
from typing import Any

import pytest
import requests

from finspace_users.aws.observability import logger
from localdev.harness.stack import LocalStack
from tests.conftest import CapturedLog
from tests.helpers import CALLER_AUTH, http_problem_of
from tests.integration.conftest import SEEDED_USERS


def get(url: str, **params: Any) -> requests.Response:
    return requests.get(url, params=params, timeout=30, auth=CALLER_AUTH)


def test_existing_user_is_returned_as_finspace_holds_it(api_url: str, stack: LocalStack) -> None:
    expected = stack.emulator.directory.user_at(17)

    response = get(f"{api_url}/users/{expected['userId']}")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == expected


def test_missing_user_is_404_problem(api_url: str) -> None:
    response = get(f"{api_url}/users/no-such-user")

    assert response.status_code == 404
    http_problem_of(response, "user-not-found")


def test_paging_returns_every_user_exactly_once(api_url: str, stack: LocalStack) -> None:
    seen: list[str] = []
    tokens: list[str] = []
    params: dict[str, Any] = {"maxResults": 7}
    while True:
        response = get(f"{api_url}/users", **params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["users"]) <= 7
        seen.extend(user["userId"] for user in page["users"])
        if "nextToken" not in page:
            break
        tokens.append(page["nextToken"])
        params["nextToken"] = page["nextToken"]  # requests percent-encodes "+", "/" and "="

    assert seen == [user["userId"] for user in stack.emulator.directory]
    assert len(seen) == len(set(seen)) == SEEDED_USERS
    assert len(tokens) == -(-SEEDED_USERS // 7) - 1  # 36 pages, the last without nextToken
    assert all("+" in token and "/" in token and token.endswith("=") for token in tokens)


def test_percent_encoded_token_survives_a_hand_built_url(api_url: str) -> None:
    first = get(f"{api_url}/users", maxResults=3).json()
    token = first["nextToken"]
    encoded = token.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")

    second = requests.get(f"{api_url}/users?maxResults=3&nextToken={encoded}", timeout=30, auth=CALLER_AUTH)

    assert second.status_code == 200
    assert second.json()["users"][0]["userId"] not in {user["userId"] for user in first["users"]}


def test_forged_next_token_is_400_problem(api_url: str) -> None:
    response = get(f"{api_url}/users", maxResults=3, nextToken="+/+/AAAAAAAAAAAAAA==")

    assert response.status_code == 400
    http_problem_of(response, "bad-request")


def test_route_the_api_does_not_define_is_refused_like_api_gateway(api_url: str) -> None:
    response = get(f"{api_url}/groups")

    assert response.status_code == 403
    http_problem_of(response, "forbidden")


def test_no_name_or_email_reaches_any_log(
    api_url: str,
    stack: LocalStack,
    powertools_log: CapturedLog,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    logger.setLevel("DEBUG")
    try:
        for user in stack.emulator.directory.page(0, 20)[0]:
            assert get(f"{api_url}/users/{user['userId']}").status_code == 200
        params: dict[str, Any] = {"maxResults": 100}
        while True:
            page = get(f"{api_url}/users", **params).json()
            if "nextToken" not in page:
                break
            params["nextToken"] = page["nextToken"]
        for path, params in [
            ("/users/no-such-user", {}),
            ("/users/%20", {}),
            ("/users", {"maxResults": "abc"}),
            ("/users", {"nextToken": "forged"}),
        ]:
            assert get(f"{api_url}{path}", **params).status_code in {400, 404}
    finally:
        logger.setLevel("INFO")

    logged = "\n".join([*powertools_log.lines(), caplog.text, capsys.readouterr().out])
    assert '"message":"request"' in logged  # the capture saw the access lines
    for user in stack.emulator.directory:
        for field in ("firstName", "lastName", "emailAddress"):
            assert user[field] not in logged, f"{field} of {user['userId']} was logged"
