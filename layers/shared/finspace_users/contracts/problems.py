"""RFC 9457 problem details, and the mapping from failures to them.

Bodies carry fixed, reviewed texts only. Nothing from the caller's input beyond
parameter names, and nothing FinSpace said, reaches a body: FinSpace messages may
echo names or e-mails, and internal detail helps attackers more than callers.
"""

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:finspace-users:problem:"
RETRY_AFTER_SECONDS = "2"


@dataclass(frozen=True)
class Problem:
    status: int
    slug: str
    title: str
    detail: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, request_id: str | None) -> dict[str, Any]:
        return {
            "type": PROBLEM_TYPE_PREFIX + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "requestId": request_id,
        }


def bad_request(detail: str) -> Problem:
    return Problem(400, "bad-request", "Bad request", detail)


def route_not_found() -> Problem:
    return Problem(404, "route-not-found", "Not found", "There is no route for this method and path.")


def unsupported_event(detail: str) -> Problem:
    return Problem(400, "unsupported-event", "Unsupported event", detail)


USER_NOT_FOUND = Problem(404, "user-not-found", "User not found", "No FinSpace user has this userId.")
THROTTLED = Problem(
    429,
    "throttled",
    "Too many requests",
    "FinSpace is throttling requests. Retry after the number of seconds in Retry-After.",
    {"Retry-After": RETRY_AFTER_SECONDS},
)
UPSTREAM_ACCESS_DENIED = Problem(
    502,
    "upstream-access-denied",
    "FinSpace denied access",
    "FinSpace refused this service's credentials. An operator must check the role's FinSpace registration.",
)
UPSTREAM_ERROR = Problem(502, "upstream-error", "FinSpace error", "FinSpace failed to answer the request.")
UPSTREAM_UNREACHABLE = Problem(502, "upstream-unreachable", "FinSpace unreachable", "FinSpace could not be reached.")
UPSTREAM_TIMEOUT = Problem(504, "upstream-timeout", "FinSpace timeout", "FinSpace did not answer in time.")
INTERNAL_ERROR = Problem(
    500,
    "internal-error",
    "Internal error",
    "The service failed unexpectedly. Quote the requestId when you report it.",
)
REJECTED_BY_FINSPACE = bad_request(
    "FinSpace rejected the request parameters, for example an invalid or expired nextToken."
)

_BY_FINSPACE_ERROR_CODE = {
    "ValidationException": REJECTED_BY_FINSPACE,
    "ResourceNotFoundException": USER_NOT_FOUND,
    "ThrottlingException": THROTTLED,
    "AccessDeniedException": UPSTREAM_ACCESS_DENIED,
    "InternalServerException": UPSTREAM_ERROR,
}


def problem_for_exception(error: Exception) -> Problem:
    """The caller-facing problem for a failure of a FinSpace call, or of our own code."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        # Every 403 means FinSpace refused our credentials: AccessDenied, or a signature
        # or token it rejects (InvalidSignature, ExpiredToken, UnrecognizedClient, ...).
        if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
            return UPSTREAM_ACCESS_DENIED
        return _BY_FINSPACE_ERROR_CODE.get(code, UPSTREAM_ERROR)
    if isinstance(error, (ReadTimeoutError, ConnectTimeoutError)):
        return UPSTREAM_TIMEOUT
    if isinstance(error, EndpointConnectionError):
        return UPSTREAM_UNREACHABLE
    return INTERNAL_ERROR


# Patterns in words: a caller should not have to read a regular expression.
_PATTERNS_IN_WORDS = {r".*\S.*": "must contain a non-whitespace character"}


def validation_detail(errors: list[Any]) -> str:
    """Name each bad parameter and the rule it broke, never the value it had."""
    parts = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        where = f"{location[0]} parameter {location[-1]}" if len(location) > 1 else "request"
        rule = error.get("msg", "is invalid")
        if error.get("type") == "string_pattern_mismatch":
            rule = _PATTERNS_IN_WORDS.get(error.get("ctx", {}).get("pattern"), "does not have the required format")
        parts.append(f"{where}: {rule}")
    return "; ".join(parts) or "The request is invalid."
