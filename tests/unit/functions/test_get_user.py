import json
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from finspace_users.aws.finspace import finspace_client, reset_finspace_clients
from localdev.harness.lambda_runtime import LocalFunction
from tests.conftest import CapturedLog
from tests.helpers import api_event, header, problem_of

FINSPACE_USER: dict[str, Any] = {
    "userId": "uR7fQm2LxK9pVd3sTa000042",
    "status": "ENABLED",
    "firstName": "Perpetua",
    "lastName": "Thistlewood",
    "emailAddress": "perpetua.thistlewood@example.com",
    "type": "APP_USER",
    "apiAccess": "DISABLED",
    "createTime": 1_700_000_000_123,
    "lastModifiedTime": 1_710_000_000_456,
}


def get_user_event(raw_id: str, decoded_id: str | None = None) -> dict[str, Any]:
    decoded = raw_id if decoded_id is None else decoded_id
    return api_event(f"/users/{raw_id}", "/users/{userId}", path_parameters={"userId": decoded})


@pytest.fixture
def get_user(unit_functions: dict[str, LocalFunction]) -> LocalFunction:
    return unit_functions["GetUserFunction"]


def test_returns_the_user_exactly_as_finspace_sent_it(get_user: LocalFunction, finspace_stub: Stubber) -> None:
    finspace_stub.add_response("get_user", FINSPACE_USER, {"userId": FINSPACE_USER["userId"]})

    response = get_user.invoke(get_user_event(FINSPACE_USER["userId"]))

    assert response["statusCode"] == 200
    assert header(response, "Content-Type") == "application/json"
    assert header(response, "Cache-Control") == "no-store"
    body = json.loads(response["body"])
    assert body == FINSPACE_USER  # same names, epoch-ms integers, absent fields absent
    assert isinstance(body["createTime"], int)
    assert "lastLoginTime" not in body


def test_percent_encoded_user_id_reaches_finspace_decoded(get_user: LocalFunction, finspace_stub: Stubber) -> None:
    finspace_stub.add_response("get_user", {"userId": "a+b c"}, {"userId": "a+b c"})

    response = get_user.invoke(get_user_event("a%2Bb%20c", "a+b c"))

    assert response["statusCode"] == 200


@pytest.mark.parametrize(
    ("raw_id", "decoded_id", "broken_rule"),
    [
        ("", "", "must not be empty"),
        ("%20%20%20", "   ", "path parameter userId: must contain a non-whitespace character"),
        ("x" * 27, "x" * 27, "at most 26 characters"),
    ],
    ids=["empty", "whitespace-only", "27-characters"],
)
def test_bad_user_id_is_400_without_calling_finspace(
    get_user: LocalFunction, finspace_stub: Stubber, raw_id: str, decoded_id: str, broken_rule: str
) -> None:
    event = get_user_event(raw_id, decoded_id)

    response = get_user.invoke(event)

    assert response["statusCode"] == 400
    problem = problem_of(response, event)
    assert problem["type"] == "urn:finspace-users:problem:bad-request"
    assert "userId" in problem["detail"]
    assert broken_rule in problem["detail"]
    assert "pattern" not in problem["detail"]
    assert "\\S" not in problem["detail"]


@pytest.mark.parametrize(
    ("error_code", "finspace_status", "expected_status", "expected_type"),
    [
        ("ValidationException", 400, 400, "bad-request"),
        ("ResourceNotFoundException", 404, 404, "user-not-found"),
        ("ThrottlingException", 429, 429, "throttled"),
        ("AccessDeniedException", 403, 502, "upstream-access-denied"),
        # FinSpace refusing a signature or token is refusing our credentials too.
        ("InvalidSignatureException", 403, 502, "upstream-access-denied"),
        ("ExpiredTokenException", 403, 502, "upstream-access-denied"),
        ("UnrecognizedClientException", 403, 502, "upstream-access-denied"),
        ("InternalServerException", 500, 502, "upstream-error"),
        ("SomethingNewException", 503, 502, "upstream-error"),
    ],
)
def test_finspace_errors_map_to_problems(
    get_user: LocalFunction,
    finspace_stub: Stubber,
    error_code: str,
    finspace_status: int,
    expected_status: int,
    expected_type: str,
) -> None:
    # FinSpace's message may echo PII; it must never reach the caller.
    finspace_stub.add_client_error(
        "get_user", error_code, "user perpetua.thistlewood@example.com is Perpetua", finspace_status
    )
    event = get_user_event("uR7fQm2LxK9pVd3sTa000042")

    response = get_user.invoke(event)

    assert response["statusCode"] == expected_status
    problem = problem_of(response, event)
    assert problem["type"] == f"urn:finspace-users:problem:{expected_type}"
    assert "perpetua" not in response["body"].lower()
    assert (header(response, "Retry-After") is not None) == (expected_status == 429)


def raise_before_call(error: Exception) -> Any:
    def handler(**_: Any) -> None:
        raise error

    return handler


@pytest.mark.parametrize(
    ("error", "expected_status", "expected_type"),
    [
        (ReadTimeoutError(endpoint_url="https://finspace"), 504, "upstream-timeout"),
        (ConnectTimeoutError(endpoint_url="https://finspace"), 504, "upstream-timeout"),
        (EndpointConnectionError(endpoint_url="https://finspace"), 502, "upstream-unreachable"),
        (RuntimeError("internal detail: table=secret-table"), 500, "internal-error"),
    ],
    ids=["read-timeout", "connect-timeout", "connection-refused", "our-bug"],
)
def test_transport_failures_and_bugs_map_to_problems(
    get_user: LocalFunction, error: Exception, expected_status: int, expected_type: str
) -> None:
    reset_finspace_clients()
    finspace_client().meta.events.register("before-call.finspace-data.GetUser", raise_before_call(error))
    event = get_user_event("uR7fQm2LxK9pVd3sTa000042")
    try:
        response = get_user.invoke(event)
    finally:
        reset_finspace_clients()

    assert response["statusCode"] == expected_status
    problem = problem_of(response, event)
    assert problem["type"] == f"urn:finspace-users:problem:{expected_type}"
    assert "secret-table" not in response["body"]
    assert "https://" not in response["body"]


def test_request_is_logged_once_with_route_status_and_user_id(
    get_user: LocalFunction, finspace_stub: Stubber, powertools_log: CapturedLog
) -> None:
    finspace_stub.add_response("get_user", FINSPACE_USER, {"userId": FINSPACE_USER["userId"]})
    event = get_user_event(FINSPACE_USER["userId"])

    get_user.invoke(event)

    lines = powertools_log.lines()
    access = [json.loads(line) for line in lines if json.loads(line)["message"] == "request"]
    assert len(access) == 1
    assert access[0]["route"] == "GET /users/{userId}"
    assert access[0]["status"] == 200
    assert access[0]["userId"] == FINSPACE_USER["userId"]
    assert access[0]["correlation_id"] == event["requestContext"]["requestId"]
    assert isinstance(access[0]["latencyMs"], float)
    joined = "\n".join(lines)
    for pii in ("Perpetua", "Thistlewood", "perpetua.thistlewood@example.com"):
        assert pii not in joined


def lines_beside_the_request_line(powertools_log: CapturedLog) -> list[tuple[str, str]]:
    entries = [json.loads(line) for line in powertools_log.lines()]
    return [(entry["level"], entry["message"]) for entry in entries if entry["message"] != "request"]


FINSPACE_FAILED = [("WARNING", "FinSpace call failed")]


@pytest.mark.parametrize(
    ("error_code", "finspace_status", "expected_lines"),
    [
        ("ResourceNotFoundException", 404, []),  # a normal answer, not a failure
        ("ValidationException", 400, [("INFO", "FinSpace rejected the request parameters")]),
        ("ThrottlingException", 429, FINSPACE_FAILED),
        ("AccessDeniedException", 403, FINSPACE_FAILED),
        ("InternalServerException", 500, FINSPACE_FAILED),
    ],
)
def test_each_finspace_answer_is_logged_at_its_level(
    get_user: LocalFunction,
    finspace_stub: Stubber,
    powertools_log: CapturedLog,
    error_code: str,
    finspace_status: int,
    expected_lines: list[tuple[str, str]],
) -> None:
    finspace_stub.add_client_error("get_user", error_code, "message", finspace_status)

    get_user.invoke(get_user_event("uR7fQm2LxK9pVd3sTa000042"))

    assert lines_beside_the_request_line(powertools_log) == expected_lines


@pytest.mark.parametrize(
    ("error", "expected_lines"),
    [
        (ReadTimeoutError(endpoint_url="https://finspace"), FINSPACE_FAILED),
        (EndpointConnectionError(endpoint_url="https://finspace"), FINSPACE_FAILED),
        (RuntimeError("our bug"), [("ERROR", "Unhandled error")]),
    ],
    ids=["timeout", "unreachable", "our-bug"],
)
def test_transport_failures_and_bugs_are_logged_at_their_level(
    get_user: LocalFunction, powertools_log: CapturedLog, error: Exception, expected_lines: list[tuple[str, str]]
) -> None:
    reset_finspace_clients()
    finspace_client().meta.events.register("before-call.finspace-data.GetUser", raise_before_call(error))
    try:
        get_user.invoke(get_user_event("uR7fQm2LxK9pVd3sTa000042"))
    finally:
        reset_finspace_clients()

    assert lines_beside_the_request_line(powertools_log) == expected_lines


def test_bad_input_logs_only_the_request_line(get_user: LocalFunction, powertools_log: CapturedLog) -> None:
    get_user.invoke(get_user_event("%20", " "))

    assert lines_beside_the_request_line(powertools_log) == []
