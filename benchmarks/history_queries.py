"""What the history questions cost: `finspace-users who`, `history` and `query` on a
chained, signed history of daily snapshots in moto with 1% of the users changed a day,
each run by the console script as a user runs it, beside the floor: downloading the same
objects with s3transfer, the AWS CLI's own transfer library, as `aws s3 cp --recursive`
does (`python -m benchmarks.history_queries download BUCKET KEY...`). The AWS CLI itself
pins a botocore of its own, which the project's SDK pins rule out. Each runs in a
process of its own, under the RSS probe of benchmarks/verification.py.
"""

import hashlib
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import orjson

from benchmarks.verification import TOOL, environment, measured
from finspace_users.access_review.evidence import PREVIOUS_FIELD, link_to, signed, summary_body
from localdev.harness.directory import SeededDirectory
from localdev.harness.stack import LocalStack, create_locked_bucket

FLIPS = {"type": ("APP_USER", "SUPER_USER"), "apiAccess": ("DISABLED", "ENABLED")}


def _line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def write_history(stack: LocalStack, bucket: str, days: int, users: int, share: float = 0.01) -> dict[str, Any]:
    """`days` daily snapshots ending an hour ago; each day `share` of the users flip
    their type or API access. Returns the keys of each kind and a user changed often."""
    s3 = boto3.client("s3", endpoint_url=stack.moto_url)
    kms = boto3.client("kms", endpoint_url=stack.moto_url)
    create_locked_bucket(s3, bucket)
    directory = [dict(user) for user in SeededDirectory(users, seed=12)]
    newest = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    previous: dict[str, Any] | None = None
    keys: dict[str, list[str]] = {"summary": [], "users": [], "changes": []}
    per_day = max(int(users * share), 1)
    for day in range(days):
        moment = newest - timedelta(days=days - 1 - day)
        tick = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        prefix = f"snapshots/{moment:%Y/%m/%d}/{tick}/"
        changes: list[bytes] = []
        if previous is not None:
            for offset in range(per_day):
                user = directory[(day * 7919 + offset * 97) % users]
                name = "type" if offset % 2 else "apiAccess"
                before = user.get(name)
                after = FLIPS[name][1] if before == FLIPS[name][0] else FLIPS[name][0]
                user[name] = after
                changes.append(
                    _line(
                        {"userId": user["userId"], "change": "changed", "fields": {name: {"from": before, "to": after}}}
                    )
                )
        body = b"".join(_line(user) for user in directory)
        s3.put_object(Bucket=bucket, Key=prefix + "users.jsonl", Body=body)
        keys["users"].append(prefix + "users.jsonl")
        block: dict[str, Any] = {"previousScheduledTime": previous and previous["scheduledTime"], "changesObject": None}
        if previous is not None:
            report = b"".join(sorted(set(changes)))
            s3.put_object(Bucket=bucket, Key=prefix + "changes.jsonl", Body=report)
            keys["changes"].append(prefix + "changes.jsonl")
            described = {
                "key": prefix + "changes.jsonl",
                "sha256": hashlib.sha256(report).hexdigest(),
                "bytes": len(report),
            }
            block = {**block, "changed": len(changes), "added": 0, "removed": 0, "changesObject": described}
        summary = {
            "scheduledTime": tick,
            "userCount": users,
            "byStatus": {},
            "byType": {},
            "apiAccessEnabled": 0,
            "dormantUsers": 0,
            "usersObject": {
                "key": prefix + "users.jsonl",
                "sha256": hashlib.sha256(body).hexdigest(),
                "bytes": len(body),
            },
            "changes": block,
            "startedAt": tick,
            "finishedAt": tick,
            PREVIOUS_FIELD: previous and previous["link"],
        }
        stored = summary_body(signed(summary, kms, stack.signing_key_id))
        s3.put_object(Bucket=bucket, Key=prefix + "summary.json", Body=stored)
        keys["summary"].append(prefix + "summary.json")
        previous = {"scheduledTime": tick, "link": link_to(prefix + "summary.json", stored)}
    return {"keys": keys, "userId": directory[7919 % users]["userId"], "users_mb": len(body) / 1e6}


def tool_run(stack: LocalStack, bucket: str, *arguments: str) -> dict[str, Any]:
    command = [str(TOOL), arguments[0], "--bucket", bucket, "--key-id", stack.signing_key_id, "--json", *arguments[1:]]
    result = measured(command, environment(stack))
    assert result["exit"] == 0, result["output"][-2000:]
    return result


def download_run(stack: LocalStack, bucket: str, keys: list[str]) -> dict[str, Any]:
    return measured([sys.executable, "-m", "benchmarks.history_queries", "download", bucket, *keys], environment(stack))


def download(bucket: str, keys: list[str]) -> None:
    """The floor: the objects, downloaded as `aws s3 cp --recursive` downloads them."""
    s3 = boto3.client("s3")
    with tempfile.TemporaryDirectory() as folder:
        for number, key in enumerate(keys):
            s3.download_file(bucket, key, str(Path(folder) / str(number)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["download"]:
        download(sys.argv[2], sys.argv[3:])
        print(json.dumps({"downloaded": len(sys.argv) - 3}))
