"""The access-review snapshot: every FinSpace user, once, as JSON Lines in S3, then a
summary that marks the snapshot complete.

    snapshots/{YYYY}/{MM}/{DD}/{scheduledTime}/users.jsonl
    snapshots/{YYYY}/{MM}/{DD}/{scheduledTime}/summary.json   (written last)

Users are streamed to S3 while counters and a SHA-256 are kept, so memory stays flat
however large the directory. A sweep that fails writes nothing.

Each tick runs once: Powertools idempotency keys the sweep on scheduledTime alone, so a
duplicate or retried delivery of a finished tick returns the stored summary without
calling FinSpace, and a failed sweep leaves no record, so its retry starts afresh.
"""

import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import orjson
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from finspace_users.finspace import finspace_batch_client, list_users_page
from finspace_users.idempotency import idempotency_store
from finspace_users.observability import logger, metrics
from finspace_users.schedule_requests import SnapshotRequest, utc_timestamp
from finspace_users.sessions import role_session

PAGE_SIZE = 100
# Long enough to absorb every redelivery and retry of a tick (Scheduler retries for
# up to a day at most), short enough to keep the table small.
TICK_RECORD_SECONDS = 2 * 24 * 3600
# S3 parts are 5 MiB at least (but the last); 8 MiB keeps the part count low.
PART_BYTES = 8 * 1024 * 1024
USERS_CONTENT_TYPE = "application/x-ndjson"

Tick = dict[str, str]


def take_snapshot(request: SnapshotRequest, context: LambdaContext | None) -> dict[str, Any]:
    sweep_once, config = _idempotent_sweep()
    if context is not None:
        config.register_lambda_context(context)
    summary: dict[str, Any] = sweep_once(tick={"scheduledTime": request.tick})
    return summary


@cache
def _s3() -> Any:
    return role_session().client("s3")


def reset_snapshot_store() -> None:
    _idempotent_sweep.cache_clear()
    _s3.cache_clear()


@cache
def _idempotent_sweep() -> tuple[Callable[..., dict[str, Any]], Any]:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        event_key_jmespath="scheduledTime",
        expires_after_seconds=TICK_RECORD_SECONDS,
        response_hook=_log_replay,
    )

    @idempotent_function(data_keyword_argument="tick", config=config, persistence_store=idempotency_store())
    def sweep_once(tick: Tick) -> dict[str, Any]:
        return sweep(datetime.fromisoformat(tick["scheduledTime"]), tick["scheduledTime"])

    return sweep_once, config


def _log_replay(response: Any, idempotent_data: Any) -> Any:
    logger.info("Snapshot tick already taken; returning its stored summary")
    return response


def _as_lines(users: list[dict[str, Any]]) -> bytes:
    """Compact JSON, one user a line, in UTF-8. orjson takes about 0.06 ms a page of 100
    users where json took 0.5 ms, some 6% of the walk."""
    return b"".join(orjson.dumps(user, option=orjson.OPT_APPEND_NEWLINE) for user in users)


def snapshot_prefix(scheduled_time: datetime, tick: str) -> str:
    return f"snapshots/{scheduled_time:%Y/%m/%d}/{tick}/"


def sweep(scheduled_time: datetime, tick: str) -> dict[str, Any]:
    """Walk every page into users.jsonl, then write summary.json; returns the summary."""
    prefix = snapshot_prefix(scheduled_time, tick)
    dormant_days = int(os.environ.get("DORMANT_AFTER_DAYS", "90"))
    tally = _Tally(dormant_before_ms=int((scheduled_time - timedelta(days=dormant_days)).timestamp() * 1000))
    users_object = _StreamingUpload(os.environ["SNAPSHOT_BUCKET_NAME"], prefix + "users.jsonl")
    started_at, started = datetime.now(UTC), time.perf_counter()
    client = finspace_batch_client()
    try:
        next_token: str | None = None
        while True:
            page = list_users_page(PAGE_SIZE, next_token, client=client)
            lines = _as_lines(page["users"])
            tally.add_page(page["users"], lines)
            users_object.write(lines)
            next_token = page.get("nextToken")
            if not next_token:
                break
        users_object.complete()
    except BaseException:
        users_object.abort()
        raise

    # Keys sorted, as the idempotency store keeps them: a replayed tick's summary is then
    # byte for byte the one first returned and the one in summary.json.
    summary: dict[str, Any] = json.loads(json.dumps(tally.summary(tick, started_at, users_object.key), sort_keys=True))
    _s3().put_object(
        Bucket=users_object.bucket,
        Key=prefix + "summary.json",
        Body=json.dumps(summary, indent=2).encode(),
        ContentType="application/json",
    )
    duration_ms = (time.perf_counter() - started) * 1000
    tally.publish_metrics(duration_ms)
    logger.info("Snapshot taken", extra={"scheduledTime": tick, "userCount": tally.users, "pages": tally.pages})
    return summary


class _StreamingUpload:
    """users.jsonl, fed as the walk goes. Up to PART_BYTES it is one PutObject at the
    end. Beyond, it is a multipart upload: each full part goes up from a background
    thread while the walk goes on, one part at a time, so the object never sits whole
    in memory or on disk. Until complete() it is no object.

    Encoding stays on the walking thread: handing every page to another thread cost
    more, in GIL switches, than the encoding itself."""

    def __init__(self, bucket: str, key: str) -> None:
        self.bucket, self.key = bucket, key
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.buffer = bytearray()
        self._uploader = ThreadPoolExecutor(max_workers=1)  # starts no thread until a part is full
        self._part_in_flight: Future[None] | None = None

    def write(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= PART_BYTES:
            self._wait_for_part_in_flight()
            self._part_in_flight = self._uploader.submit(self._send_part, bytes(self.buffer))
            self.buffer.clear()

    def complete(self) -> None:
        self._wait_for_part_in_flight()
        self._uploader.shutdown()
        if self.upload_id is None:  # small enough for one request
            _s3().put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer), ContentType=USERS_CONTENT_TYPE)
            return
        if self.buffer:
            self._send_part(bytes(self.buffer))
        _s3().complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts}
        )

    def abort(self) -> None:
        # Lets a part in flight settle either way; the sweep's own error is the one raised.
        self._uploader.shutdown()
        if self.upload_id is not None:
            _s3().abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)

    def _wait_for_part_in_flight(self) -> None:
        if self._part_in_flight is not None:
            self._part_in_flight.result()
            self._part_in_flight = None

    def _send_part(self, body: bytes) -> None:
        if self.upload_id is None:
            started = _s3().create_multipart_upload(Bucket=self.bucket, Key=self.key, ContentType=USERS_CONTENT_TYPE)
            self.upload_id = started["UploadId"]
        number = len(self.parts) + 1
        sent = _s3().upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=body
        )
        self.parts.append({"PartNumber": number, "ETag": sent["ETag"]})


class _Tally:
    def __init__(self, dormant_before_ms: int) -> None:
        self.dormant_before_ms = dormant_before_ms
        self.users = self.pages = self.api_access_enabled = self.dormant = self.bytes = 0
        self.by_status: Counter[str] = Counter()
        self.by_type: Counter[str] = Counter()
        self.digest = hashlib.sha256()

    def add_page(self, users: list[dict[str, Any]], lines: bytes) -> None:
        self.pages += 1
        self.users += len(users)
        self.bytes += len(lines)
        self.digest.update(lines)
        for user in users:
            self.by_status[user.get("status", "UNKNOWN")] += 1
            self.by_type[user.get("type", "UNKNOWN")] += 1
            self.api_access_enabled += user.get("apiAccess") == "ENABLED"
            last_login = user.get("lastLoginTime")
            self.dormant += last_login is None or last_login < self.dormant_before_ms

    def summary(self, tick: str, started_at: datetime, users_key: str) -> dict[str, Any]:
        return {
            "scheduledTime": tick,
            "userCount": self.users,
            "byStatus": dict(sorted(self.by_status.items())),
            "byType": dict(sorted(self.by_type.items())),
            "apiAccessEnabled": self.api_access_enabled,
            "dormantUsers": self.dormant,
            "pages": self.pages,
            "startedAt": utc_timestamp(started_at),
            "finishedAt": utc_timestamp(datetime.now(UTC)),
            "usersObject": {"key": users_key, "sha256": self.digest.hexdigest(), "bytes": self.bytes},
        }

    def publish_metrics(self, duration_ms: float) -> None:
        for name, value in (
            ("UsersTotal", self.users),
            ("UsersEnabled", self.by_status["ENABLED"]),
            ("UsersDisabled", self.by_status["DISABLED"]),
            ("SuperUsers", self.by_type["SUPER_USER"]),
            ("ApiAccessEnabled", self.api_access_enabled),
            ("DormantUsers", self.dormant),
            ("SnapshotPages", self.pages),
        ):
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        metrics.add_metric(name="SnapshotDurationMs", unit=MetricUnit.Milliseconds, value=duration_ms)
