"""The access history questions (`finspace-users summary`, `changes`, `who`, `history`,
`query`, `export` and `verify --pack`), run as a user types them, in a clean shell, on a
history the snapshot wrote into moto: four daily ticks with the directory changed
between them. Each answer names the snapshots that answered; a tampered one is named
and left out (exit 1); bad inputs get one line and exit 2."""

import csv
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from localdev.harness.directory import SeededDirectory
from localdev.harness.stack import LocalStack
from tests.integration.history import History, use_directory
from tests.integration.operator_tool import TICKS, prefix_of, run_tool

USERS = 40
MODIFIED_MS = 1_790_000_000_000


@pytest.fixture(scope="module")
def changed(stack: LocalStack) -> Iterator[dict[str, Any]]:
    """The history, and who was changed when (module-wide: the tests only read it)."""
    gen = use_directory(stack, USERS, seed=77)
    directory: SeededDirectory = next(gen)
    history = History(stack)
    promoted = next(u["userId"] for u in directory if u["type"] == "APP_USER" and u["status"] == "ENABLED")
    granted = next(u["userId"] for u in directory if u["apiAccess"] == "DISABLED" and u["userId"] != promoted)
    removed = next(u["userId"] for u in directory if u["userId"] not in (promoted, granted))
    history.take(TICKS[0])
    directory.update_user(promoted, {"type": "SUPER_USER"}, modified_ms=MODIFIED_MS)
    history.take(TICKS[1])
    directory.update_user(
        granted, {"apiAccess": "ENABLED", "apiAccessPrincipalArn": "arn:aws:iam::1:role/r"}, modified_ms=MODIFIED_MS
    )
    (added,) = directory.add_users(1)
    history.take(TICKS[2])
    directory.remove_user(removed)
    history.take(TICKS[3])
    new = directory.find(added) or {}
    yield {
        "history": history,
        "promoted": promoted,
        "granted": granted,
        "added": added,
        "removed": removed,
        "added_grants": (new.get("type") == "SUPER_USER", new.get("apiAccess") == "ENABLED"),
    }
    next(gen, None)


def tool(stack: LocalStack, changed: dict[str, Any], *arguments: str) -> subprocess.CompletedProcess[str]:
    history: History = changed["history"]
    command, *rest = arguments
    return run_tool(stack, command, "--bucket", history.bucket, "--key-id", history.signing_key_id, *rest)


def as_json(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert completed.returncode == 0, completed.stdout + completed.stderr
    document: dict[str, Any] = json.loads(completed.stdout)
    return document


def test_summary_at_a_date_is_the_snapshot_that_stood_then(stack: LocalStack, changed: dict[str, Any]) -> None:
    answer = as_json(tool(stack, changed, "summary", "--at", TICKS[1], "--json"))

    assert answer["scheduledTime"] == TICKS[1]
    assert answer["chain"]["position"] == 2 and answer["chain"]["of"] == 4
    assert answer["chain"]["previous"] == TICKS[0] and answer["chain"]["next"] == TICKS[2]
    assert answer["counts"]["userCount"] == USERS
    assert len(answer["dormant"]) == answer["dormantUsers"]
    assert [a["scheduledTime"] for a in answer["provenance"]["answeredBy"]] == [TICKS[1]]
    assert answer["provenance"]["leftOut"] == []

    text = tool(stack, changed, "summary")
    assert text.returncode == 0, text.stderr
    assert f"Snapshot {TICKS[3]}" in text.stdout and "4 of 4 in the chain" in text.stdout
    assert f"Answered by snapshot {TICKS[3]}, verified" in text.stdout


def test_changes_merges_every_report_with_the_counts_first(stack: LocalStack, changed: dict[str, Any]) -> None:
    answer = as_json(tool(stack, changed, "changes", "--json"))

    super_user, api_access = changed["added_grants"]
    assert answer["counts"] == {
        "added": 1,
        "removed": 1,
        "changed": 2,
        "superUserGrants": 1 + super_user,
        "apiAccessGrants": 1 + api_access,
        "principalChanges": 1,
    }
    assert [r["scheduledTime"] for r in answer["reports"]] == TICKS[1:]
    fields = {(c["userId"], c["change"], c["field"], c["to"]) for c in answer["changes"]}
    assert (changed["promoted"], "changed", "type", "SUPER_USER") in fields
    assert (changed["granted"], "changed", "apiAccess", "ENABLED") in fields

    window = as_json(tool(stack, changed, "changes", "--since", TICKS[1], "--until", TICKS[2], "--json"))
    assert [r["scheduledTime"] for r in window["reports"]] == [TICKS[2]]
    assert window["counts"]["added"] == 1 and window["counts"]["superUserGrants"] == super_user

    text = tool(stack, changed, "changes")
    assert text.stdout.index("Counts") < text.stdout.index("Changed users")
    assert "3 change reports, merged" in text.stdout


def test_who_filters_the_snapshot_that_stood_then(stack: LocalStack, changed: dict[str, Any]) -> None:
    before = as_json(tool(stack, changed, "who", "--at", TICKS[0], "--type", "SUPER_USER", "--json"))
    after = as_json(tool(stack, changed, "who", "--at", TICKS[1], "--type", "SUPER_USER", "--json"))

    assert changed["promoted"] not in {u["userId"] for u in before["users"]}
    assert changed["promoted"] in {u["userId"] for u in after["users"]}
    assert all(u["type"] == "SUPER_USER" for u in after["users"])

    api = tool(stack, changed, "who", "--at", TICKS[2][:10], "--api-access", "ENABLED", "--status", "ENABLED", "--csv")
    rows = list(csv.DictReader(io.StringIO(api.stdout)))
    assert changed["granted"] in {row["userId"] for row in rows}
    assert {row["apiAccess"] for row in rows} == {"ENABLED"}
    assert f"Answered by snapshot {TICKS[2]}, verified" in api.stderr

    dormant = as_json(tool(stack, changed, "who", "--dormant", "--json"))
    summary = as_json(tool(stack, changed, "summary", "--json"))
    assert dormant["count"] == summary["dormantUsers"]


def test_history_of_one_user_oldest_first(stack: LocalStack, changed: dict[str, Any]) -> None:
    answer = as_json(tool(stack, changed, "history", changed["granted"], "--json"))

    steps = [(h["scheduledTime"], h["change"], h["field"], h["to"]) for h in answer["history"]]
    assert steps[0][:2] == (TICKS[0], "present")
    assert (TICKS[2], "changed", "apiAccess", "ENABLED") in steps
    assert [h["scheduledTime"] for h in answer["history"]] == sorted(h["scheduledTime"] for h in answer["history"])

    removed = as_json(tool(stack, changed, "history", changed["removed"], "--json"))
    assert removed["history"][-1]["change"] == "removed"
    assert removed["history"][-1]["scheduledTime"] == TICKS[3]
    added = as_json(tool(stack, changed, "history", changed["added"], "--json"))
    assert {h["change"] for h in added["history"]} == {"added"}


def test_query_views_are_typed(stack: LocalStack, changed: dict[str, Any]) -> None:
    grouped = as_json(
        tool(stack, changed, "query", "SELECT scheduledTime, count(*) AS n FROM users GROUP BY 1 ORDER BY 1", "--json")
    )
    assert [row["n"] for row in grouped["rows"]] == [USERS, USERS, USERS + 1, USERS]

    typed = as_json(
        tool(
            stack,
            changed,
            "query",
            "SELECT typeof(scheduledTime) AS t, typeof(lastLoginTime) AS l, typeof(apiAccessPrincipalArn) AS p "
            "FROM users LIMIT 1",
            "--json",
        )
    )
    assert typed["rows"] == [{"t": "TIMESTAMP", "l": "TIMESTAMP", "p": "VARCHAR"}]
    grants = as_json(
        tool(
            stack,
            changed,
            "query",
            "SELECT userId, typeof(\"from\") AS f FROM changes WHERE field = 'apiAccess' AND \"to\" = 'ENABLED'",
            "--json",
        )
    )
    assert {row["userId"] for row in grants["rows"]} >= {changed["granted"]}
    assert {row["f"] for row in grants["rows"]} == {"VARCHAR"}
    summaries = as_json(tool(stack, changed, "query", "SELECT sum(superUserGrants) AS s FROM summaries", "--json"))
    assert summaries["rows"] == [{"s": 1 + changed["added_grants"][0]}]


def test_export_and_verify_the_pack_offline(stack: LocalStack, changed: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "pack"
    exported = tool(stack, changed, "export", "--at", TICKS[1], "--out", str(out))
    assert exported.returncode == 0, exported.stdout + exported.stderr

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scheduledTime"] == TICKS[1] and manifest["chain"] == TICKS[1:]
    paths = {entry["path"] for entry in manifest["files"]}
    assert {"population.csv", "signing-key.pem", "report.html"} <= paths
    assert {prefix_of(TICKS[1]) + name for name in ("users.jsonl", "changes.jsonl", "summary.json")} <= paths
    assert {prefix_of(tick) + "summary.json" for tick in TICKS[2:]} <= paths
    population = list(csv.DictReader(io.StringIO((out / "population.csv").read_text())))
    assert len(population) == USERS
    html = (out / "report.html").read_text()
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")

    checked = run_tool(stack, "verify", "--pack", str(out), kms_reachable=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[-1].endswith("0 findings")

    # With the firm's key, the pack's own key must be that one.
    firm_key = tmp_path / "firm-key.pem"
    firm_key.write_bytes((out / "signing-key.pem").read_bytes())
    with_firm_key = run_tool(stack, "verify", "--pack", str(out), "--public-key", str(firm_key), kms_reachable=False)
    assert with_firm_key.returncode == 0, with_firm_key.stdout + with_firm_key.stderr
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    firm_key.write_bytes(
        other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with_another_key = run_tool(stack, "verify", "--pack", str(out), "--public-key", str(firm_key), kms_reachable=False)
    assert with_another_key.returncode == 1
    assert "signing-key.pem is not the public key given with --public-key" in with_another_key.stdout

    (out / "population.csv").write_text((out / "population.csv").read_text().replace("ENABLED", "DISABLED", 1))
    tampered = run_tool(stack, "verify", "--pack", str(out), kms_reachable=False)
    assert tampered.returncode == 1
    assert "population.csv differs from the manifest" in tampered.stdout
    assert "population.csv is not the population of" in tampered.stdout


def test_a_tampered_snapshot_is_named_and_left_out(stack: LocalStack, directory_for_tamper: History) -> None:
    history = directory_for_tamper
    key = prefix_of(TICKS[2]) + "users.jsonl"
    body = bytearray(history.object(key))
    body[50] ^= 0x01
    history.s3.put_object(Bucket=history.bucket, Key=key, Body=bytes(body))
    arguments = ("--bucket", history.bucket, "--key-id", history.signing_key_id)

    who = run_tool(stack, "who", *arguments, "--at", TICKS[2], "--json")
    assert who.returncode == 1, who.stderr
    answer = json.loads(who.stdout)
    assert answer["scheduledTime"] == TICKS[1]  # the one before stood in for it, verified
    left = {entry["scheduledTime"]: entry["findings"] for entry in answer["provenance"]["leftOut"]}
    assert TICKS[2] in left and any("hash mismatch" in finding for finding in left[TICKS[2]])

    text = run_tool(stack, "query", *arguments, "SELECT DISTINCT scheduledTime FROM users ORDER BY 1")
    assert text.returncode == 1
    assert f"Left out: {TICKS[2]} does not verify" in text.stdout
    assert TICKS[2].replace("T", " ")[:19] not in text.stdout.split("Left out")[0]


@pytest.fixture
def directory_for_tamper(stack: LocalStack) -> Iterator[History]:
    gen = use_directory(stack, 20, seed=5)
    next(gen)
    history = History(stack)
    for tick in TICKS:
        history.take(tick)
    yield history
    next(gen, None)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("who", "--at", "yesterday"), "'yesterday' is not a date: use 2026-06-30 or 2026-06-30T02:00:00Z"),
        (("summary", "--at", "2001-01-01"), "no snapshot stood at 2001-01-01T23:59:59Z: the first is"),
        (("history", "nobody-at-all"), "unknown user nobody-at-all: in no verified snapshot of"),
        (("query", "SELECT * FROM nowhere"), "the query failed: Catalog Error"),
        (("changes", "--since", "2999-01-01"), "no verified snapshot was taken after 2999-01-01T23:59:59Z"),
    ],
)
def test_bad_inputs_get_one_line_and_exit_2(
    stack: LocalStack, changed: dict[str, Any], arguments: tuple[str, ...], message: str
) -> None:
    completed = tool(stack, changed, *arguments)

    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert message in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert "Traceback" not in completed.stderr


def test_no_access_exits_2(stack: LocalStack, changed: dict[str, Any]) -> None:
    completed = run_tool(stack, "who", "--bucket", "no-such-bucket-anywhere", "--key-id", stack.signing_key_id)

    assert completed.returncode == 2
    assert "cannot read s3://no-such-bucket-anywhere: NoSuchBucket" in completed.stderr


@pytest.mark.parametrize("command", ["summary", "changes", "who", "history", "query", "export", "verify", "public-key"])
def test_help_everywhere(stack: LocalStack, command: str) -> None:
    completed = run_tool(stack, command, "--help")

    assert completed.returncode == 0
    assert "--json" in completed.stdout and "--csv" in completed.stdout
