"""ListUsersFunction: GET /users?maxResults=&nextToken=, and the scheduled snapshot."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from finspace_users import snapstart_hook  # noqa: F401 - registers the SnapStart after-restore hook
from finspace_users.aws.observability import logger, metrics, traced
from finspace_users.http.api import create_app, handle_event
from finspace_users.http.models import PAGE_RESPONSES, MaxResultsParam, NextTokenParam
from finspace_users.http.page_cache import cached_list_users_page

app = create_app()


@app.get(
    "/users",
    summary="List FinSpace users, one page at a time",
    operation_id="listUsers",
    tags=["users"],
    responses=PAGE_RESPONSES,
)
def list_users(max_results: MaxResultsParam = 100, next_token: NextTokenParam = None) -> Response[dict[str, Any]]:
    page, cache_status = cached_list_users_page(max_results, next_token, app.lambda_context)
    headers = {} if cache_status == "off" else {"X-Cache": cache_status}
    return Response(status_code=200, content_type="application/json", body=page, headers=headers)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return handle_event(app, event, context, schedule_actions=("snapshot",))
