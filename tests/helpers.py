"""Builders and checks the suites share."""

import json
from typing import Any

from localdev.front import rest_proxy_event

PROBLEM_FIELDS = {"type", "title", "status", "detail", "requestId"}


def api_event(
    raw_path: str, resource: str, query: str = "", path_parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway REST proxy event, built the way the local HTTP front builds them."""
    return rest_proxy_event("GET", raw_path, query, [("Accept", "application/json")], resource, path_parameters, b"")


def header(response: dict[str, Any], name: str) -> str | None:
    values = response.get("multiValueHeaders", {}).get(name)
    return values[-1] if values else None


def problem_of(response: dict[str, Any], event: dict[str, Any] | None) -> dict[str, Any]:
    """The RFC 9457 body of an error response, after checking its shape and headers."""
    assert header(response, "Content-Type") == "application/problem+json"
    assert header(response, "Cache-Control") == "no-store"
    body: dict[str, Any] = json.loads(response["body"])
    assert set(body) == PROBLEM_FIELDS
    assert body["status"] == response["statusCode"]
    assert body["type"].startswith("urn:finspace-users:problem:")
    assert body["requestId"] == (event["requestContext"]["requestId"] if event else None)
    assert "Traceback" not in response["body"]
    return body


def http_problem_of(response: Any, slug: str) -> dict[str, Any]:
    """The RFC 9457 body of an HTTP error answer, after checking its shape, headers and type."""
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert set(body) == PROBLEM_FIELDS
    assert body["status"] == response.status_code
    assert body["type"] == f"urn:finspace-users:problem:{slug}"
    assert body["requestId"]
    assert "Traceback" not in response.text
    return body
