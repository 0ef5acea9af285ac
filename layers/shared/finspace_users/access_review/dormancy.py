"""Who is dormant in an access review: a user with no login in the DORMANT_AFTER_DAYS
before the snapshot's tick, or none ever. The snapshot counts them (dormantUsers), and
`finspace-users` lists them by the same rule."""

import os
from datetime import datetime
from typing import Any

DAY_MS = 86_400_000
DEFAULT_DORMANT_AFTER_DAYS = 90


def dormant_after_days() -> int:
    return int(os.environ.get("DORMANT_AFTER_DAYS", str(DEFAULT_DORMANT_AFTER_DAYS)))


def dormant_before_ms(tick: datetime, days: int) -> int:
    """The cut-off in integer milliseconds, where no number of days can overflow a date."""
    return int(tick.timestamp() * 1000) - days * DAY_MS


def is_dormant(user: dict[str, Any], before_ms: int) -> bool:
    last_login = user.get("lastLoginTime")
    return last_login is None or last_login < before_ms
