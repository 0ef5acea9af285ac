"""The one dormancy rule the snapshot counts by and finspace-users lists by."""

from datetime import UTC, datetime
from typing import Any

import pytest

from finspace_users.access_review.dormancy import dormant_after_days, dormant_before_ms, is_dormant

DAY_MS = 86_400_000

TICK = datetime(2026, 11, 23, 2, tzinfo=UTC)
TICK_MS = 1_795_399_200_000


def test_the_cut_off_is_the_tick_less_the_days_in_milliseconds() -> None:
    assert int(TICK.timestamp() * 1000) == TICK_MS
    assert dormant_before_ms(TICK, 90) == TICK_MS - 90 * DAY_MS


@pytest.mark.parametrize(
    ("last_login", "dormant"),
    [(None, True), (TICK_MS - 90 * DAY_MS - 1, True), (TICK_MS - 90 * DAY_MS, False), (TICK_MS, False)],
)
def test_no_login_or_one_before_the_cut_off_is_dormant(last_login: int | None, dormant: bool) -> None:
    user: dict[str, Any] = (
        {"userId": "uid-1"} if last_login is None else {"userId": "uid-1", "lastLoginTime": last_login}
    )
    assert is_dormant(user, dormant_before_ms(TICK, 90)) is dormant


def test_days_come_from_dormant_after_days_else_90(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DORMANT_AFTER_DAYS", raising=False)
    assert dormant_after_days() == 90
    monkeypatch.setenv("DORMANT_AFTER_DAYS", "30")
    assert dormant_after_days() == 30
