"""`finspace-users query SQL`: DuckDB SQL over three views of the verified history.

    users      one row per user per snapshot: scheduledTime TIMESTAMP, userId, firstName,
               lastName, emailAddress, status, type, apiAccess, apiAccessPrincipalArn
               VARCHAR, createTime, lastEnabledTime, lastDisabledTime, lastModifiedTime,
               lastLoginTime TIMESTAMP
    changes    one row per changed field: scheduledTime, previousScheduledTime TIMESTAMP,
               userId, change ('added', 'removed', 'changed'), field, "from", "to" VARCHAR
    summaries  one row per snapshot: scheduledTime TIMESTAMP, userCount, enabled, disabled,
               creating, superUsers, appUsers, apiAccessEnabled, dormantUsers BIGINT,
               previousScheduledTime TIMESTAMP, added, removed, changed, superUserGrants,
               apiAccessGrants, principalChanges BIGINT (NULL with no change report),
               summarySha256 VARCHAR

Times are UTC. Every column is declared, never inferred. DuckDB reads only local files
the tool wrote or verified: no extension is loaded or installed, and `users` is read
only when the query names it.
"""

import re
from pathlib import Path
from typing import Any

import orjson

from finspace_users.access_review.changes import COMPARED_FIELDS
from finspace_users_cli.output import Answer, Rows
from finspace_users_cli.questions import TIME_FIELDS, change_rows
from finspace_users_cli.sources import CannotRunError
from finspace_users_cli.verified import CHANGES, USERS, Verified, changes_block

USER_TYPES = {"userId": "VARCHAR", **dict.fromkeys(COMPARED_FIELDS, "VARCHAR"), **dict.fromkeys(TIME_FIELDS, "BIGINT")}
CHANGE_TYPES = {
    "scheduledTime": "TIMESTAMP",
    "previousScheduledTime": "TIMESTAMP",
    "userId": "VARCHAR",
    "change": "VARCHAR",
    "field": "VARCHAR",
    "from": "VARCHAR",
    "to": "VARCHAR",
}
SUMMARY_COUNTS = ("added", "removed", "changed", "superUserGrants", "apiAccessGrants", "principalChanges")
SUMMARY_TYPES = {
    "scheduledTime": "TIMESTAMP",
    **dict.fromkeys(
        ("userCount", "enabled", "disabled", "creating", "superUsers", "appUsers", "apiAccessEnabled", "dormantUsers"),
        "BIGINT",
    ),
    "previousScheduledTime": "TIMESTAMP",
    **dict.fromkeys(SUMMARY_COUNTS, "BIGINT"),
    "summarySha256": "VARCHAR",
}
NAMES_USERS = re.compile(r"\busers\b", re.IGNORECASE)


def needs_users(sql: str) -> bool:
    return bool(NAMES_USERS.search(sql))


def _struct(types: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in types.items()) + "}"


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _timestamp(tick: str | None) -> str | None:
    return tick.replace("T", " ").removesuffix("Z") if tick else None


def connection(verified: Verified, with_users: bool) -> Any:
    import duckdb

    db = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    folder = verified.folder / "_views"
    folder.mkdir(exist_ok=True)
    summaries, changes = folder / "summaries.jsonl", folder / "changes.jsonl"
    files = []
    with summaries.open("wb") as summary_lines, changes.open("wb") as change_lines:
        for snapshot in verified.answered:
            summary_lines.write(orjson.dumps(_summary_row(snapshot.tick, snapshot.sha256, snapshot.summary)) + b"\n")
            block = changes_block(snapshot)
            previous = block.get("previousScheduledTime")
            if previous is not None and block.get("previous") != "unreadable":
                for line in verified.lines(snapshot, CHANGES):
                    for row in change_rows(_timestamp(snapshot.tick) or "", _timestamp(previous), line):
                        change_lines.write(orjson.dumps(dict(zip(CHANGE_TYPES, row, strict=True))) + b"\n")
            if with_users and (path := verified.ensure(snapshot, USERS)) is not None:
                files.append((str(path), _timestamp(snapshot.tick)))
    # Every name below is one of ours: paths the tool made, and declared types.
    for view, path, types in (("summaries", summaries, SUMMARY_TYPES), ("changes", changes, CHANGE_TYPES)):
        read = f"read_json({_quoted(path)}, format='newline_delimited', columns={_struct(types)})"
        db.execute(f"CREATE VIEW {view} AS SELECT * FROM {read}")  # noqa: S608
    if with_users:
        db.execute("CREATE TABLE _files (filename VARCHAR, scheduledTime TIMESTAMP)")
        db.executemany("INSERT INTO _files VALUES (?, ?)", files)
        listed = "[" + ", ".join(_quoted(Path(path)) for path, _ in files) + "]" if files else "[]"
        times = ", ".join(f"epoch_ms(u.{name}) AS {name}" for name in TIME_FIELDS)
        plain = ", ".join(f"u.{name}" for name in ("userId", *COMPARED_FIELDS))
        source = (
            f"read_json({listed}, format='newline_delimited', filename=true, columns={_struct(USER_TYPES)})"
            if files
            else "(SELECT "
            + ", ".join(f"NULL::{kind} AS {name}" for name, kind in USER_TYPES.items())
            + ", NULL::VARCHAR AS filename WHERE false)"
        )
        columns = f"f.scheduledTime, {plain}, {times}"
        db.execute(f"CREATE VIEW users AS SELECT {columns} FROM {source} AS u JOIN _files AS f USING (filename)")  # noqa: S608
    return db


def _summary_row(tick: str, sha256: str, summary: dict[str, Any]) -> dict[str, Any]:
    status, kind = summary.get("byStatus") or {}, summary.get("byType") or {}
    block = summary.get("changes")
    block = block if isinstance(block, dict) else {}
    reported = block.get("previous") != "unreadable" and block.get("previousScheduledTime") is not None
    return {
        "scheduledTime": _timestamp(tick),
        "userCount": summary.get("userCount"),
        "enabled": status.get("ENABLED", 0),
        "disabled": status.get("DISABLED", 0),
        "creating": status.get("CREATING", 0),
        "superUsers": kind.get("SUPER_USER", 0),
        "appUsers": kind.get("APP_USER", 0),
        "apiAccessEnabled": summary.get("apiAccessEnabled"),
        "dormantUsers": summary.get("dormantUsers"),
        "previousScheduledTime": _timestamp(block.get("previousScheduledTime")),
        **{name: block.get(name) if reported else None for name in SUMMARY_COUNTS},
        "summarySha256": sha256,
    }


def query(verified: Verified, sql: str) -> Answer:
    import duckdb

    with_users = needs_users(sql)
    db = connection(verified, with_users)
    try:
        cursor = db.execute(sql)
        columns = [column[0] for column in cursor.description or []]
        rows = [list(row) for row in cursor.fetchall()]
    except duckdb.Error as error:
        raise CannotRunError(f"the query failed: {' '.join(str(error).split())}") from None
    finally:
        db.close()
    shown_rows = [[value.isoformat() if hasattr(value, "isoformat") else value for value in row] for row in rows]
    return Answer(
        lines=[f"{len(rows)} rows."],
        tables=[Rows("Query", columns, shown_rows)],
        document={"sql": sql, "columns": columns, "rows": [dict(zip(columns, row, strict=True)) for row in shown_rows]},
        provenance=verified.provenance(verified.answered),
        empty="No rows.",
    )
