"""The access-review questions: `summary`, `changes`, `who` and `history`. Each reads
only snapshots that verify (verified.py) and returns an Answer (output.py)."""

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from finspace_users.access_review.changes import COMPARED_FIELDS, COUNTS
from finspace_users.access_review.dormancy import dormant_after_days, dormant_before_ms, is_dormant
from finspace_users_cli.output import Answer, Rows
from finspace_users_cli.sources import CannotRunError, History, summary_tick
from finspace_users_cli.verified import CHANGES, USERS, Verified, changes_block, tick_time, utc
from finspace_users_cli.verify import Snapshot

COUNT_LABELS = {
    "added": "users added",
    "removed": "users removed",
    "changed": "users changed",
    "superUserGrants": "new super users",
    "apiAccessGrants": "new API access",
    "principalChanges": "API principals changed",
}
TIME_FIELDS = ("createTime", "lastEnabledTime", "lastDisabledTime", "lastModifiedTime", "lastLoginTime")
USER_COLUMNS = ("userId", *COMPARED_FIELDS, *TIME_FIELDS)
# What a table for people shows of a user; --json and --csv have every column.
SHOWN_USER_COLUMNS = ("userId", "firstName", "lastName", "status", "type", "apiAccess", "lastLoginTime")
CHANGE_COLUMNS = ["scheduledTime", "previousScheduledTime", "userId", "change", "field", "from", "to"]


def iso_ms(value: Any) -> str | None:
    if not isinstance(value, int):
        return None
    return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_row(user: dict[str, Any]) -> list[Any]:
    return [user.get(name) for name in ("userId", *COMPARED_FIELDS)] + [iso_ms(user.get(t)) for t in TIME_FIELDS]


def ticks_of(history: History) -> list[str]:
    ticks = sorted(tick for key in history.summary_keys() if (tick := summary_tick(key)))
    if not ticks:
        raise CannotRunError(f"no snapshot in {history.name} yet")
    return ticks


def standing_tick(ticks: list[str], moment: datetime) -> str:
    standing = [tick for tick in ticks if tick_time(tick) <= moment]
    if not standing:
        raise CannotRunError(f"no snapshot stood at {utc(moment)}: the first is {ticks[0]}")
    return standing[-1]


def chain_position(verified: Verified, snapshot: Snapshot) -> dict[str, Any]:
    ticks = [answered.tick for answered in verified.answered]
    index = ticks.index(snapshot.tick)
    link = snapshot.summary.get("previousSummary")
    return {
        "position": index + 1,
        "of": len(ticks),
        "previous": summary_tick(str(link.get("key"))) if isinstance(link, dict) else None,
        "next": ticks[index + 1] if index + 1 < len(ticks) else None,
        "summarySha256": snapshot.sha256,
    }


def summary(verified: Verified, moment: datetime) -> Answer:
    snapshot = verified.stood_at(moment)
    stored = snapshot.summary
    days = dormant_after_days()
    before_ms = dormant_before_ms(tick_time(snapshot.tick), days)
    dormant = [user_row(user) for user in verified.lines(snapshot, USERS) if is_dormant(user, before_ms)]
    position = chain_position(verified, snapshot)
    counts = [
        ["users", stored.get("userCount")],
        *[[f"status {name}", count] for name, count in sorted((stored.get("byStatus") or {}).items())],
        *[[f"type {name}", count] for name, count in sorted((stored.get("byType") or {}).items())],
        ["API access enabled", stored.get("apiAccessEnabled")],
        ["dormant users", stored.get("dormantUsers")],
    ]
    lines = [
        f"Snapshot [bold]{snapshot.tick}[/bold], the one that stood at {utc(moment)}: "
        f"{position['position']} of {position['of']} in the chain, after {position['previous'] or 'none'}, "
        f"before {position['next'] or 'none (the newest)'}."
    ]
    if len(dormant) != stored.get("dormantUsers"):
        verified.notes.append(
            f"{len(dormant)} users are dormant by DORMANT_AFTER_DAYS={days} here; the snapshot counted "
            f"{stored.get('dormantUsers')} by the function's setting"
        )
    document = {
        "scheduledTime": snapshot.tick,
        "at": utc(moment),
        "chain": position,
        "counts": {key: stored.get(key) for key in ("userCount", "byStatus", "byType", "apiAccessEnabled")},
        "dormantUsers": stored.get("dormantUsers"),
        "dormantAfterDays": days,
        "dormant": [dict(zip(USER_COLUMNS, row, strict=True)) for row in dormant],
        "changes": changes_block(snapshot),
    }
    return Answer(
        lines=lines,
        tables=[
            Rows("Counts", ["what", "how many"], counts),
            Rows(f"Dormant users (no login for {days} days)", list(USER_COLUMNS), dormant, SHOWN_USER_COLUMNS),
        ],
        document=document,
        provenance=verified.provenance([snapshot]),
    )


def change_rows(tick: str, previous: str | None, line: dict[str, Any]) -> list[list[Any]]:
    """One row per field: a changed field from → to; each compared field an added user
    arrived with, or a removed user left with."""
    head = [tick, previous, line.get("userId"), line.get("change")]
    if line.get("change") == "changed":
        fields = {name: (moved.get("from"), moved.get("to")) for name, moved in (line.get("fields") or {}).items()}
    else:
        user = line.get("user") or {}
        present = [name for name in COMPARED_FIELDS if user.get(name) is not None]
        fields = {name: (None, user[name]) if line.get("change") == "added" else (user[name], None) for name in present}
    return [[*head, name, before, after] for name, (before, after) in fields.items()]


def _reports_between(verified: Verified, since: datetime | None, until: datetime) -> list[Snapshot]:
    return [
        snapshot
        for snapshot in verified.answered
        if (since is None or tick_time(snapshot.tick) > since) and tick_time(snapshot.tick) <= until
    ]


def changes(verified: Verified, since: datetime | None, until: datetime) -> Answer:
    reports = _reports_between(verified, since, until)
    if not reports:
        window = f"after {utc(since)} " if since else ""
        raise CannotRunError(f"no verified snapshot was taken {window}up to {utc(until)}")
    counts: Counter[str] = Counter({name: 0 for name in COUNTS})
    rows: list[list[Any]] = []
    compared = []
    for snapshot in reports:
        block = changes_block(snapshot)
        previous = block.get("previousScheduledTime")
        if block.get("previous") == "unreadable":
            verified.notes.append(
                f"{snapshot.tick}: no change report: the previous snapshot ({previous}) could not be read "
                f"({block.get('reason')})"
            )
            continue
        if previous is None:
            verified.notes.append(f"{snapshot.tick} is the first snapshot: nothing to compare it with")
            continue
        compared.append((previous, snapshot.tick))
        counts.update({name: int(block.get(name) or 0) for name in COUNTS})
        for line in verified.lines(snapshot, CHANGES):
            rows += change_rows(snapshot.tick, previous, line)
    if len(compared) == 1:
        told = f"Snapshot [bold]{compared[0][1]}[/bold], compared with [bold]{compared[0][0]}[/bold]"
    elif compared:
        told = f"Changes from [bold]{compared[0][0]}[/bold] to [bold]{compared[-1][1]}[/bold]: "
        told += f"{len(compared)} change reports, merged"
    else:
        told = "No change report in this window: nothing to compare with."
    document = {
        "since": utc(since) if since else None,
        "until": utc(until),
        "reports": [{"previousScheduledTime": before, "scheduledTime": tick} for before, tick in compared],
        "counts": dict(counts),
        "changes": [dict(zip(CHANGE_COLUMNS, row, strict=True)) for row in rows],
    }
    tables = [Rows("Changed users", CHANGE_COLUMNS, rows)]
    if compared:
        tables.insert(0, Rows("Counts", ["what", "how many"], [[COUNT_LABELS[n], counts[n]] for n in COUNTS]))
    return Answer(
        lines=[told],
        tables=tables,
        document=document,
        csv_table=len(tables) - 1,
        provenance=verified.provenance(reports),
        empty="No user changed." if compared else "",
    )


def who(verified: Verified, moment: datetime, filters: dict[str, str | None], dormant: bool) -> Answer:
    snapshot = verified.stood_at(moment)
    days = dormant_after_days()
    before_ms = dormant_before_ms(tick_time(snapshot.tick), days)
    rows = [
        user_row(user)
        for user in verified.lines(snapshot, USERS)
        if all(wanted is None or user.get(name) == wanted for name, wanted in filters.items())
        and (not dormant or is_dormant(user, before_ms))
    ]
    asked = [f"{name}={wanted}" for name, wanted in filters.items() if wanted]
    asked += [f"dormant>{days}d"] if dormant else []
    told = f"{len(rows)} users in snapshot [bold]{snapshot.tick}[/bold], the one that stood at {utc(moment)}"
    document = {
        "scheduledTime": snapshot.tick,
        "at": utc(moment),
        "filters": {**filters, "dormant": dormant, "dormantAfterDays": days},
        "count": len(rows),
        "users": [dict(zip(USER_COLUMNS, row, strict=True)) for row in rows],
    }
    return Answer(
        lines=[told + (f" ({', '.join(asked)})" if asked else "") + "."],
        tables=[Rows("Users", list(USER_COLUMNS), rows, SHOWN_USER_COLUMNS)],
        document=document,
        provenance=verified.provenance([snapshot]),
        empty="No user matches.",
    )


def history(verified: Verified, user_id: str) -> Answer:
    if not verified.answered:
        raise CannotRunError(f"no verified snapshot in {verified.source}")
    first = verified.answered[0]
    rows: list[list[Any]] = []
    used = [first]
    for user in verified.lines(first, USERS):
        if user.get("userId") == user_id:
            present = [name for name in COMPARED_FIELDS if name in user]
            rows += [[first.tick, None, user_id, "present", name, None, user[name]] for name in present]
            break
    answered = {snapshot.tick for snapshot in verified.answered}
    for snapshot in verified.answered[1:]:
        block = changes_block(snapshot)
        previous = block.get("previousScheduledTime")
        if block.get("previous") == "unreadable" or previous is None:
            verified.notes.append(f"{snapshot.tick} has no change report: what changed just before it is not known")
            continue
        if previous not in answered:
            verified.notes.append(f"{snapshot.tick} is compared with {previous}, which was left out")
        used.append(snapshot)
        for line in verified.lines(snapshot, CHANGES):
            if line.get("userId") == user_id:
                rows += change_rows(snapshot.tick, previous, line)
    for tick in sorted(verified.left_out):
        verified.notes.append(f"changes reported by {tick} are not shown: it does not verify")
    if not rows:
        raise CannotRunError(f"unknown user {user_id}: in no verified snapshot of {verified.source}")
    return Answer(
        lines=[f"History of [bold]{user_id}[/bold], oldest first, over {len(used)} verified snapshots."],
        tables=[Rows("History", CHANGE_COLUMNS, rows)],
        document={"userId": user_id, "history": [dict(zip(CHANGE_COLUMNS, row, strict=True)) for row in rows]},
        provenance=verified.provenance(used),
    )
