"""The FinSpace Data client and the two calls this service makes.

Responses are returned as FinSpace sent them, minus ``ResponseMetadata``: field names
and epoch-millisecond integers pass through untouched, and absent fields stay absent.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config
from botocore.exceptions import ClientError

from finspace_users.observability import metrics

if TYPE_CHECKING:
    from types_boto3_finspace_data import FinSpaceDataClient

# Three attempts of at most 1 s to connect and 4 s per read, plus standard-mode
# backoff (at most 1 s, then 2 s), end within about 18 s: well inside API Gateway's
# 29 s, so callers get our 504 rather than the gateway's bare one.
CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=4,
    retries={"mode": "standard", "total_max_attempts": 3},
)


@cache
def finspace_client() -> "FinSpaceDataClient":
    """Build the client once per container; later invocations reuse its connections."""
    return boto3.session.Session().client(
        "finspace-data",
        region_name=os.environ.get("AWS_REGION"),
        endpoint_url=os.environ.get("FINSPACE_ENDPOINT_URL") or None,
        config=CLIENT_CONFIG,
    )


@contextmanager
def _measured(operation: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ThrottlingException":
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


def list_users_page(max_results: int, next_token: str | None = None) -> dict[str, Any]:
    """One page: ``{"users": [...], "nextToken": ...}``, nextToken absent on the last page."""
    params: dict[str, Any] = {"maxResults": max_results}
    if next_token is not None:
        params["nextToken"] = next_token
    with _measured("ListUsers"):
        page = _without_metadata(finspace_client().list_users(**params))
    page.setdefault("users", [])
    return page
