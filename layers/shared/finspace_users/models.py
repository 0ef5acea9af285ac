"""Request parameters and response shapes of the HTTP API.

The response models document the API (OpenAPI); handlers return FinSpace's own
dictionaries so that fields FinSpace did not send stay absent.
"""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

# FinSpace's own limits (botocore model, UserId and ResultLimit shapes).
UserIdParam = Annotated[
    str,
    Path(min_length=1, max_length=26, pattern=r".*\S.*", description="FinSpace user id."),
]
MaxResultsParam = Annotated[
    int,
    Query(alias="maxResults", ge=1, le=100, description="Users per page, 1 to 100."),
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
