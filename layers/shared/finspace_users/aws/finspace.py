"""The FinSpace Data client and the two calls this service makes.

Responses are returned as FinSpace sent them, minus ``ResponseMetadata``: field names
and epoch-millisecond integers pass through untouched, and absent fields stay absent.
Pages the snapshot reads also keep FinSpace's field order (orjson_page_parser.py).
"""

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    DeferredRefreshableCredentials,
    RefreshableCredentials,
)
from botocore.exceptions import ClientError

from finspace_users.aws.errors import error_code
from finspace_users.aws.observability import metrics
from finspace_users.aws.sessions import botocore_session, role_session

if TYPE_CHECKING:
    from types_boto3_finspace_data import FinSpaceDataClient

# FinSpace's own rule for a userId (botocore model, shape UserId).
USER_ID_RULES: dict[str, Any] = {"min_length": 1, "max_length": 26, "pattern": r".*\S.*"}

# Three attempts of at most 1 s to connect and 3 s per read, plus standard-mode
# backoff (at most 1 s, then 2 s), end within 15 s. With the page cache's own budget
# (idempotency.STORE_CONFIG) a request stays inside the 25 s function timeout and API
# Gateway's 29 s, so callers get our 504 rather than the gateway's bare one.
CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=3,
    retries={"mode": "standard", "total_max_attempts": 3},
)


# The snapshot walks up to thousands of pages with no caller waiting: it may wait out
# throttling longer (adaptive mode adds client-side rate limiting) and read slower.
BATCH_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=10,
    retries={"mode": "adaptive", "total_max_attempts": 10},
)

# FinSpace grants 1 to 60 minutes. FINSPACE_CREDENTIAL_SECONDS shortens the lifetime
# this client relies on (and asks for whole minutes covering it); sub-minute values
# serve tests against the emulator, whose credential lifetime is a knob.
DEFAULT_CREDENTIAL_SECONDS = 3600
# botocore refreshes 15 minutes (advisory) and 10 minutes (mandatory) before expiry;
# shorter-lived credentials get the same proportions of their lifetime.
ADVISORY_REFRESH_SHARE, MANDATORY_REFRESH_SHARE = 15 / 60, 10 / 60


@cache
def finspace_client() -> "FinSpaceDataClient":
    """The client for API requests, built once per container so later invocations
    reuse its connections."""
    return _new_client(_data_session(), CLIENT_CONFIG)


@cache
def finspace_batch_client() -> "FinSpaceDataClient":
    """The client for the snapshot: same credentials, more patience, and pages of users
    parsed by orjson."""
    # Imported here, so that the API functions' cold start does not load orjson.
    from finspace_users.aws.orjson_page_parser import BEFORE_PARSING_A_PAGE, parse_users_page_with_orjson

    client = _new_client(_data_session(), BATCH_CLIENT_CONFIG)
    client.meta.events.register(BEFORE_PARSING_A_PAGE, parse_users_page_with_orjson)
    return client


def reset_finspace_clients() -> None:
    """Drop the clients, their connections and any FinSpace credentials."""
    for cached in (finspace_client, finspace_batch_client, _data_session):
        cached.cache_clear()


@cache
def _data_session() -> boto3.session.Session:
    """The session that signs data calls.

    With FINSPACE_ENVIRONMENT_ID set, it signs with FinSpace programmatic access
    credentials, which the principal's credentials obtain and botocore refreshes before
    they expire. Without it, the principal's credentials sign directly.
    """
    principal = _principal_session()
    environment_id = os.environ.get("FINSPACE_ENVIRONMENT_ID")
    if not environment_id:
        return principal
    credentials = _programmatic_access_credentials(_new_client(principal, CLIENT_CONFIG), environment_id)
    return boto3.session.Session(botocore_session=_session_signing_with(credentials))


def _principal_session() -> boto3.session.Session:
    """The principal FinSpace knows. With FINSPACE_PRINCIPAL_ROLE_ARN set, both functions
    assume that one role (so FinSpace registers one principal for two execution roles),
    and botocore refreshes its credentials before they expire. Without it, the
    function's own role."""
    role_arn = os.environ.get("FINSPACE_PRINCIPAL_ROLE_ARN")
    if not role_arn:
        return role_session()
    source = role_session()
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=source.client,
        source_credentials=source.get_credentials(),
        role_arn=role_arn,
        extra_args={"RoleSessionName": "finspace-users"},
    )
    credentials = DeferredRefreshableCredentials(method="assume-role", refresh_using=fetcher.fetch_credentials)
    return boto3.session.Session(botocore_session=_session_signing_with(credentials))


def _new_client(session: boto3.session.Session, config: Config) -> "FinSpaceDataClient":
    return session.client(
        "finspace-data",
        region_name=os.environ.get("AWS_REGION"),
        endpoint_url=os.environ.get("FINSPACE_ENDPOINT_URL") or None,
        config=config,
    )


def _programmatic_access_credentials(role_client: "FinSpaceDataClient", environment_id: str) -> RefreshableCredentials:
    wanted_seconds = int(os.environ.get("FINSPACE_CREDENTIAL_SECONDS", DEFAULT_CREDENTIAL_SECONDS))
    minutes = min(max(math.ceil(wanted_seconds / 60), 1), 60)

    def exchange() -> tuple[dict[str, str], float]:
        requested_at = datetime.now(UTC)
        with _measured("GetProgrammaticAccessCredentials"):
            response = role_client.get_programmatic_access_credentials(
                environmentId=environment_id, durationInMinutes=minutes
            )
        keys = response["credentials"]
        lifetime = min(timedelta(minutes=response["durationInMinutes"]), timedelta(seconds=wanted_seconds))
        metadata = {
            "access_key": keys["accessKeyId"],
            "secret_key": keys["secretAccessKey"],
            "token": keys["sessionToken"],
            # Counted from before the request, so the local expiry is never late.
            "expiry_time": (requested_at + lifetime).isoformat(),
        }
        return metadata, lifetime.total_seconds()

    metadata, lifetime_seconds = exchange()
    return RefreshableCredentials.create_from_metadata(
        metadata=metadata,
        refresh_using=lambda: exchange()[0],
        method=_FixedCredentials.METHOD,
        advisory_timeout=math.ceil(lifetime_seconds * ADVISORY_REFRESH_SHARE),
        mandatory_timeout=math.ceil(lifetime_seconds * MANDATORY_REFRESH_SHARE),
    )


class _FixedCredentials(CredentialProvider):
    METHOD = "finspace-programmatic-access"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


def _session_signing_with(credentials: RefreshableCredentials) -> botocore.session.Session:
    session = botocore_session()
    session.get_component("credential_provider").insert_before("env", _FixedCredentials(credentials))
    return session


@contextmanager
def _measured(operation: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except ClientError as error:
        if error_code(error) == "ThrottlingException":
            metrics.add_metric(name="FinSpaceThrottles", unit=MetricUnit.Count, value=1)
        raise
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        metrics.add_metric(name=f"{operation}LatencyMs", unit=MetricUnit.Milliseconds, value=elapsed_ms)


def _without_metadata(response: Any) -> dict[str, Any]:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def get_user(user_id: str) -> dict[str, Any]:
    with _measured("GetUser"):
        return _without_metadata(finspace_client().get_user(userId=user_id))


def list_users_page(
    max_results: int, next_token: str | None = None, client: "FinSpaceDataClient | None" = None
) -> dict[str, Any]:
    """One page: ``{"users": [...], "nextToken": ...}``, nextToken absent on the last page."""
    params: dict[str, Any] = {"maxResults": max_results}
    if next_token is not None:
        params["nextToken"] = next_token
    with _measured("ListUsers"):
        page = _without_metadata((client or finspace_client()).list_users(**params))
    page.setdefault("users", [])
    return page
