"""The HTTP side shared by both functions: a resolver whose every error is an RFC 9457
problem, and the entry point that tells API Gateway events from schedule inputs."""

import json
import time
from collections.abc import Collection, Mapping
from functools import partial
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.shared.json_encoder import Encoder
from aws_lambda_powertools.utilities.typing import LambdaContext

from finspace_users.aws.errors import error_code
from finspace_users.aws.observability import logger
from finspace_users.contracts.problems import (
    INTERNAL_ERROR,
    PROBLEM_CONTENT_TYPE,
    REJECTED_BY_FINSPACE,
    ROUTE_NOT_FOUND,
    USER_NOT_FOUND,
    Problem,
    bad_request,
    problem_for_exception,
    validation_detail,
)

# Canonical JSON: a page replayed from the idempotency store (which sorts keys) is
# byte-identical to the page first served.
canonical_json = partial(json.dumps, sort_keys=True, separators=(",", ":"), cls=Encoder)


class UserDirectoryResolver(APIGatewayRestResolver):
    """REST resolver that percent-decodes path parameters.

    API Gateway REST events carry ``path`` still percent-encoded, and Powertools takes
    route parameters from it, so ``/users/%20`` would otherwise validate as a
    three-character userId instead of a blank one.
    """

    def _convert_matches_into_route_keys(self, match: Any) -> dict[str, str]:
        return {name: unquote(value) for name, value in match.groupdict().items()}


def create_app() -> APIGatewayRestResolver:
    app = UserDirectoryResolver(enable_validation=True, serializer=canonical_json)

    def respond(problem: Problem) -> Response[str]:
        request_id = app.current_event.request_context.request_id
        return problem_response(problem, request_id)

    # Without its own handler, a validation error would reach the catch-all below and
    # become a 500; Powertools' default would be a terse 422.
    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[str]:
        return respond(bad_request(validation_detail(list(error.errors()))))

    @app.exception_handler(Exception)
    def failed_request(error: Exception) -> Response[str]:
        problem = problem_for_exception(error)
        log_problem(error, problem)
        return respond(problem)

    @app.not_found
    def no_route(_: Exception) -> Response[str]:
        # A gateway resource such as /users/{userId} reached with an empty segment is
        # a bad parameter, not a missing route.
        path_parameters = app.current_event.path_parameters or {}
        empty = sorted(name for name, value in path_parameters.items() if not value)
        if empty:
            return respond(bad_request("; ".join(f"path parameter {name}: must not be empty" for name in empty)))
        return respond(ROUTE_NOT_FOUND)

    return app


def log_problem(error: Exception, problem: Problem) -> None:
    """One line beside the request line, at the level the problem deserves. Operators
    search for "FinSpace call failed" (README runbook): only FinSpace failures say it."""
    if problem is INTERNAL_ERROR:
        logger.exception("Unhandled error")
        return
    if problem is USER_NOT_FOUND:
        return  # a normal answer: the request line's 404 says it all
    fields = {"errorType": type(error).__name__, "errorCode": error_code(error), "status": problem.status}
    if problem is REJECTED_BY_FINSPACE:
        logger.info("FinSpace rejected the request parameters", extra=fields)
    else:
        logger.warning("FinSpace call failed", extra=fields)


def problem_response(problem: Problem, request_id: str | None) -> Response[str]:
    return Response(
        status_code=problem.status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=json.dumps(problem.body(request_id)),
        headers=problem.headers,
    )


def handle_event(
    app: APIGatewayRestResolver,
    event: Any,
    context: LambdaContext,
    schedule_actions: Collection[str] = (),
) -> Any:
    """Serve an API Gateway REST event, or run one of `schedule_actions`; refuse anything
    else with InvalidEventError."""
    if isinstance(event, Mapping) and "httpMethod" in event and "requestContext" in event:
        return _serve_api(app, event, context)
    # Schedule inputs are parsed with pydantic models that API requests never need.
    from finspace_users.schedules.schedule import run_schedule_action

    return run_schedule_action(event, context, schedule_actions)


def _serve_api(app: APIGatewayRestResolver, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    response = _no_store(app.resolve(event, context))
    access: dict[str, Any] = {
        "route": f"{event.get('httpMethod')} {event.get('resource')}",
        "status": response["statusCode"],
        "latencyMs": round((time.perf_counter() - started) * 1000, 1),
    }
    user_id = (event.get("pathParameters") or {}).get("userId")
    if user_id is not None:
        access["userId"] = user_id
    logger.info("request", extra=access)
    return response


def _no_store(response: dict[str, Any]) -> dict[str, Any]:
    # Directory data is PII: no browser, proxy or CDN may keep a copy.
    response.setdefault("multiValueHeaders", {})["Cache-Control"] = ["no-store"]
    return response
