"""The local front checks SigV4 as API Gateway's AWS_IAM does: service execute-api, the
stack's region, the key pair it was given, X-Amz-Date within 5 minutes. Every refusal
is the template's 403 forbidden problem, and no function runs."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.auth
import pytest
import requests

from localdev.harness.defaults import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from localdev.harness.sigv4 import SigV4Signer
from localdev.harness.stack import LocalStack
from tests.helpers import CALLER_AUTH, http_problem_of

ROUTES = ["/users?maxResults=2", "/users/{first_user}"]
DETAILS = {
    "unsigned": "The request is not signed, or no route matches its method and path.",
    "badly signed": "The SigV4 signature of the request is not valid.",
}


def route_url(api_url: str, stack: LocalStack, route: str) -> str:
    return api_url + route.format(first_user=stack.emulator.directory.user_at(0)["userId"])


def signed_by(access_key: str, secret_key: str, region: str = REGION, service: str = "execute-api") -> Any:
    return SigV4Signer(access_key, secret_key, region, service)


def malformed(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    CALLER_AUTH(prepared)
    prepared.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=testing, Signature=not-hex"
    return prepared


def calls_of(stack: LocalStack) -> int:
    return sum(stack.emulator.calls.values())


@pytest.mark.parametrize("route", ROUTES)
def test_signed_request_is_served(api_url: str, stack: LocalStack, route: str) -> None:
    response = requests.get(route_url(api_url, stack, route), auth=CALLER_AUTH, timeout=30)

    assert response.status_code == 200


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("case", "auth", "kind"),
    [
        ("no Authorization header", None, "unsigned"),
        ("malformed Authorization header", malformed, "badly signed"),
        ("wrong secret", signed_by(ACCESS_KEY_ID, "not-the-secret"), "badly signed"),
        ("unknown access key", signed_by("AKIDUNKNOWN", SECRET_ACCESS_KEY), "badly signed"),
        ("wrong service", signed_by(ACCESS_KEY_ID, SECRET_ACCESS_KEY, service="finspace-api"), "badly signed"),
        ("wrong region", signed_by(ACCESS_KEY_ID, SECRET_ACCESS_KEY, region="eu-west-1"), "badly signed"),
    ],
)
def test_request_that_api_gateway_would_refuse_is_403_forbidden(
    api_url: str, stack: LocalStack, route: str, case: str, auth: Callable[..., Any] | None, kind: str
) -> None:
    calls_before = calls_of(stack)

    response = requests.get(route_url(api_url, stack, route), auth=auth, timeout=30)

    assert response.status_code == 403, case
    assert http_problem_of(response, "forbidden")["detail"] == DETAILS[kind]
    assert calls_of(stack) == calls_before, "a refused request reached FinSpace"


@pytest.mark.parametrize("minutes", [-6, 6])
def test_x_amz_date_more_than_5_minutes_off_is_403_forbidden(
    api_url: str, stack: LocalStack, monkeypatch: pytest.MonkeyPatch, minutes: int
) -> None:
    signed_at = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=minutes)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: signed_at)

    response = requests.get(route_url(api_url, stack, ROUTES[0]), auth=CALLER_AUTH, timeout=30)

    assert response.status_code == 403
    assert http_problem_of(response, "forbidden")["detail"] == DETAILS["badly signed"]


def test_x_amz_date_within_5_minutes_is_accepted(
    api_url: str, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_at = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=4)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: signed_at)

    response = requests.get(route_url(api_url, stack, ROUTES[0]), auth=CALLER_AUTH, timeout=30)

    assert response.status_code == 200


def test_tampered_query_after_signing_is_403(api_url: str, stack: LocalStack) -> None:
    prepared = requests.Request("GET", f"{api_url}/users?maxResults=2").prepare()
    CALLER_AUTH(prepared)
    prepared.url = f"{api_url}/users?maxResults=3"

    with requests.Session() as session:
        response = session.send(prepared, timeout=30)

    assert response.status_code == 403
    http_problem_of(response, "forbidden")
