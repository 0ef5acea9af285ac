"""Schedule inputs: EventBridge Scheduler's JSON and the classic "Scheduled Event".

    {"action": "snapshot", "scheduledTime": "<aws.scheduler.scheduled-time>"}
    {"detail-type": "Scheduled Event", "source": "aws.events", "time": "...", ...}
    {"action": "canary", "userId": "..."}

Anything else raises InvalidEventError, a function error that Lambda reports, counts
and sends to the failure destination. Its message is an RFC 9457 problem in JSON.
"""

import json
from collections.abc import Collection, Mapping
from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from finspace_users.aws.observability import logger
from finspace_users.contracts.problems import unsupported_event
from finspace_users.contracts.schedule_requests import CanaryRequest, ScheduledEvent, ScheduleRequest, SnapshotRequest


class InvalidEventError(ValueError):
    def __init__(self, detail: str) -> None:
        self.problem = unsupported_event(detail)
        super().__init__(json.dumps(self.problem.body(None)))


def run_schedule_action(event: Any, context: LambdaContext, supported: Collection[str]) -> Any:
    """Run one of the `supported` actions ("snapshot", "canary") that the event asks for."""
    try:
        request = parse_schedule_input(event, sorted(supported))
    except InvalidEventError as error:
        logger.error("Rejected event", extra={"detail": error.problem.detail})
        raise
    # Imported here: API requests never pay for S3 transfers or the canary.
    if isinstance(request, SnapshotRequest):
        from finspace_users.access_review.snapshot import take_snapshot

        return take_snapshot(request, context)
    from finspace_users.schedules.canary import run_canary

    return run_canary(request, context)


def parse_schedule_input(event: Any, supported: list[str]) -> ScheduleRequest:
    choices = ", ".join(repr(name) for name in supported)
    if not isinstance(event, Mapping):
        raise InvalidEventError(
            f"Expected an API Gateway REST proxy event or a schedule input object with an action ({choices})."
        )
    if event.get("detail-type") == "Scheduled Event" and "action" not in event:
        classic = _parsed(ScheduledEvent, event, "Scheduled Event")
        event = {"action": "snapshot", "scheduledTime": classic.time}
    action = event.get("action")
    if action is None:
        raise InvalidEventError(f'Schedule input needs an "action"; this function supports {choices}.')
    if action not in supported:
        raise InvalidEventError(f"Unknown action {str(action)[:40]!r}; this function supports {choices}.")
    model: type[ScheduleRequest] = SnapshotRequest if action == "snapshot" else CanaryRequest
    return _parsed(model, event, f"{action} input")


def _parsed[Model: BaseModel](model: type[Model], event: Mapping[str, Any], what: str) -> Model:
    try:
        parsed: Model = parse(event=dict(event), model=model)
    except ValidationError as error:
        # Name the field and the rule; never echo the value.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}" for issue in error.errors()
        )
        raise InvalidEventError(f"{what}: {problems}") from None
    return parsed
