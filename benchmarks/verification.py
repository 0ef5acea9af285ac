"""What `finspace-users verify` costs: a chained, signed history of daily snapshots in
moto, verified by the console script as a user runs it, beside the least any verifier
must do: list the versions, read every object once and hash it (`python -m
benchmarks.verification read`). Both run in processes of their own, started by a small
probe process, so that their peak RSS is theirs alone (a child forked straight from the
bench would count the bench's memory too).
"""

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import orjson

from finspace_users.access_review.evidence import PREVIOUS_FIELD, link_to, signed, summary_body
from localdev.harness.defaults import ACCESS_KEY_ID, PROJECT_ROOT, SECRET_ACCESS_KEY
from localdev.harness.defaults import REGION as LOCAL_REGION
from localdev.harness.directory import SeededDirectory
from localdev.harness.stack import LocalStack, create_locked_bucket

TOOL = PROJECT_ROOT / ".venv" / "bin" / "finspace-users"


def write_history(stack: LocalStack, bucket: str, days: int, users: int) -> None:
    """`days` daily snapshots of `users` users, ending an hour ago, each linked to the one
    before and signed with the stack's key, as the snapshot writes them."""
    s3 = boto3.client("s3", endpoint_url=stack.moto_url)
    kms = boto3.client("kms", endpoint_url=stack.moto_url)
    create_locked_bucket(s3, bucket)
    body = b"".join(orjson.dumps(user, option=orjson.OPT_APPEND_NEWLINE) for user in SeededDirectory(users, seed=11))
    described = {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
    newest = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    previous: dict[str, Any] | None = None
    for day in range(days):
        moment = newest - timedelta(days=days - 1 - day)
        tick = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        prefix = f"snapshots/{moment:%Y/%m/%d}/{tick}/"
        s3.put_object(Bucket=bucket, Key=prefix + "users.jsonl", Body=body)
        summary = {
            "scheduledTime": tick,
            "userCount": users,
            "usersObject": {"key": prefix + "users.jsonl", **described},
            "changes": {"previousScheduledTime": previous and previous["scheduledTime"], "changesObject": None},
            "startedAt": tick,
            "finishedAt": tick,
            PREVIOUS_FIELD: previous and previous["link"],
        }
        stored = summary_body(signed(summary, kms, stack.signing_key_id))
        s3.put_object(Bucket=bucket, Key=prefix + "summary.json", Body=stored)
        previous = {"scheduledTime": tick, "link": link_to(prefix + "summary.json", stored)}


def environment(stack: LocalStack) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_ENDPOINT_URL_S3": stack.moto_url,
        "AWS_ENDPOINT_URL_KMS": stack.moto_url,
    }


RSS_PROBE = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)"
)


def measured(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall time, peak RSS and output of one process."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own probe and commands
        [sys.executable, "-c", RSS_PROBE, *command], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    elapsed_ms = (time.perf_counter() - started) * 1000
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return {"ms": elapsed_ms, "peak_rss_mb": peak_kb / 1024, "exit": done.returncode, "output": done.stdout}


def verify_run(stack: LocalStack, bucket: str) -> dict[str, Any]:
    command = [str(TOOL), "verify", "--bucket", bucket, "--key-id", stack.signing_key_id, "--json"]
    result = measured(command, environment(stack))
    assert result["exit"] == 0, result["output"]
    return result


def read_run(stack: LocalStack, bucket: str) -> dict[str, Any]:
    return measured([sys.executable, "-m", "benchmarks.verification", "read", bucket], environment(stack))


def read_and_hash_everything(bucket: str) -> None:
    """The floor: list the versions and the snapshots, stream every object once through
    SHA-256."""
    s3 = boto3.client("s3")
    for _ in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="snapshots/"):
        pass
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="snapshots/"):
        for listed in page.get("Contents", []):
            digest = hashlib.sha256()
            for chunk in s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].iter_chunks(1024 * 1024):
                digest.update(chunk)


if __name__ == "__main__":
    if sys.argv[1:2] == ["read"]:
        read_and_hash_everything(sys.argv[2])
        print(json.dumps({"read": sys.argv[2]}))
