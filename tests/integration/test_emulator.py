"""The emulator answers like FinSpace: boto3 1.43.116 parses every answer into the
modeled shapes and exceptions, and unsigned or mis-scoped requests are refused."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from localdev.emulator import FinSpaceEmulator

KEYS = Credentials("AKIDEXAMPLE", "secret")


@pytest.fixture(scope="module")
def emulator() -> FinSpaceEmulator:
    return FinSpaceEmulator(user_count=30, seed=7)


@pytest.fixture(scope="module")
def endpoint(emulator: FinSpaceEmulator) -> Iterator[str]:
    with emulator.serving() as url:
        yield url


@pytest.fixture
def client(endpoint: str) -> Any:
    return boto3.client(
        "finspace-data",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=KEYS.access_key,
        aws_secret_access_key=KEYS.secret_key,
    )


def signed_get(url: str, service: str = "finspace-api") -> requests.Response:
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(KEYS, service, "us-east-1").add_auth(request)
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
