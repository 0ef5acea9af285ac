"""GetUserFunction: GET /users/{userId}, and the scheduled canary."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from finspace_users import snapstart_hook  # noqa: F401 - registers the SnapStart after-restore hook
from finspace_users.aws import finspace
from finspace_users.aws.observability import logger, metrics, traced
from finspace_users.http.api import create_app, handle_event
from finspace_users.http.models import USER_RESPONSES, UserIdParam

app = create_app()


@app.get(
    "/users/<userId>",
    summary="Get one FinSpace user",
    operation_id="getUser",
    tags=["users"],
    responses=USER_RESPONSES,
)
def get_user(userId: UserIdParam) -> dict[str, Any]:  # noqa: N803 - the API's own parameter name
    return finspace.get_user(userId)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return handle_event(app, event, context, schedule_actions=("canary",))
