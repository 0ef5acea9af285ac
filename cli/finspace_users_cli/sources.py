"""Where the access-review history is read from: the deployed bucket (--bucket, or
--stack to read it from the stack's outputs), an exported copy on disk (--dir), or the
local stack that `make run` recorded.

AWS clients take their endpoints from botocore's own AWS_ENDPOINT_URL_S3,
AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL_CLOUDFORMATION, so the same commands run
against AWS and against the local stack.
"""

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from finspace_users.access_review.changes import SNAPSHOTS_PREFIX
from finspace_users.aws.errors import error_code

LOCAL_STACK_RECORD = Path("build/local-stack.json")
READ_CHUNK_BYTES = 1024 * 1024


class CannotRunError(Exception):
    """The tool cannot do its job at all (exit 2): no bucket, no access, no stack."""


@dataclass(frozen=True)
class Version:
    key: str
    last_modified: datetime
    delete_marker: bool


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int


class History(Protocol):
    name: str
    signing_key_id: str | None

    def summary_keys(self) -> list[str]: ...
    def read(self, key: str) -> bytes | None: ...
    def digest(self, key: str) -> Digest | None: ...
    def versions(self) -> list[Version] | None: ...


# The one form the snapshot writes a tick in (schedule_requests.utc_timestamp).
TICK = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def summary_tick(key: str) -> str | None:
    """The tick of snapshots/YYYY/MM/DD/{tick}/summary.json, or None for any other key."""
    parts = key.split("/")
    is_summary = len(parts) == 6 and key.startswith(SNAPSHOTS_PREFIX) and parts[5] == "summary.json"
    return parts[4] if is_summary and TICK.fullmatch(parts[4]) else None


def _unreadable(source: str, key: str, error: Exception) -> CannotRunError:
    """No access, or the network failing: the tool cannot check, which is no finding."""
    reason = (error_code(error) or "error") if isinstance(error, ClientError) else error
    return CannotRunError(f"cannot read {source}/{key}: {reason}")


def _streamed_digest(chunks: Iterator[bytes]) -> Digest:
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return Digest(digest.hexdigest(), size)


@dataclass
class BucketHistory:
    bucket: str
    signing_key_id: str | None = None
    s3: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.s3 = self.s3 or boto3.client("s3")
        self.name = f"s3://{self.bucket}"

    def summary_keys(self) -> list[str]:
        keys = []
        for page in self._pages("list_objects_v2"):
            keys += [listed["Key"] for listed in page.get("Contents", []) if summary_tick(listed["Key"])]
        return keys

    def read(self, key: str) -> bytes | None:
        try:
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        except (ClientError, BotoCoreError) as error:
            raise _unreadable(self.name, key, error) from None
        return body

    def digest(self, key: str) -> Digest | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
            return _streamed_digest(body.iter_chunks(READ_CHUNK_BYTES))
        except self.s3.exceptions.NoSuchKey:
            return None
        except (ClientError, BotoCoreError) as error:
            raise _unreadable(self.name, key, error) from None

    def versions(self) -> list[Version]:
        found = []
        for page in self._pages("list_object_versions"):
            for listed, marker in [(v, False) for v in page.get("Versions", [])] + [
                (m, True) for m in page.get("DeleteMarkers", [])
            ]:
                found.append(Version(listed["Key"], listed["LastModified"], marker))
        return found

    def _pages(self, operation: str) -> Iterator[dict[str, Any]]:
        try:
            yield from self.s3.get_paginator(operation).paginate(Bucket=self.bucket, Prefix=SNAPSHOTS_PREFIX)
        except ClientError as error:
            raise CannotRunError(f"cannot read {self.name}: {error_code(error) or 'error'}") from None
        except BotoCoreError as error:
            raise CannotRunError(f"cannot reach {self.name}: {error}") from None


@dataclass
class DirectoryHistory:
    """An exported copy: the bucket's keys as paths below root. It has no versions."""

    root: Path
    signing_key_id: str | None = None

    def __post_init__(self) -> None:
        if not (self.root / SNAPSHOTS_PREFIX).is_dir():
            raise CannotRunError(f"{self.root} holds no {SNAPSHOTS_PREFIX} folder")
        self.name = str(self.root)

    def summary_keys(self) -> list[str]:
        paths = (self.root / SNAPSHOTS_PREFIX).glob("*/*/*/*/summary.json")
        return [key for path in paths if summary_tick(key := path.relative_to(self.root).as_posix())]

    def read(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def digest(self, key: str) -> Digest | None:
        path = self.root / key
        if not path.is_file():
            return None
        with path.open("rb") as stream:
            return _streamed_digest(iter(lambda: stream.read(READ_CHUNK_BYTES), b""))

    def versions(self) -> None:
        return None


def history_from(bucket: str | None, stack: str | None, directory: Path | None) -> History:
    if directory is not None:
        return DirectoryHistory(directory)
    if bucket is not None:
        return BucketHistory(bucket)
    if stack is not None:
        outputs = _stack_outputs(stack)
        return BucketHistory(outputs["SnapshotBucketName"], outputs.get("SnapshotSigningKeyArn"))
    return _local_stack_history()


def _stack_outputs(stack: str) -> dict[str, str]:
    try:
        (described,) = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except (ClientError, BotoCoreError) as error:
        raise CannotRunError(f"cannot read stack {stack}: {error}") from None
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def _local_stack_history() -> History:
    record_path = Path(os.environ.get("FINSPACE_USERS_LOCAL_STACK", LOCAL_STACK_RECORD))
    if not record_path.is_file():
        raise CannotRunError(
            f"no local stack is running ({record_path} is absent): start one with `make run`, "
            "or name the deployed history with --bucket or --stack"
        )
    try:
        record = json.loads(record_path.read_text())
        pid = int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        raise CannotRunError(f"{record_path} is not a record of a local stack: restart `make run`") from None
    if not _alive(pid):
        raise CannotRunError(
            f"no local stack is running: {record_path} names process {pid}, which has ended: start one with `make run`"
        )
    for service in ("S3", "KMS"):
        os.environ.setdefault(f"AWS_ENDPOINT_URL_{service}", record["motoUrl"])
    os.environ.setdefault("AWS_DEFAULT_REGION", record["region"])
    for credential in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(credential, "testing")  # moto's; the local stack has no others
    return BucketHistory(record["bucket"], record["signingKeyId"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
