"""Request parameters and response shapes of the HTTP API.

The response models document the API (OpenAPI); handlers return FinSpace's own
dictionaries so that fields FinSpace did not send stay absent.
"""

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from finspace_users.aws.finspace import USER_ID_RULES
from finspace_users.contracts.problems import (
    DIRECT_INVOCATION_ONLY,
    GATEWAY_RESPONSES,
    GATEWAY_RETRY_AFTER_SECONDS,
    INTERNAL_ERROR,
    PROBLEM_CONTENT_TYPE,
    RETRY_AFTER_SECONDS,
    THROTTLED,
    UPSTREAM_ACCESS_DENIED,
    UPSTREAM_ERROR,
    UPSTREAM_TIMEOUT,
    UPSTREAM_UNREACHABLE,
    USER_NOT_FOUND,
    Problem,
    ProblemType,
    bad_request,
    validation_detail,
)

# FinSpace's own limits (botocore model, UserId and ResultLimit shapes).
UserIdParam = Annotated[
    str,
    Path(**USER_ID_RULES, description="FinSpace user id."),
]


def _digits_only(value: Any) -> Any:
    """An OpenAPI integer in a query string is digits: pydantic's int() would also take
    "+5", " 1" and "1_0"."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("int_digits", "must be a whole number written with the digits 0-9 only")
    return value


MaxResultsParam = Annotated[
    int,
    Query(alias="maxResults", description="Users per page, 1 to 100."),
    Field(ge=1, le=100),
    BeforeValidator(_digits_only),
]
NextTokenParam = Annotated[
    str | None,
    Query(
        alias="nextToken",
        min_length=1,
        max_length=4096,
        description="The nextToken of the previous page, percent-encoded.",
    ),
]

EpochMillis = Annotated[int, Field(description="Milliseconds since the UTC epoch.")]


class User(BaseModel):
    """A FinSpace user. Names and e-mail address are PII."""

    userId: str | None = None
    status: Literal["CREATING", "ENABLED", "DISABLED"] | None = None
    firstName: str | None = None
    lastName: str | None = None
    emailAddress: str | None = None
    type: Literal["SUPER_USER", "APP_USER"] | None = None
    apiAccess: Literal["ENABLED", "DISABLED"] | None = None
    apiAccessPrincipalArn: str | None = None
    createTime: EpochMillis | None = None
    lastEnabledTime: EpochMillis | None = None
    lastDisabledTime: EpochMillis | None = None
    lastModifiedTime: EpochMillis | None = None
    lastLoginTime: EpochMillis | None = None


class UserPage(BaseModel):
    users: list[User]
    nextToken: str | None = Field(default=None, description="Absent on the last page.")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details (application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    requestId: str | None


# -- OpenAPI documentation of the responses -----------------------------------------

NO_STORE_HEADER = {
    "description": "Always no-store: bodies hold PII.",
    "schema": {"type": "string", "const": "no-store"},
}
USER_EXAMPLE = {
    "apiAccess": "ENABLED",
    "apiAccessPrincipalArn": "arn:aws:iam::123456789012:role/finspace-reporting",
    "createTime": 1714176000000,
    "emailAddress": "ada.lovelace@example.com",
    "firstName": "Ada",
    "lastEnabledTime": 1714694400000,
    "lastLoginTime": 1793404800000,
    "lastModifiedTime": 1728345600000,
    "lastName": "Lovelace",
    "status": "ENABLED",
    "type": "APP_USER",
    "userId": "gUzb1rQP64DyqN00000000",
}

# What each status means to a caller. The examples come from the problem catalogue: one
# for each type an API caller can get with that status.
_STATUS_DESCRIPTIONS = {
    400: "Bad input",
    403: "API Gateway refused the call: unsigned, badly signed, or no execute-api:Invoke",
    404: "No such user",
    429: "FinSpace kept throttling after our retries, or the API stage throttled the caller",
    500: "Our bug",
    502: "FinSpace failed, could not be reached, or denied access",
    504: "FinSpace timed out, or the request did not finish within API Gateway's 29 seconds",
}
_STATUS_HEADERS: dict[int, dict[str, Any]] = {
    429: {
        "Retry-After": {
            "description": f"Seconds to wait before retrying: {RETRY_AFTER_SECONDS} when FinSpace throttles, "
            f"{GATEWAY_RETRY_AFTER_SECONDS} when the API stage throttles.",
            "schema": {"type": "string"},
        }
    }
}
# The answer shown for each type: the functions' own where they have one.
_SHOWN_ANSWERS: dict[ProblemType, Problem] = {}
for _answer in (
    bad_request(
        validation_detail([{"loc": ("query", "maxResults"), "msg": "Input should be less than or equal to 100"}])
    ),
    USER_NOT_FOUND,
    THROTTLED,
    INTERNAL_ERROR,
    UPSTREAM_ACCESS_DENIED,
    UPSTREAM_ERROR,
    UPSTREAM_UNREACHABLE,
    UPSTREAM_TIMEOUT,
    *GATEWAY_RESPONSES.values(),
):
    _SHOWN_ANSWERS.setdefault(_answer.problem_type, _answer)
EXAMPLE_REQUEST_ID = "c0ffee00-0000-4000-8000-000000000000"


def problem_examples(status: int) -> dict[str, Any]:
    """An example of each problem type an API caller can get with this status."""
    return {
        problem_type.slug: {"value": _SHOWN_ANSWERS[problem_type].body(EXAMPLE_REQUEST_ID)}
        for problem_type in ProblemType
        if problem_type.status == status and problem_type not in DIRECT_INVOCATION_ONLY
    }


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": _STATUS_DESCRIPTIONS[status],
        "headers": {"Cache-Control": NO_STORE_HEADER, **_STATUS_HEADERS.get(status, {})},
        "content": {PROBLEM_CONTENT_TYPE: {"model": ProblemDetails, "examples": problem_examples(status)}},
    }


def documented_responses(ok: dict[str, Any], *error_statuses: int) -> dict[int, Any]:
    """The 200 response plus an RFC 9457 problem for each error status."""
    return {200: ok, **{status: _problem_response(status) for status in error_statuses}}


USER_RESPONSES = documented_responses(
    {
        "description": "The user, as FinSpace returned it. Fields FinSpace did not send are absent.",
        "headers": {"Cache-Control": NO_STORE_HEADER},
        "content": {"application/json": {"model": User, "examples": {"user": {"value": USER_EXAMPLE}}}},
    },
    400,
    403,
    404,
    429,
    500,
    502,
    504,
)
PAGE_RESPONSES = documented_responses(
    {
        "description": "One page of users. nextToken is absent on the last page.",
        "headers": {
            "Cache-Control": NO_STORE_HEADER,
            "X-Cache": {
                "description": "hit: replayed from the page cache; miss: fetched from FinSpace and "
                "recorded; waited: replayed once an identical request in progress had recorded it; "
                "bypass: fetched from FinSpace after that request took too long, or because the "
                "page's record is not one the cache wrote. Absent when the cache is off or unavailable.",
                "schema": {"type": "string", "enum": ["hit", "miss", "waited", "bypass"]},
            },
        },
        "content": {
            "application/json": {
                "model": UserPage,
                "examples": {"page": {"value": {"nextToken": "+/+/AAAABwHQXG1OZg==", "users": [USER_EXAMPLE]}}},
            }
        },
    },
    400,
    403,
    429,
    500,
    502,
    504,
)
