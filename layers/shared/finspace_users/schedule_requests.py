"""What a schedule asks for, as models that the schedule dispatcher and the actions it
runs (snapshot.py, canary.py) both import: none of them imports another for these."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AwareDatetime, BaseModel, Field

from finspace_users.finspace import USER_ID_RULES


def utc_timestamp(moment: datetime) -> str:
    """The one form of every time this service writes: UTC, to the second, with Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SnapshotRequest(BaseModel):
    action: Literal["snapshot"]
    scheduledTime: AwareDatetime  # noqa: N815 - Scheduler's input field

    @property
    def tick(self) -> str:
        """The scheduled time in one canonical form: the snapshot's key and identity."""
        return utc_timestamp(self.scheduledTime)


class CanaryRequest(BaseModel):
    action: Literal["canary"]
    userId: Annotated[str, Field(**USER_ID_RULES)]  # noqa: N815


class ScheduledEvent(EventBridgeModel):
    """Classic EventBridge (CloudWatch Events) schedule rule event: the built-in model,
    narrowed to schedules, with a time that must carry its zone."""

    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    time: AwareDatetime


ScheduleRequest = SnapshotRequest | CanaryRequest
