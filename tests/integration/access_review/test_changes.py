"""The access-review change report across several ticks, with the directory changed in
between through the emulator, and moto's S3 over real HTTP. Each test has a bucket and
an idempotency table of its own (History), so that "the previous snapshot" is only what
the test took, and no tick of another test replays."""

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localdev.harness.directory import SeededDirectory
from localdev.harness.stack import LocalStack
from tests.conftest import CapturedLog
from tests.helpers import CHANGE_METRICS, documentation, emitted_metrics
from tests.integration.history import History, use_directory
from tests.integration.operator_tool import run_tool

USERS = 60
# Ticks lie in the past (2025): a snapshot of a tick still to come is refused.
README = documentation()  # README.md and the docs site's pages
# How the walkthrough's curl lines find the running `make run` emulator.
RUNNING_EMULATOR = "$(.venv/bin/python -m localdev.running finspaceUrl)"
COUNT_NAMES = ("added", "removed", "changed", "superUserGrants", "apiAccessGrants", "principalChanges")


def run_make_changes(history: History, stack: LocalStack) -> subprocess.CompletedProcess[str]:
    """What `make changes` runs, `finspace-users changes`, on the test's own bucket, in a
    clean shell with a wide terminal."""
    return run_tool(
        stack, "changes", "--bucket", history.bucket, "--key-id", history.signing_key_id, extra={"COLUMNS": "250"}
    )


@pytest.fixture
def directory(stack: LocalStack) -> Iterator[SeededDirectory]:
    yield from use_directory(stack, USERS, seed=23)


@pytest.fixture
def history(stack: LocalStack, directory: SeededDirectory) -> History:
    return History(stack)


def first_user(directory: SeededDirectory, test: Callable[[dict[str, Any]], bool], *skip: str) -> dict[str, Any]:
    return next(user for user in directory if test(user) and user["userId"] not in skip)


def counts(**nonzero: int) -> dict[str, int]:
    return {name: nonzero.get(name, 0) for name in COUNT_NAMES}


def changed(user_id: str, **fields: tuple[Any, Any]) -> dict[str, Any]:
    """A "changed" line: each field's (from, to)."""
    moved = {name: {"from": before, "to": after} for name, (before, after) in fields.items()}
    return {"userId": user_id, "change": "changed", "fields": moved}


def by_user_id(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda record: record["userId"])


def test_three_ticks_report_who_joined_left_and_changed(
    history: History, directory: SeededDirectory, stack: LocalStack
) -> None:
    emulator = stack.emulator

    # Tick 1: nothing to compare with.
    first = history.take("2025-03-01T06:00:00Z")

    assert first["changes"] == {"previousScheduledTime": None, **counts(), "changesObject": None}
    assert not any(key.endswith("changes.jsonl") for key in history.object_keys())

    # Between ticks 1 and 2: two hires, a departure, a promotion to super user, API access
    # granted, a principal replaced, a rename, and a login (which is not a change).
    promoted = first_user(directory, lambda u: u["type"] == "APP_USER" and u["apiAccess"] == "DISABLED")
    granted = first_user(
        directory, lambda u: u["type"] == "APP_USER" and u["apiAccess"] == "DISABLED", promoted["userId"]
    )
    new_principal = first_user(directory, lambda u: u["apiAccess"] == "ENABLED")
    renamed = first_user(
        directory,
        lambda u: u["lastName"] != "Whitlock",
        promoted["userId"],
        granted["userId"],
        new_principal["userId"],
    )
    leaver = first_user(
        directory,
        lambda u: True,
        promoted["userId"],
        granted["userId"],
        new_principal["userId"],
        renamed["userId"],
    )
    logged_in = directory.user_at(USERS - 1)
    granted_arn = "arn:aws:iam::123456789012:role/finspace-api-granted"
    replaced_arn = "arn:aws:iam::123456789012:role/finspace-api-replaced"
    hires = emulator.add_users(2)
    emulator.remove_user(leaver["userId"])
    emulator.update_user(promoted["userId"], type="SUPER_USER")
    emulator.update_user(granted["userId"], apiAccess="ENABLED", apiAccessPrincipalArn=granted_arn)
    emulator.update_user(new_principal["userId"], apiAccessPrincipalArn=replaced_arn)
    renamed_email = f"{renamed['firstName']}.whitlock@example.com".lower()
    emulator.update_user(renamed["userId"], lastName="Whitlock", emailAddress=renamed_email)
    emulator.update_user(logged_in["userId"], lastLoginTime=logged_in.get("lastLoginTime", 0) + 86_400_000)

    second = history.take("2025-03-02T06:00:00Z")

    hired = [directory.find(user_id) for user_id in hires]
    assert second["changes"] == {
        "previousScheduledTime": "2025-03-01T06:00:00Z",
        **counts(
            added=2,
            removed=1,
            changed=4,
            superUserGrants=1 + sum(user["type"] == "SUPER_USER" for user in hired),  # type: ignore[index]
            apiAccessGrants=1 + sum(user["apiAccess"] == "ENABLED" for user in hired),  # type: ignore[index]
            principalChanges=2,
        ),
        "changesObject": second["changes"]["changesObject"],
    }
    assert second["changes"]["changesObject"]["key"] == "snapshots/2025/03/02/2025-03-02T06:00:00Z/changes.jsonl"
    assert history.change_lines(second) == by_user_id(
        [
            *({"userId": user["userId"], "change": "added", "user": user} for user in hired),  # type: ignore[index]
            {"userId": leaver["userId"], "change": "removed", "user": leaver},
            changed(promoted["userId"], type=("APP_USER", "SUPER_USER")),
            changed(granted["userId"], apiAccess=("DISABLED", "ENABLED"), apiAccessPrincipalArn=(None, granted_arn)),
            changed(
                new_principal["userId"], apiAccessPrincipalArn=(new_principal["apiAccessPrincipalArn"], replaced_arn)
            ),
            changed(
                renamed["userId"],
                lastName=(renamed["lastName"], "Whitlock"),
                emailAddress=(renamed["emailAddress"], renamed_email),
            ),
        ]
    )

    # Between ticks 2 and 3: a hire leaves again, the super user is demoted (no grant),
    # and API access is revoked, its principal cleared.
    emulator.remove_user(hires[0])
    emulator.update_user(promoted["userId"], type="APP_USER")
    emulator.update_user(granted["userId"], apiAccess="DISABLED", apiAccessPrincipalArn=None)

    third = history.take("2025-03-03T06:00:00Z")

    assert third["changes"] == {
        "previousScheduledTime": "2025-03-02T06:00:00Z",
        **counts(removed=1, changed=2, principalChanges=1),
        "changesObject": third["changes"]["changesObject"],
    }
    assert history.change_lines(third) == by_user_id(
        [
            {"userId": hires[0], "change": "removed", "user": hired[0]},
            changed(promoted["userId"], type=("SUPER_USER", "APP_USER")),
            changed(granted["userId"], apiAccess=("ENABLED", "DISABLED"), apiAccessPrincipalArn=(granted_arn, None)),
        ]
    )

    # Tick 4 with no change in between: an empty report, still written.
    fourth = history.take("2025-03-04T06:00:00Z")

    assert fourth["changes"]["previousScheduledTime"] == "2025-03-03T06:00:00Z"
    assert {name: fourth["changes"][name] for name in COUNT_NAMES} == counts()
    assert history.object(fourth["changes"]["changesObject"]["key"]) == b""


def test_changes_are_reported_in_the_summary_and_written_before_it(history: History) -> None:
    history.take("2025-04-01T06:00:00Z")

    summary = history.take("2025-04-02T06:00:00Z")

    stored = json.loads(history.object("snapshots/2025/04/02/2025-04-02T06:00:00Z/summary.json"))
    assert stored == summary
    assert set(summary) >= {"changes", "usersObject"}
    prefix = "snapshots/2025/04/02/2025-04-02T06:00:00Z/"
    assert {key for key in history.object_keys() if key.startswith(prefix)} == {
        prefix + name for name in ("users.jsonl", "changes.jsonl", "summary.json")
    }


def test_an_older_tick_compares_with_the_snapshot_before_it_never_a_later_one(
    history: History, directory: SeededDirectory, stack: LocalStack
) -> None:
    history.take("2025-05-01T06:00:00Z")
    stack.emulator.add_users(1)
    history.take("2025-05-03T06:00:00Z")
    # An incomplete snapshot (no summary.json) between them is not a previous snapshot.
    history.s3.put_object(Bucket=history.bucket, Key="snapshots/2025/05/01/2025-05-01T12:00:00Z/users.jsonl", Body=b"")

    late = history.take("2025-05-02T06:00:00Z")
    replayed = history.take("2025-05-03T06:00:00Z")

    assert late["changes"]["previousScheduledTime"] == "2025-05-01T06:00:00Z"
    assert late["changes"]["added"] == 1
    assert replayed["changes"]["previousScheduledTime"] == "2025-05-01T06:00:00Z"  # its stored summary, unchanged


def _delete_users_object(history: History, prefix: str) -> None:
    history.s3.delete_object(Bucket=history.bucket, Key=prefix + "users.jsonl")


def _alter_users_object(history: History, prefix: str) -> None:
    lines = history.object(prefix + "users.jsonl").splitlines(keepends=True)
    history.s3.put_object(Bucket=history.bucket, Key=prefix + "users.jsonl", Body=b"".join(lines[1:]))


def _break_a_line_consistently(history: History, prefix: str) -> None:
    lines = history.object(prefix + "users.jsonl").splitlines(keepends=True)
    lines[2] = lines[2][: len(lines[2]) // 2] + b"\n"
    history.vouch_for(prefix, b"".join(lines))


def _make_a_compared_field_a_list_consistently(history: History, prefix: str) -> None:
    lines = history.object(prefix + "users.jsonl").splitlines(keepends=True)
    lines[0] = json.dumps({**json.loads(lines[0]), "type": ["SUPER_USER"]}).encode() + b"\n"
    history.vouch_for(prefix, b"".join(lines))


def _rewrite_history_without_the_key(history: History, prefix: str) -> None:
    """The issue's forgery: a user shown as a super user already, sha256 and bytes fixed."""
    lines = history.object(prefix + "users.jsonl").splitlines(keepends=True)
    lines[0] = json.dumps({**json.loads(lines[0]), "type": "SUPER_USER"}).encode() + b"\n"
    history.vouch_for(prefix, b"".join(lines), sign=False)


def _replace_the_summary_with_another_ticks(history: History, prefix: str) -> None:
    other = "snapshots/2025/05/31/2025-05-31T06:00:00Z/"
    history.take("2025-05-31T06:00:00Z")
    history.s3.put_object(
        Bucket=history.bucket, Key=prefix + "summary.json", Body=history.object(other + "summary.json")
    )


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_delete_users_object, "users.jsonl is missing"),
        (_alter_users_object, "users.jsonl does not match the sha256 and bytes in its summary.json"),
        (_break_a_line_consistently, "users.jsonl line 3 is not JSON"),
        (_make_a_compared_field_a_list_consistently, "users.jsonl line 1 is not a user"),
        (_rewrite_history_without_the_key, "summary.json's signature does not verify with the signing key"),
        (_replace_the_summary_with_another_ticks, "summary.json is the summary of another tick"),
    ],
    ids=["missing", "sha256-mismatch", "not-json", "not-a-user", "rewritten-unsigned", "another-ticks-summary"],
)
def test_unreadable_history_never_breaks_todays_snapshot(
    history: History,
    stack: LocalStack,
    powertools_log: CapturedLog,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[History, str], None],
    reason: str,
) -> None:
    previous, today = "2025-06-01T06:00:00Z", "2025-06-02T06:00:00Z"
    history.take(previous)
    damage(history, f"snapshots/2025/06/01/{previous}/")
    stack.emulator.add_users(1)
    capsys.readouterr()

    summary = history.take(today)

    assert summary["userCount"] == USERS + 1
    assert summary["changes"] == {
        "previousScheduledTime": previous,
        "previous": "unreadable",
        "reason": reason,
    }
    prefix = f"snapshots/2025/06/02/{today}/"
    assert {key for key in history.object_keys() if key.startswith(prefix)} == {
        prefix + "users.jsonl",
        prefix + "summary.json",
    }
    warnings = [json.loads(line) for line in powertools_log.lines() if '"WARNING"' in line]
    assert [(line["message"], line["reason"]) for line in warnings] == [
        ("Previous snapshot unreadable: no change report", reason)
    ]
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["ChangeHistoryUnreadable"] == [1.0]
    assert "UsersAdded" not in metrics


def test_change_counts_are_published_as_metrics(
    history: History, stack: LocalStack, directory: SeededDirectory, capsys: pytest.CaptureFixture[str]
) -> None:
    history.take("2025-07-01T06:00:00Z")
    app_user = first_user(directory, lambda u: u["type"] == "APP_USER" and u["apiAccess"] == "DISABLED")
    stack.emulator.update_user(app_user["userId"], type="SUPER_USER", apiAccess="ENABLED")
    stack.emulator.remove_user(directory.user_at(USERS - 1)["userId"])
    capsys.readouterr()

    history.take("2025-07-02T06:00:00Z")

    metrics = emitted_metrics(capsys.readouterr().out)
    assert {name: metrics[name] for name in CHANGE_METRICS} == {
        "UsersAdded": [0.0],
        "UsersRemoved": [1.0],
        "UsersChanged": [1.0],
        "SuperUserGrants": [1.0],
        "ApiAccessGrants": [1.0],
        "ChangeHistoryUnreadable": [0.0],
    }


def test_make_changes_prints_the_latest_report_as_a_table(
    history: History,
    stack: LocalStack,
    directory: SeededDirectory,
) -> None:
    history.take("2025-08-01T06:00:00Z")
    promoted = first_user(directory, lambda u: u["type"] == "APP_USER")
    leaver = directory.user_at(USERS - 1)
    stack.emulator.update_user(promoted["userId"], type="SUPER_USER")
    stack.emulator.remove_user(leaver["userId"])
    (hire,) = stack.emulator.add_users(1)
    history.take("2025-08-02T06:00:00Z")

    completed = run_make_changes(history, stack)

    assert completed.returncode == 0, completed.stderr
    printed = completed.stdout
    rows = [[cell.strip() for cell in line.strip("│┃ ").split("│")] for line in printed.splitlines() if "│" in line]
    assert "Snapshot 2025-08-02T06:00:00Z, compared with 2025-08-01T06:00:00Z" in printed
    counted = {row[0]: row[1] for row in rows if len(row) == 2}
    assert counted["users added"] == counted["users removed"] == counted["users changed"] == "1"
    hired = directory.find(hire)
    assert hired is not None
    assert counted["new super users"] == str(1 + (hired["type"] == "SUPER_USER"))
    changed_rows = [row[2:] for row in rows if len(row) == 7]
    assert {row[0] for row in rows if len(row) == 7} == {"2025-08-02T06:00:00Z"}
    assert [promoted["userId"], "changed", "type", "APP_USER", "SUPER_USER"] in changed_rows
    assert [leaver["userId"], "removed", "firstName", leaver["firstName"], "—"] in changed_rows
    assert [hire, "added", "firstName", "—", hired["firstName"]] in changed_rows


def readme_section(heading: str) -> str:
    return README.split(f"\n{heading}\n", 1)[1].split("\n### ", 1)[0]


@pytest.fixture
def make_run_directory(stack: LocalStack) -> Iterator[SeededDirectory]:
    yield from use_directory(stack, 50, seed=42)  # what `make run` seeds


def test_the_readme_walkthrough_writes_the_readmes_example(
    stack: LocalStack,
    make_run_directory: SeededDirectory,
) -> None:
    history = History(stack)
    walkthrough = re.findall(r"```bash\n(.*?)```", readme_section("### Access-review changes, locally"), re.DOTALL)[0]
    example_lines, example_summary = re.findall(
        r"```json\n(.*?)```", readme_section("### Access-review changes"), re.DOTALL
    )[:2]
    summaries = []
    printed = ""

    for command in walkthrough.splitlines():
        if command.startswith("make snapshot"):
            tick = re.fullmatch(r'make snapshot SNAPSHOT_ARGS="--scheduled-time (\S+)"', command)
            assert tick is not None, command
            summaries.append(history.take(tick[1]))
        elif command.startswith("curl"):
            subprocess.run(  # noqa: S602 - the README's own command, against the test's emulator
                command.replace(RUNNING_EMULATOR, stack.finspace_url) + " --fail --silent",
                shell=True,
                check=True,
                capture_output=True,
            )
        elif command.startswith(("make verify", ".venv/bin/finspace-users")):
            continue  # test_readme_runner.py runs them against `make run`
        else:
            assert command == "make changes"
            printed += run_make_changes(history, stack).stdout

    assert len(summaries) == 2
    assert history.object(summaries[1]["changes"]["changesObject"]["key"]).decode() == example_lines
    assert summaries[1]["changes"] == json.loads("{" + example_summary + "}")["changes"]
    assert "users added" in printed


def test_make_changes_says_when_there_is_nothing_to_compare(history: History, stack: LocalStack) -> None:
    nothing = run_make_changes(history, stack)
    assert nothing.returncode == 2
    assert f"finspace-users changes: no snapshot in s3://{history.bucket} yet" in nothing.stderr

    history.take("2025-10-01T06:00:00Z")
    first = run_make_changes(history, stack)
    assert first.returncode == 0, first.stderr
    assert "No change report in this window: nothing to compare with." in first.stdout
    assert "note: 2025-10-01T06:00:00Z is the first snapshot: nothing to compare it with" in first.stdout

    _delete_users_object(history, "snapshots/2025/10/01/2025-10-01T06:00:00Z/")
    history.take("2025-10-02T06:00:00Z")
    unreadable = run_make_changes(history, stack)
    printed = unreadable.stdout
    assert unreadable.returncode == 1  # the first snapshot no longer verifies: named, and left out
    assert "Left out: 2025-10-01T06:00:00Z does not verify (extra version: users.jsonl has 1 versions" in printed
    assert (
        "note: 2025-10-02T06:00:00Z: no change report: the previous snapshot (2025-10-01T06:00:00Z) could not be "
        "read (users.jsonl is missing)" in printed
    )
