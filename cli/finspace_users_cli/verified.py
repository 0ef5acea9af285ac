"""The history the questions read: only snapshots that verify.

Each question names the objects it needs. `finspace-users verify`'s own walk checks
every summary's signature, every chain link and every version, and hashes the objects
the question needs as it streams them into a private temporary folder: each object is
downloaded once, and what the answer reads is the very bytes that were hashed. A
snapshot with any finding other than a gap is named and left out.
"""

import contextlib
import hashlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import rsa
from rich.console import Console
from rich.progress import DownloadColumn, Progress, SpinnerColumn, TextColumn, TransferSpeedColumn

from finspace_users_cli.sources import READ_CHUNK_BYTES, CannotRunError, Digest, History, Version
from finspace_users_cli.verify import Finding, ObjectFilter, Report, Snapshot, verify

# Findings about the cadence, not about a snapshot's own bytes, links or versions.
NOT_DISQUALIFYING = ("gap",)
USERS, CHANGES = "users.jsonl", "changes.jsonl"


class CachingHistory:
    """A History whose digest() also keeps the bytes it hashed, in `folder`."""

    def __init__(self, history: History, folder: Path, progress: Progress | None) -> None:
        self.history = history
        self.name = history.name
        self.signing_key_id = history.signing_key_id
        self.folder = folder
        self.progress = progress
        self.task = progress.add_task("verifying and reading snapshots", total=None) if progress else None

    def summary_keys(self) -> list[str]:
        return self.history.summary_keys()

    def read(self, key: str) -> bytes | None:
        body = self.history.read(key)
        self._advance(len(body or b""))
        return body

    def versions(self) -> list[Version] | None:
        return self.history.versions()

    def digest(self, key: str) -> Digest | None:
        digest, size = hashlib.sha256(), 0
        path = self.folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as kept:
            for chunk in self._chunks(key):
                if chunk is None:
                    path.unlink()
                    return None
                digest.update(chunk)
                kept.write(chunk)
                size += len(chunk)
                self._advance(len(chunk))
        return Digest(digest.hexdigest(), size)

    def _chunks(self, key: str) -> Iterator[bytes | None]:
        s3 = getattr(self.history, "s3", None)
        if s3 is None:  # an exported copy on disk
            source = getattr(self.history, "root", Path()) / key
            if not source.is_file():
                yield None
                return
            with source.open("rb") as stream:
                yield from iter(lambda: stream.read(READ_CHUNK_BYTES), b"")
            return
        try:
            body = s3.get_object(Bucket=self.history.bucket, Key=key)["Body"]  # type: ignore[attr-defined]
        except s3.exceptions.NoSuchKey:
            yield None
            return
        yield from body.iter_chunks(READ_CHUNK_BYTES)

    def _advance(self, size: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, size)


@dataclass
class Verified:
    """The snapshots that answered (oldest first), those left out and why, and a folder
    holding each object read, as hashed."""

    source: str
    report: Report
    answered: list[Snapshot]
    left_out: dict[str, list[Finding]]
    folder: Path
    cache: CachingHistory
    notes: list[str] = field(default_factory=list)

    def path(self, snapshot: Snapshot, name: str) -> Path | None:
        described = described_object(snapshot, name)
        if not isinstance(described, dict):
            return None
        path = self.folder / str(described.get("key"))
        return path if path.is_file() else None

    def ensure(self, snapshot: Snapshot, name: str) -> Path | None:
        """The object, read and hashed now if the walk did not read it; None when the
        snapshot has none (a first snapshot's changes.jsonl)."""
        path = self.path(snapshot, name)
        described = described_object(snapshot, name)
        if path is not None or not isinstance(described, dict):
            return path
        digest = self.cache.digest(str(described.get("key")))
        if digest is None or (digest.sha256, digest.size) != (described.get("sha256"), described.get("bytes")):
            raise CannotRunError(f"snapshot {snapshot.tick} does not verify: its {name} differs from its summary")
        return self.path(snapshot, name)

    def lines(self, snapshot: Snapshot, name: str) -> Iterator[dict[str, Any]]:
        path = self.ensure(snapshot, name)
        if path is None:
            return
        with path.open("rb") as stream:
            for line in stream:
                if line.strip():
                    yield orjson.loads(line)

    def stood_at(self, moment: datetime) -> Snapshot:
        """The latest snapshot that answered at or before `moment`."""
        standing = [snapshot for snapshot in self.answered if tick_time(snapshot.tick) <= moment]
        if not standing:
            first = f"; the first verified one is {self.answered[0].tick}" if self.answered else ""
            raise CannotRunError(f"no verified snapshot stood at {utc(moment)}{first}")
        return standing[-1]

    def provenance(self, answered: list[Snapshot]) -> dict[str, Any]:
        return {
            "source": self.source,
            "answeredBy": [{"scheduledTime": s.tick, "summarySha256": s.sha256, "verified": True} for s in answered],
            "leftOut": [
                {"scheduledTime": tick, "findings": [f"{finding.kind}: {finding.detail}" for finding in found]}
                for tick, found in sorted(self.left_out.items())
            ],
            "notes": self.notes,
        }

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def described_object(snapshot: Snapshot, name: str) -> Any:
    return snapshot.summary.get("usersObject") if name == USERS else changes_block(snapshot).get("changesObject")


def changes_block(snapshot: Snapshot) -> dict[str, Any]:
    block = snapshot.summary.get("changes")
    return block if isinstance(block, dict) else {}


def verified_history(
    history: History, public_key: rsa.RSAPublicKey, objects: ObjectFilter, now: datetime | None = None
) -> Verified:
    """Verify the history, reading the objects that `objects` selects into a new
    temporary folder (the caller closes it)."""
    folder = Path(tempfile.mkdtemp(prefix="finspace-users-"))
    console = Console(stderr=True)
    # A bar only where someone watches: a terminal on stderr.
    progress = (
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
            transient=True,
        )
        if console.is_terminal
        else None
    )
    cache = CachingHistory(history, folder, progress)
    try:
        with progress or contextlib.nullcontext():
            report = verify(cache, public_key, timedelta(days=36500), now or now_utc(), objects)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    left_out: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.kind not in NOT_DISQUALIFYING:
            left_out.setdefault(finding.tick, []).append(finding)
    answered = [snapshot for snapshot in report.summaries if snapshot.tick not in left_out]
    # verify() names a summary it could not parse by its key's tick; those are left out above.
    notes = [note for note in report.notes if not note.startswith("versions not checked")]
    if not report.versions_checked:
        notes.append("versions not checked: an exported copy has none")
    cache.progress = None  # the bar is gone: later reads go unshown
    return Verified(history.name, report, answered, left_out, folder, cache, notes)


def now_utc() -> datetime:
    return datetime.now(UTC)


def tick_time(tick: str) -> datetime:
    return datetime.fromisoformat(tick)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parsed_moment(text: str) -> datetime:
    """A date (the end of that UTC day) or a date-time (UTC unless it names an offset)."""
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC) + timedelta(days=1, microseconds=-1)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CannotRunError(f"{text!r} is not a date: use 2026-06-30 or 2026-06-30T02:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def warn(message: str) -> None:
    print(message, file=sys.stderr)
