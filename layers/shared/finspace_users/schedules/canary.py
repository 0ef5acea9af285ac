"""The canary: one get_user on a schedule, reported as CanarySuccess (0 or 1) and
CanaryLatencyMs. The user's data is neither returned nor logged."""

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from finspace_users.aws.finspace import get_user
from finspace_users.aws.observability import logger, metrics
from finspace_users.contracts.problems import problem_for_exception
from finspace_users.contracts.schedule_requests import CanaryRequest


def run_canary(request: CanaryRequest, context: LambdaContext | None) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        get_user(request.userId)
        status, problem_type = 200, None
    except Exception as error:
        problem = problem_for_exception(error)
        status, problem_type = problem.status, problem.slug
    latency_ms = (time.perf_counter() - started) * 1000
    success = status == 200
    metrics.add_metric(name="CanarySuccess", unit=MetricUnit.Count, value=int(success))
    metrics.add_metric(name="CanaryLatencyMs", unit=MetricUnit.Milliseconds, value=latency_ms)
    outcome = {"action": "canary", "success": success, "status": status, "latencyMs": round(latency_ms, 1)}
    if problem_type:
        outcome["problemType"] = problem_type
    (logger.info if success else logger.warning)("Canary", extra={**outcome, "userId": request.userId})
    return outcome
