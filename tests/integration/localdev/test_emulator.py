"""The emulator answers like FinSpace: boto3 1.43.116 parses every answer into the
modeled shapes and exceptions, and it recomputes every signature, refusing unsigned,
mis-scoped, badly signed and expired-token requests as AWS does."""

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from localdev.harness.defaults import REGION
from localdev.harness.finspace_emulator import FinSpaceEmulator

KEYS = Credentials("AKIDEXAMPLE", "secret")


@pytest.fixture(scope="module")
def emulator() -> FinSpaceEmulator:
    return FinSpaceEmulator(user_count=30, seed=7, role_keys={KEYS.access_key: KEYS.secret_key})


@pytest.fixture(scope="module")
def endpoint(emulator: FinSpaceEmulator) -> Iterator[str]:
    with emulator.serving() as url:
        yield url


def client_signing_with(endpoint: str, access_key: str, secret_key: str, token: str | None = None) -> Any:
    return boto3.client(
        "finspace-data",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=token,
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def client(endpoint: str) -> Any:
    return client_signing_with(endpoint, KEYS.access_key, KEYS.secret_key)


def signed_get(url: str, service: str = "finspace-api") -> requests.Response:
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(KEYS, service, REGION).add_auth(request)
    return requests.get(url, headers=dict(request.headers), timeout=10)


def test_seeded_directory_is_deterministic() -> None:
    first, second = FinSpaceEmulator(user_count=5, seed=3), FinSpaceEmulator(user_count=5, seed=3)
    assert list(first.directory) == list(second.directory)
    assert list(first.directory) != list(FinSpaceEmulator(user_count=5, seed=4).directory)


def test_get_user_parses_into_the_modeled_shape(client: Any, emulator: FinSpaceEmulator) -> None:
    expected = emulator.directory.user_at(3)

    response = client.get_user(userId=expected["userId"])

    response.pop("ResponseMetadata")
    assert response == expected
    assert all(isinstance(response[field], int) for field in ("createTime", "lastModifiedTime"))


def test_modeled_exceptions_come_back_as_boto3_exception_classes(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_user(userId="missing")
    with pytest.raises(client.exceptions.ValidationException):
        client.list_users(maxResults=5, nextToken="not-a-token")
    with pytest.raises(client.exceptions.ValidationException):
        client.get_user(userId="   ")


def test_paginator_walks_the_directory(client: Any, emulator: FinSpaceEmulator) -> None:
    pages = list(client.get_paginator("list_users").paginate(maxResults=4))

    assert [user for page in pages for user in page["users"]] == list(emulator.directory)
    assert "nextToken" not in pages[-1]


@pytest.mark.parametrize(
    ("query", "message"),
    [("", "maxResults is required"), ("?maxResults=0", "between 1 and 100"), ("?maxResults=101", "between 1 and 100")],
)
def test_list_users_limits_are_enforced_server_side(endpoint: str, query: str, message: str) -> None:
    response = signed_get(f"{endpoint}/user{query}")

    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "ValidationException"
    assert message in response.json()["message"]


def test_credentials_are_issued_for_1_to_60_minutes(client: Any, endpoint: str) -> None:
    issued = client.get_programmatic_access_credentials(environmentId="env-1", durationInMinutes=15)

    assert issued["durationInMinutes"] == 15
    assert issued["credentials"]["accessKeyId"].startswith("ASIA")
    too_long = signed_get(f"{endpoint}/credentials/programmatic?environmentId=env-1&durationInMinutes=61")
    assert too_long.status_code == 400
    assert too_long.headers["x-amzn-ErrorType"] == "ValidationException"


def test_unsigned_request_is_refused(endpoint: str) -> None:
    response = requests.get(f"{endpoint}/user?maxResults=1", timeout=10)

    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_signature_for_another_service_is_refused(endpoint: str) -> None:
    response = signed_get(f"{endpoint}/user?maxResults=1", service="s3")

    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] == "InvalidSignatureException"


def test_calls_are_counted_per_operation(client: Any, emulator: FinSpaceEmulator) -> None:
    before = emulator.calls["GetUser"]

    client.get_user(userId=emulator.directory.user_at(0)["userId"])

    assert emulator.calls["GetUser"] == before + 1


def test_fault_knobs_throttle_and_fail(endpoint: str, emulator: FinSpaceEmulator) -> None:
    emulator.faults.throttle_rate = 1.0
    try:
        throttled = signed_get(f"{endpoint}/user?maxResults=1")
    finally:
        emulator.faults.throttle_rate = 0.0
    assert throttled.status_code == 429
    assert throttled.headers["x-amzn-ErrorType"] == "ThrottlingException"

    requests.post(f"{endpoint}/_emulator/faults", json={"error_rate": 1.0}, timeout=10)
    try:
        failed = signed_get(f"{endpoint}/user?maxResults=1")
    finally:
        requests.post(f"{endpoint}/_emulator/faults", json={"error_rate": 0.0}, timeout=10)
    assert failed.status_code == 500
    assert failed.headers["x-amzn-ErrorType"] == "InternalServerException"


def error_code_of(call: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as refused:
        call()
    response = refused.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_data_call_signed_with_the_wrong_secret_is_refused(endpoint: str) -> None:
    wrong = client_signing_with(endpoint, KEYS.access_key, "not-the-secret")

    assert error_code_of(lambda: wrong.list_users(maxResults=1)) == (403, "InvalidSignatureException")


def test_data_call_signed_with_an_unknown_key_is_refused(endpoint: str) -> None:
    unknown = client_signing_with(endpoint, "AKIDUNKNOWN", KEYS.secret_key)

    assert error_code_of(lambda: unknown.list_users(maxResults=1)) == (403, "UnrecognizedClientException")


def test_issued_key_signs_data_calls_until_it_expires(client: Any, endpoint: str, emulator: FinSpaceEmulator) -> None:
    emulator.credential_lifetime_seconds = 1
    try:
        issued = client.get_programmatic_access_credentials(environmentId="env-1")["credentials"]
    finally:
        emulator.credential_lifetime_seconds = None
    finspace_keys = client_signing_with(
        endpoint, issued["accessKeyId"], issued["secretAccessKey"], issued["sessionToken"]
    )
    assert len(finspace_keys.list_users(maxResults=1)["users"]) == 1
    wrong_token = client_signing_with(endpoint, issued["accessKeyId"], issued["secretAccessKey"], "forged")
    assert error_code_of(lambda: wrong_token.list_users(maxResults=1)) == (403, "UnrecognizedClientException")

    time.sleep(1.1)

    assert error_code_of(lambda: finspace_keys.list_users(maxResults=1)) == (403, "ExpiredTokenException")


def test_directory_changes_over_http_show_in_boto3s_listing() -> None:
    """What `make run` users do between two snapshots: add, change and remove users."""
    emulator = FinSpaceEmulator(user_count=5, seed=3, role_keys={KEYS.access_key: KEYS.secret_key})
    with emulator.serving() as url:
        client = client_signing_with(url, KEYS.access_key, KEYS.secret_key)
        before = [user["userId"] for user in client.list_users(maxResults=100)["users"]]

        added = requests.post(f"{url}/_emulator/users", json={"count": 2}, timeout=10)
        patched = requests.patch(
            f"{url}/_emulator/users/{before[1]}", json={"type": "SUPER_USER", "apiAccessPrincipalArn": None}, timeout=10
        )
        deleted = requests.delete(f"{url}/_emulator/users/{before[2]}", timeout=10)
        pages = list(client.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2}))
        after = [user["userId"] for page in pages for user in page["users"]]
        changed = client.get_user(userId=before[1])
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_user(userId=before[2])
        counted = requests.get(f"{url}/_emulator/directory", timeout=10).json()["userCount"]

    assert added.status_code == 200
    assert patched.status_code == 200
    assert deleted.status_code == 204
    assert after == [before[0], before[1], *before[3:], *added.json()["added"]]
    assert [len(page["users"]) for page in pages] == [2, 2, 2]  # the removed user leaves no empty page
    assert changed["type"] == "SUPER_USER"
    assert "apiAccessPrincipalArn" not in changed
    assert counted == 6


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error_type"),
    [
        ("PATCH", "/_emulator/users/nobody000000", {"type": "SUPER_USER"}, 404, "ResourceNotFoundException"),
        ("DELETE", "/_emulator/users/nobody000000", None, 404, "ResourceNotFoundException"),
        ("POST", "/_emulator/users", {"count": "many"}, 400, "ValidationException"),
        ("POST", "/_emulator/users", {"count": -3}, 400, "ValidationException"),
        ("PATCH", "/_emulator/users/{first}", ["not", "an", "object"], 400, "ValidationException"),
        ("PATCH", "/_emulator/users/{first}", {"userId": "someone-else"}, 400, "ValidationException"),
    ],
    ids=[
        "patch-unknown-user",
        "delete-unknown-user",
        "count-not-a-number",
        "count-below-one",
        "body-not-an-object",
        "user-id-changed",
    ],
)
def test_bad_directory_changes_are_refused_clearly(
    emulator: FinSpaceEmulator, endpoint: str, method: str, path: str, body: Any, status: int, error_type: str
) -> None:
    path = path.format(first=emulator.directory.user_at(0)["userId"])

    answer = requests.request(method, endpoint + path, json=body, timeout=10)

    assert answer.status_code == status
    assert answer.headers["x-amzn-ErrorType"] == error_type
    assert answer.json()["message"]
