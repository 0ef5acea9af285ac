"""Snapshot objects in S3: the client, uploads that stream, and reading a summary."""

import contextlib
import hashlib
import json
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import Any

from finspace_users.aws.sessions import role_session

# S3 parts are 5 MiB at least (but the last); 8 MiB keeps the part count low.
PART_BYTES = 8 * 1024 * 1024
JSON_LINES = "application/x-ndjson"
# A summary is about 1 KiB. One far larger is not ours, and is not read into memory.
SUMMARY_MAX_BYTES = 1024 * 1024
# S3 requires an integrity checksum on every write to an Object Lock bucket. botocore
# sends CRC32 with PutObject and UploadPart by default; a multipart upload must declare
# it when created, and name each part's checksum when completed.
CHECKSUM_ALGORITHM = "CRC32"


@cache
def s3_client() -> Any:
    return role_session().client("s3")


@cache
def kms_client() -> Any:
    return role_session().client("kms")


def stored_summary(bucket: str, key: str) -> dict[str, Any] | None:
    """The summary.json at `key`, parsed, or None when there is none."""
    stored = stored_summary_and_body(bucket, key)
    return stored[0] if stored is not None else None


def stored_summary_and_body(bucket: str, key: str) -> tuple[dict[str, Any], bytes] | None:
    """The summary.json at `key`, parsed and as stored, or None when there is none. Raises
    ValueError for one that is too large or not a JSON object, and ClientError when S3
    refuses.

    Listed before it is fetched: the role may list only under snapshots/ (s3:prefix), and
    S3 answers a GET of a missing key with 403, not 404, to a caller it does not let list."""
    listed = s3_client().list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("Contents", [])
    if not listed or listed[0]["Key"] != key:
        return None
    answer = s3_client().get_object(Bucket=bucket, Key=key)
    with contextlib.closing(answer["Body"]) as stream:
        if answer["ContentLength"] > SUMMARY_MAX_BYTES:
            raise ValueError(f"summary.json is larger than {SUMMARY_MAX_BYTES} bytes")
        body: bytes = stream.read()
    summary = json.loads(body)
    if not isinstance(summary, dict):
        raise ValueError("summary.json is not a JSON object")
    return summary, body


class StreamingUpload:
    """A JSON Lines object (users.jsonl, changes.jsonl), fed as the walk goes, with its
    SHA-256 and size kept on the way. Up to PART_BYTES it is one PutObject at the
    end. Beyond, it is a multipart upload: each full part goes up from a background
    thread while the walk goes on, one part at a time, so the object never sits whole
    in memory or on disk. Until complete() it is no object.

    Encoding stays on the walking thread: handing every page to another thread cost
    more, in GIL switches, than the encoding itself."""

    def __init__(self, bucket: str, key: str) -> None:
        self.bucket, self.key = bucket, key
        self.digest, self.size = hashlib.sha256(), 0
        self.upload_id: str | None = None
        self.completed = False
        self.parts: list[dict[str, Any]] = []
        self.buffer = bytearray()
        self._uploader = ThreadPoolExecutor(max_workers=1)  # starts no thread until a part is full
        self._part_in_flight: Future[None] | None = None

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.buffer += data
        if len(self.buffer) >= PART_BYTES:
            self._wait_for_part_in_flight()
            self._part_in_flight = self._uploader.submit(self._send_part, bytes(self.buffer))
            self.buffer.clear()

    def complete(self) -> None:
        self._wait_for_part_in_flight()
        self._uploader.shutdown()
        if self.upload_id is None:  # small enough for one request
            s3_client().put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer), ContentType=JSON_LINES)
        else:
            if self.buffer:
                self._send_part(bytes(self.buffer))
            s3_client().complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )
        self.completed = True

    def described(self) -> dict[str, Any]:
        """How a summary names the object, so that a reader can check what it reads."""
        return {"key": self.key, "sha256": self.digest.hexdigest(), "bytes": self.size}

    def discard(self) -> None:
        """Takes back what this upload wrote, for a sweep that failed: a multipart upload
        under way is aborted, a completed object deleted. Deleting by key, not by version,
        works under Object Lock too: the object disappears behind a delete marker."""
        # Lets a part in flight settle either way; the sweep's own error is the one raised.
        self._uploader.shutdown()
        if self.completed:
            s3_client().delete_object(Bucket=self.bucket, Key=self.key)
        elif self.upload_id is not None:
            s3_client().abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)

    def _wait_for_part_in_flight(self) -> None:
        if self._part_in_flight is not None:
            self._part_in_flight.result()
            self._part_in_flight = None

    def _send_part(self, body: bytes) -> None:
        if self.upload_id is None:
            started = s3_client().create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=JSON_LINES, ChecksumAlgorithm=CHECKSUM_ALGORITHM
            )
            self.upload_id = started["UploadId"]
        number = len(self.parts) + 1
        sent = s3_client().upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm=CHECKSUM_ALGORITHM,
        )
        self.parts.append({"PartNumber": number, "ETag": sent["ETag"], "ChecksumCRC32": sent["ChecksumCRC32"]})
