"""What a schedule asks for, as models that the schedule dispatcher and the actions it
runs (snapshot.py, canary.py) both import: none of them imports another for these."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field
from pydantic_core import PydanticCustomError

from finspace_users.aws.finspace import USER_ID_RULES

# A tick is taken at its time, never before: Scheduler invokes at the scheduled time, so
# a scheduledTime further ahead than clock skew is not a delivery of that tick.
CLOCK_SKEW = timedelta(minutes=2)
# No snapshot of this service predates 2000; the bound also keeps every date sum of a
# tick (its UTC form, the dormancy cutoff) far from datetime's limits at year 1.
EARLIEST_TICK = datetime(2000, 1, 1, tzinfo=UTC)


def utc_timestamp(moment: datetime) -> str:
    """The one form of every time this service writes: UTC, to the second, with Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _taken_at_its_time(moment: datetime) -> datetime:
    # Comparing aware datetimes builds no new datetime, so neither test can overflow.
    if moment < EARLIEST_TICK:
        raise PydanticCustomError(
            "tick_too_early", "must not be before {earliest}", {"earliest": f"{EARLIEST_TICK:%Y-%m-%d}"}
        )
    if moment > datetime.now(UTC) + CLOCK_SKEW:
        skew = int(CLOCK_SKEW.total_seconds() // 60)
        raise PydanticCustomError(
            "tick_in_future", "must not lie more than {skew} minutes in the future", {"skew": skew}
        )
    return moment


class SnapshotRequest(BaseModel):
    action: Literal["snapshot"]
    scheduledTime: Annotated[AwareDatetime, AfterValidator(_taken_at_its_time)]  # noqa: N815 - Scheduler's input field

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
