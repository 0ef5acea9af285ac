"""S3 refuses a write to an Object Lock bucket that carries no integrity checksum. Every
write the snapshot makes (PutObject, UploadPart, CompleteMultipartUpload) carries one,
as sent over HTTP to a locked bucket in moto."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from finspace_users.access_review.snapshot_objects import PART_BYTES, StreamingUpload, s3_client
from localdev.harness.stack import LocalStack, create_locked_bucket

CHECKSUM_HEADERS = ("x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm", "content-md5")


@pytest.fixture
def sent(stack: LocalStack) -> Iterator[list[tuple[str, dict[str, str], bytes]]]:
    """(operation, headers, body) of every S3 request the snapshot's client sends."""
    requests: list[tuple[str, dict[str, str], bytes]] = []

    def record(request: Any, event_name: str, **_: Any) -> None:
        body = request.body if isinstance(request.body, bytes) else b""
        headers = {
            name.lower(): value.decode() if isinstance(value, bytes) else value
            for name, value in request.headers.items()
        }
        requests.append((event_name.split(".")[-1], headers, body))

    s3_client.cache_clear()
    s3_client().meta.events.register("before-send.s3", record)
    yield requests
    s3_client.cache_clear()


def test_every_snapshot_write_carries_a_checksum(
    stack: LocalStack, sent: list[tuple[str, dict[str, str], bytes]]
) -> None:
    bucket = "locked-writes"
    create_locked_bucket(boto3.client("s3", endpoint_url=stack.moto_url), bucket)
    small = StreamingUpload(bucket, "snapshots/small.jsonl")
    small.write(b'{"userId": "u1"}\n')
    small.complete()
    large = StreamingUpload(bucket, "snapshots/large.jsonl")
    for _ in range(PART_BYTES // (1024 * 1024) + 1):
        large.write(b"x" * (1024 * 1024 - 1) + b"\n")
    large.complete()

    operations = [operation for operation, _, _ in sent]
    assert operations.count("PutObject") == 1
    assert operations.count("UploadPart") == 2
    for operation, headers, body in sent:
        if operation in {"PutObject", "UploadPart"}:
            assert any(name in headers for name in CHECKSUM_HEADERS), (operation, headers)
        if operation == "CreateMultipartUpload":
            assert headers["x-amz-checksum-algorithm"] == "CRC32"
        if operation == "CompleteMultipartUpload":
            assert body.count(b"<ChecksumCRC32>") == 2, body
    written = boto3.client("s3", endpoint_url=stack.moto_url).head_object(Bucket=bucket, Key="snapshots/large.jsonl")
    assert written["ContentLength"] == (PART_BYTES // (1024 * 1024) + 1) * 1024 * 1024
