"""Runs in a fresh interpreter, as a Lambda container would: `python -m benchmarks.child
MODE REQUEST_JSON`. Prints one JSON line of measurements. Imports nothing of ours
before the clock starts."""

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak so far) of this process, from Linux's /proc."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def without_metadata(response: Any) -> dict[str, Any]:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def bare_handler(operation: str) -> Any:
    """The baseline: boto3 only, the same request, the same emulator."""
    import boto3

    client = boto3.client("finspace-data", endpoint_url=os.environ["FINSPACE_ENDPOINT_URL"])

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        body = without_metadata(
            client.get_user(userId=event["pathParameters"]["userId"])
            if operation == "get_user"
            else client.list_users(maxResults=int(event["queryStringParameters"]["maxResults"]))
        )
        return {"statusCode": 200, "body": json.dumps(body)}

    return handler


def powertools_handler() -> Any:
    """The floor for any handler built the idiomatic Powertools way: a resolver with
    validation, Logger and Metrics around the same boto3 call, and nothing else."""
    from typing import Annotated

    import boto3
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.params import Query

    logger, metrics = Logger(), Metrics()
    app = APIGatewayRestResolver(enable_validation=True)
    client = boto3.client("finspace-data", endpoint_url=os.environ["FINSPACE_ENDPOINT_URL"])

    @app.get("/users/<userId>")
    def get_user(userId: str) -> dict[str, Any]:  # noqa: N803
        return without_metadata(client.get_user(userId=userId))

    @app.get("/users")
    def list_users(maxResults: Annotated[int, Query(ge=1, le=100)]) -> dict[str, Any]:  # noqa: N803
        return without_metadata(client.list_users(maxResults=maxResults))

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler


def our_handler(function_dir: str) -> Any:
    sys.path[:0] = [os.environ["LAYER_DIR"], function_dir]
    import app  # type: ignore[import-not-found]  # the function's own app.py, found on sys.path

    return app.lambda_handler


def cold(mode: str, event: dict[str, Any]) -> dict[str, Any]:
    if mode == "artifact":  # a built artifact, found on the sys.path Lambda would give it
        import app

        handler = app.lambda_handler
    elif mode.startswith("bare-"):
        handler = bare_handler(mode.removeprefix("bare-"))
    elif mode == "powertools":
        handler = powertools_handler()
    else:
        handler = our_handler(mode)
    response = handler(event, Context())
    assert response["statusCode"] == 200, response
    return {"ms": (time.perf_counter() - STARTED) * 1000}


def sweep(mode: str, request: dict[str, Any]) -> dict[str, Any]:
    """A whole-directory walk: our snapshot, or a raw boto3 paginator loop."""
    if mode == "snapshot":
        handler = our_handler(request["function_dir"])
        event: dict[str, Any] = {"action": "snapshot", "scheduledTime": request["scheduledTime"]}
        before = rss_mb("VmRSS")
        started = time.perf_counter()
        summary = handler(event, Context())
        users, changes = summary["userCount"], summary["changes"]
    else:
        import boto3

        before = rss_mb("VmRSS")
        started = time.perf_counter()  # the snapshot builds its clients inside its time too
        client = boto3.client("finspace-data", endpoint_url=os.environ["FINSPACE_ENDPOINT_URL"])
        pages = client.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 100})
        users, changes = sum(len(page["users"]) for page in pages), None
    elapsed_ms = (time.perf_counter() - started) * 1000
    peak = rss_mb("VmHWM")
    return {"ms": elapsed_ms, "users": users, "changes": changes, "rss_growth_mb": peak - before, "peak_rss_mb": peak}


if __name__ == "__main__":
    mode, request = sys.argv[1], json.loads(sys.argv[2])
    with open(os.devnull, "w") as quiet:
        real_stdout, sys.stdout = sys.stdout, quiet  # the handlers' log lines and metrics
        result = sweep(mode, request) if mode in {"snapshot", "paginator"} else cold(mode, request)
        sys.stdout = real_stdout
    print(json.dumps(result))
