"""RFC 9457 problem details, and the mapping from failures to them.

Bodies carry fixed, reviewed texts only. Nothing from the caller's input beyond
parameter names, and nothing FinSpace said, reaches a body: FinSpace messages may
echo names or e-mails, and internal detail helps attackers more than callers.
"""

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from finspace_users.aws.errors import error_code

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:finspace-users:problem:"
RETRY_AFTER_SECONDS = "2"
GATEWAY_RETRY_AFTER_SECONDS = "1"


class ProblemType(Enum):
    """The catalogue: every problem type the functions or their API Gateway answer, each
    with its one status and its one title (RFC 9457: a title does not change from
    occurrence to occurrence). template.yaml's gateway responses, openapi.json and the
    errors table of docs/api.md are tested against it."""

    BAD_REQUEST = ("bad-request", 400, "Bad request")
    UNSUPPORTED_EVENT = ("unsupported-event", 400, "Unsupported event")
    FORBIDDEN = ("forbidden", 403, "Forbidden")
    USER_NOT_FOUND = ("user-not-found", 404, "User not found")
    ROUTE_NOT_FOUND = ("route-not-found", 404, "Not found")
    THROTTLED = ("throttled", 429, "Too many requests")
    INTERNAL_ERROR = ("internal-error", 500, "Internal error")
    UPSTREAM_ACCESS_DENIED = ("upstream-access-denied", 502, "FinSpace denied access")
    UPSTREAM_ERROR = ("upstream-error", 502, "FinSpace error")
    UPSTREAM_UNREACHABLE = ("upstream-unreachable", 502, "FinSpace unreachable")
    UPSTREAM_TIMEOUT = ("upstream-timeout", 504, "FinSpace timeout")
    GATEWAY_TIMEOUT = ("gateway-timeout", 504, "Gateway timeout")

    def __init__(self, slug: str, status: int, title: str) -> None:
        self.slug = slug
        self.status = status
        self.title = title

    @property
    def uri(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug


# Answered only to a direct invocation of a function (aws lambda invoke, a schedule):
# through the API, API Gateway answers an unknown route itself, and sends only REST events.
DIRECT_INVOCATION_ONLY = frozenset({ProblemType.UNSUPPORTED_EVENT, ProblemType.ROUTE_NOT_FOUND})


@dataclass(frozen=True)
class Problem:
    """One answer: a type of the catalogue, with this occurrence's detail."""

    problem_type: ProblemType
    detail: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return self.problem_type.status

    @property
    def slug(self) -> str:
        return self.problem_type.slug

    @property
    def title(self) -> str:
        return self.problem_type.title

    def body(self, request_id: str | None) -> dict[str, Any]:
        return {
            "type": self.problem_type.uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "requestId": request_id,
        }


def bad_request(detail: str) -> Problem:
    return Problem(ProblemType.BAD_REQUEST, detail)


def unsupported_event(detail: str) -> Problem:
    return Problem(ProblemType.UNSUPPORTED_EVENT, detail)


# -- The functions' answers with a fixed detail ---------------------------------------

ROUTE_NOT_FOUND = Problem(ProblemType.ROUTE_NOT_FOUND, "There is no route for this method and path.")
USER_NOT_FOUND = Problem(ProblemType.USER_NOT_FOUND, "No FinSpace user has this userId.")
THROTTLED = Problem(
    ProblemType.THROTTLED,
    "FinSpace is throttling requests. Retry after the number of seconds in Retry-After.",
    {"Retry-After": RETRY_AFTER_SECONDS},
)
UPSTREAM_ACCESS_DENIED = Problem(
    ProblemType.UPSTREAM_ACCESS_DENIED,
    "FinSpace refused this service's credentials. An operator must check the role's FinSpace registration.",
)
UPSTREAM_ERROR = Problem(ProblemType.UPSTREAM_ERROR, "FinSpace failed to answer the request.")
UPSTREAM_UNREACHABLE = Problem(ProblemType.UPSTREAM_UNREACHABLE, "FinSpace could not be reached.")
UPSTREAM_TIMEOUT = Problem(ProblemType.UPSTREAM_TIMEOUT, "FinSpace did not answer in time.")
INTERNAL_ERROR = Problem(
    ProblemType.INTERNAL_ERROR,
    "The service failed unexpectedly. Quote the requestId when you report it.",
)
REJECTED_BY_FINSPACE = bad_request(
    "FinSpace rejected the request parameters, for example an invalid or expired nextToken."
)


# -- API Gateway's own answers: template.yaml's GatewayResponses, by response type ----
# Written out there as JSON, since no function sees these requests; a unit test holds
# each one to its entry here.

GATEWAY_RESPONSES: dict[str, Problem] = {
    "MISSING_AUTHENTICATION_TOKEN": Problem(
        ProblemType.FORBIDDEN, "The request is not signed, or no route matches its method and path."
    ),
    "INVALID_SIGNATURE": Problem(ProblemType.FORBIDDEN, "The SigV4 signature of the request is not valid."),
    "EXPIRED_TOKEN": Problem(ProblemType.FORBIDDEN, "The request was signed with expired credentials."),
    "ACCESS_DENIED": Problem(ProblemType.FORBIDDEN, "The caller may not invoke this route (execute-api:Invoke)."),
    "BAD_REQUEST_PARAMETERS": bad_request("A required request parameter is missing."),
    "THROTTLED": Problem(
        ProblemType.THROTTLED,
        "The API is throttling requests. Retry after the number of seconds in Retry-After.",
        {"Retry-After": GATEWAY_RETRY_AFTER_SECONDS},
    ),
    "INTEGRATION_TIMEOUT": Problem(
        ProblemType.GATEWAY_TIMEOUT, "The request did not finish within the 29 seconds API Gateway allows."
    ),
    "DEFAULT_4XX": bad_request("API Gateway refused the request."),
    "DEFAULT_5XX": INTERNAL_ERROR,
}

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
        # Every 403 means FinSpace refused our credentials: AccessDenied, or a signature
        # or token it rejects (InvalidSignature, ExpiredToken, UnrecognizedClient, ...).
        if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
            return UPSTREAM_ACCESS_DENIED
        return _BY_FINSPACE_ERROR_CODE.get(error_code(error) or "", UPSTREAM_ERROR)
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
