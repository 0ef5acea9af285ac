"""Access-review evidence an auditor can verify: `finspace-users verify`, run as a user
types it (the console script in .venv, in a shell of its own), on histories the snapshot
wrote into moto, intact and tampered with. Each tamper is detected, named with its tick,
and exits 1."""

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from finspace_users.access_review.snapshot import ForgedSummaryError
from finspace_users_cli.verify import KINDS
from localdev.harness.defaults import REGION as LOCAL_REGION
from localdev.harness.directory import SeededDirectory
from localdev.harness.stack import LocalStack
from tests.conftest import CapturedLog
from tests.integration.history import History, use_directory
from tests.integration.operator_tool import TICKS, prefix_of, run_tool

USERS = 30


@pytest.fixture
def directory(stack: LocalStack) -> Iterator[SeededDirectory]:
    yield from use_directory(stack, USERS, seed=31)


@pytest.fixture
def history(stack: LocalStack, directory: SeededDirectory) -> History:
    history = History(stack)
    for tick in TICKS:
        history.take(tick)
    return history


def verify(stack: LocalStack, history: History, *options: str) -> subprocess.CompletedProcess[str]:
    return run_tool(stack, "verify", "--bucket", history.bucket, "--key-id", history.signing_key_id, *options)


def findings(completed: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    """(tick, kind) of each finding line."""
    lines = [line.split("  ", 1) for line in completed.stdout.splitlines() if not line.startswith(("note:", "verify "))]
    found = [(tick, detail.split(":", 1)[0]) for tick, detail in lines]
    assert all(kind in KINDS for _, kind in found), found
    return found


def test_an_intact_history_verifies(stack: LocalStack, history: History) -> None:
    completed = verify(stack, history)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert findings(completed) == []
    last = completed.stdout.splitlines()[-1]
    assert last.startswith(f"verify s3://{history.bucket}: 4 snapshots, 11 objects,"), last
    assert last.endswith("versions checked: 0 findings")


def test_each_summary_links_its_predecessor_and_is_signed(history: History) -> None:
    summaries = [json.loads(history.object(prefix_of(tick) + "summary.json")) for tick in TICKS]
    assert summaries[0]["previousSummary"] is None
    for before, after, tick in zip(TICKS, summaries[1:], TICKS[1:], strict=False):
        assert after["previousSummary"]["key"] == prefix_of(before) + "summary.json", tick
    assert {summary["signature"]["algorithm"] for summary in summaries} == {"RSASSA_PKCS1_V1_5_SHA_256"}


def test_one_flipped_byte_in_a_middle_users_object(stack: LocalStack, history: History) -> None:
    key = prefix_of(TICKS[1]) + "users.jsonl"
    body = bytearray(history.object(key))
    body[100] ^= 0x01
    history.s3.put_object(Bucket=history.bucket, Key=key, Body=bytes(body))

    completed = verify(stack, history)

    assert completed.returncode == 1
    assert (TICKS[1], "hash mismatch") in findings(completed)
    assert (TICKS[1], "extra version") in findings(completed)


def test_a_coherent_rewrite_without_the_key(stack: LocalStack, history: History) -> None:
    history.vouch_for(prefix_of(TICKS[1]), history.object(prefix_of(TICKS[1]) + "users.jsonl")[1:], sign=False)

    found = findings(verify(stack, history))

    assert (TICKS[1], "bad signature") in found
    assert (TICKS[2], "broken link") in found


def test_a_coherent_rewrite_re_signed_breaks_the_next_link(stack: LocalStack, history: History) -> None:
    """A holder of kms:Sign can re-sign a rewrite; the successor's link and the object's
    second version still give it away."""
    history.vouch_for(prefix_of(TICKS[1]), history.object(prefix_of(TICKS[1]) + "users.jsonl")[1:])

    completed = verify(stack, history)

    assert completed.returncode == 1
    found = findings(completed)
    assert (TICKS[1], "bad signature") not in found
    assert (TICKS[2], "broken link") in found
    assert (TICKS[1], "extra version") in found
    assert f"its predecessor {TICKS[1]} is not the summary it signed" in completed.stdout


def test_a_middle_snapshot_deleted(stack: LocalStack, history: History) -> None:
    for name in ("users.jsonl", "changes.jsonl", "summary.json"):
        history.s3.delete_object(Bucket=history.bucket, Key=prefix_of(TICKS[2]) + name)

    completed = verify(stack, history)

    assert completed.returncode == 1
    found = findings(completed)
    assert (TICKS[3], "missing object") in found
    assert (TICKS[2], "extra version") in found  # its delete markers
    assert f"its predecessor {TICKS[2]} is missing" in completed.stdout


def test_the_newest_deleted_shows_against_max_age(stack: LocalStack, history: History) -> None:
    history.s3.delete_object(Bucket=history.bucket, Key=prefix_of(TICKS[3]) + "summary.json")

    completed = verify(stack, history, "--max-age", "25h")

    assert completed.returncode == 1
    assert (TICKS[2], "gap") in findings(completed)


def test_a_summary_replaced_by_an_older_one(stack: LocalStack, history: History) -> None:
    older = history.object(prefix_of(TICKS[1]) + "summary.json")
    history.s3.put_object(Bucket=history.bucket, Key=prefix_of(TICKS[2]) + "summary.json", Body=older)

    found = findings(verify(stack, history))

    assert (TICKS[2], "broken link") in found
    assert (TICKS[3], "broken link") in found


def test_an_unsigned_snapshot(stack: LocalStack, history: History) -> None:
    summary = json.loads(history.object(prefix_of(TICKS[3]) + "summary.json"))
    del summary["signature"]
    history.s3.put_object(
        Bucket=history.bucket, Key=prefix_of(TICKS[3]) + "summary.json", Body=json.dumps(summary).encode()
    )

    completed = verify(stack, history)

    assert completed.returncode == 1
    assert (TICKS[3], "unsigned") in findings(completed)


def test_a_tick_run_late_is_a_branch_not_a_finding(stack: LocalStack, directory: SeededDirectory) -> None:
    history = History(stack)
    for tick in (TICKS[0], TICKS[1], TICKS[3], TICKS[2]):  # the third tick runs after the fourth
        history.take(tick)

    completed = verify(stack, history)

    assert completed.returncode == 0, completed.stdout
    assert f"note: branch: {TICKS[2]} was taken late; {TICKS[3]} follows {TICKS[1]}" in completed.stdout


def test_offline_with_the_public_key_and_an_exported_copy(stack: LocalStack, history: History, tmp_path: Path) -> None:
    pem = run_tool(stack, "public-key", "--bucket", history.bucket, "--key-id", history.signing_key_id)
    assert pem.returncode == 0 and pem.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    (tmp_path / "signing-key.pem").write_text(pem.stdout)
    for key in history.object_keys():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(history.object(key))

    from_bucket = run_tool(
        stack,
        "verify",
        "--bucket",
        history.bucket,
        "--public-key",
        str(tmp_path / "signing-key.pem"),
        kms_reachable=False,
    )
    from_copy = run_tool(
        stack, "verify", "--dir", str(tmp_path), "--public-key", str(tmp_path / "signing-key.pem"), kms_reachable=False
    )

    assert from_bucket.returncode == 0, from_bucket.stdout + from_bucket.stderr
    assert from_copy.returncode == 0, from_copy.stdout + from_copy.stderr
    assert "versions not checked" in from_copy.stdout.splitlines()[-1]


def test_json_output(stack: LocalStack, history: History) -> None:
    completed = verify(stack, history, "--json")

    report = json.loads(completed.stdout)
    assert (report["snapshots"], report["findings"], report["versionsChecked"]) == (4, [], True)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("verify", "--bucket", "no-such-bucket-anywhere", "--key-id", "x"),
            "cannot read the public key of x",
        ),
        (("verify", "--dir", "/nonexistent"), "/nonexistent holds no snapshots/ folder"),
        (("verify", "--max-age", "soon"), "'soon' is not a duration"),
    ],
)
def test_what_cannot_run_exits_2(stack: LocalStack, arguments: tuple[str, ...], message: str) -> None:
    completed = run_tool(stack, *arguments)

    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_bucket_that_does_not_exist_exits_2(stack: LocalStack) -> None:
    completed = run_tool(stack, "verify", "--bucket", "no-such-bucket-anywhere", "--key-id", stack.signing_key_id)

    assert completed.returncode == 2
    assert "cannot read s3://no-such-bucket-anywhere: NoSuchBucket" in completed.stderr


def test_the_log_line_is_a_second_record_of_each_summary(
    stack: LocalStack, directory: SeededDirectory, powertools_log: CapturedLog
) -> None:
    history = History(stack)
    history.take(TICKS[0])

    (taken,) = [json.loads(line) for line in powertools_log.lines() if '"Snapshot taken"' in line]
    stored = history.object(prefix_of(TICKS[0]) + "summary.json")
    assert taken["summarySha256"] == hashlib.sha256(stored).hexdigest()
    assert taken["signature"] == json.loads(stored)["signature"]["value"]


def test_the_stack_option_reads_the_bucket_and_key_from_the_stack_outputs(stack: LocalStack, history: History) -> None:
    outputs = {"SnapshotBucketName": history.bucket, "SnapshotSigningKeyArn": history.signing_key_id}
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    cloudformation = boto3.client("cloudformation", endpoint_url=stack.moto_url, region_name=LOCAL_REGION)
    cloudformation.create_stack(StackName="finspace-users-test", TemplateBody=json.dumps(template))

    completed = run_tool(stack, "verify", "--stack", "finspace-users-test", cloudformation=True)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.splitlines()[-1].startswith(f"verify s3://{history.bucket}: 4 snapshots")


def test_a_planted_summary_is_never_returned_as_the_ticks(stack: LocalStack, directory: SeededDirectory) -> None:
    """A summary.json the key did not sign, placed before the tick ran, fails the tick
    loudly: it is not the day's population."""
    history = History(stack)
    history.take(TICKS[0])
    planted = json.loads(history.object(prefix_of(TICKS[0]) + "summary.json"))
    planted.update(scheduledTime=TICKS[1], userCount=0)
    history.s3.put_object(Bucket=history.bucket, Key=prefix_of(TICKS[1]) + "summary.json", Body=json.dumps(planted))

    with pytest.raises(ForgedSummaryError, match=TICKS[1]):
        history.take(TICKS[1])
