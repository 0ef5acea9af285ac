"""`finspace-users verify`: every snapshot's signature, every object's SHA-256 and size,
every chain link, no second version, and a newest snapshot no older than --max-age.

The walk goes oldest first and streams each object through SHA-256, keeping none of
it in memory. A snapshot run late (an older tick taken after a newer one) makes a
branch: both it and the newer one name the same predecessor. That is legitimate, and
reported as a note, when the newer one had finished before the late one started.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from finspace_users.access_review.evidence import PREVIOUS_FIELD, SIGNATURE_FIELD, signature_bytes, signed_message
from finspace_users_cli.sources import History, Version, summary_tick

KINDS = ("bad signature", "hash mismatch", "missing object", "broken link", "extra version", "gap", "unsigned")


@dataclass(frozen=True)
class Finding:
    tick: str
    kind: str
    detail: str


@dataclass
class Snapshot:
    tick: str
    key: str
    sha256: str
    summary: dict[str, Any]


@dataclass
class Report:
    source: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    snapshots: int = 0
    objects: int = 0
    bytes: int = 0
    versions_checked: bool = False
    # Every summary that could be read, oldest first, findings or not (not in the JSON).
    summaries: list[Snapshot] = field(default_factory=list, repr=False)

    def add(self, tick: str, kind: str, detail: str) -> None:
        self.findings.append(Finding(tick, kind, detail))

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "snapshots": self.snapshots,
            "objects": self.objects,
            "bytes": self.bytes,
            "versionsChecked": self.versions_checked,
            "findings": [finding.__dict__ for finding in self.findings],
            "notes": self.notes,
        }


# Which of a snapshot's objects to read and hash: (tick, "users.jsonl") -> bool.
ObjectFilter = Callable[[str, str], bool]


def verify(
    history: History,
    public_key: rsa.RSAPublicKey,
    max_age: timedelta,
    now: datetime,
    objects: ObjectFilter | None = None,
) -> Report:
    """The whole check. With `objects`, only the objects it selects are read and hashed
    (the questions read no more than they use); every summary, link and version still is."""
    report = Report(history.name)
    snapshots = []
    for key in sorted(history.summary_keys(), key=lambda key: summary_tick(key) or ""):
        snapshot = _checked_summary(history, key, public_key, report, objects)
        if snapshot is not None:
            snapshots.append(snapshot)
    by_key = {snapshot.key: snapshot for snapshot in snapshots}
    for index, snapshot in enumerate(snapshots):
        _check_link(snapshot, snapshots[:index], by_key, report)
    _check_cadence(snapshots, max_age, now, report)
    _check_versions(history, by_key, report)
    report.snapshots = len(snapshots)
    report.summaries = snapshots
    return report


def _checked_summary(
    history: History, key: str, public_key: rsa.RSAPublicKey, report: Report, objects: ObjectFilter | None = None
) -> Snapshot | None:
    tick = summary_tick(key) or key
    body = history.read(key)
    if body is None:
        report.add(tick, "missing object", f"{key} vanished while being verified")
        return None
    report.objects, report.bytes = report.objects + 1, report.bytes + len(body)
    try:
        summary = json.loads(body)
        assert isinstance(summary, dict)
    except (ValueError, AssertionError):
        report.add(tick, "hash mismatch", "summary.json is not a JSON object")
        return None
    snapshot = Snapshot(tick, key, hashlib.sha256(body).hexdigest(), summary)
    if summary.get("scheduledTime") != tick:
        report.add(tick, "broken link", f"summary.json is the summary of {summary.get('scheduledTime')}, not this tick")
    signature = signature_bytes(summary)
    if SIGNATURE_FIELD not in summary:
        report.add(tick, "unsigned", "summary.json carries no signature")
    elif signature is None or not _valid(public_key, signature, signed_message(summary)):
        report.add(tick, "bad signature", "the signature does not verify with the public key")
    prefix = key.rsplit("/", 1)[0] + "/"
    changes = summary.get("changes")
    described = [summary.get("usersObject"), changes.get("changesObject") if isinstance(changes, dict) else None]
    for described_object in [d for d in described if d is not None]:
        name = str(described_object.get("key", "")).rsplit("/", 1)[-1] if isinstance(described_object, dict) else ""
        if objects is not None and not objects(tick, name):
            continue
        _check_object(history, tick, prefix, described_object, report)
    return snapshot


def _valid(public_key: rsa.RSAPublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _check_object(history: History, tick: str, prefix: str, described: Any, report: Report) -> None:
    if not isinstance(described, dict) or not str(described.get("key", "")).startswith(prefix):
        report.add(tick, "broken link", f"an object named outside {prefix}: {described!r:.80}")
        return
    key = described["key"]
    digest = history.digest(key)
    if digest is None:
        report.add(tick, "missing object", f"{key.rsplit('/', 1)[1]} is missing")
        return
    report.objects, report.bytes = report.objects + 1, report.bytes + digest.size
    if (digest.sha256, digest.size) != (described.get("sha256"), described.get("bytes")):
        report.add(tick, "hash mismatch", f"{key.rsplit('/', 1)[1]} differs from its summary's sha256 and bytes")


def _check_link(snapshot: Snapshot, earlier: list[Snapshot], by_key: dict[str, Snapshot], report: Report) -> None:
    link = snapshot.summary.get(PREVIOUS_FIELD)
    started = str(snapshot.summary.get("startedAt", ""))
    known_then = [older for older in earlier if str(older.summary.get("finishedAt", "")) < started]
    if link is None:
        if known_then:
            report.add(snapshot.tick, "broken link", f"names no predecessor, though {known_then[-1].tick} existed")
        return
    predecessor = by_key.get(str(link.get("key"))) if isinstance(link, dict) else None
    if predecessor is None:
        missing = summary_tick(str(link.get("key"))) if isinstance(link, dict) else None
        report.add(snapshot.tick, "missing object", f"its predecessor {missing or repr(link)} is missing")
        return
    if predecessor.sha256 != link.get("sha256"):
        report.add(snapshot.tick, "broken link", f"its predecessor {predecessor.tick} is not the summary it signed")
    skipped = [older for older in known_then if older.tick > predecessor.tick]
    if skipped:
        report.add(snapshot.tick, "broken link", f"skips {skipped[-1].tick}, which had finished before it started")
    elif earlier and earlier[-1] is not predecessor:
        report.notes.append(f"branch: {earlier[-1].tick} was taken late; {snapshot.tick} follows {predecessor.tick}")


def _check_cadence(snapshots: list[Snapshot], max_age: timedelta, now: datetime, report: Report) -> None:
    times = [(snapshot.tick, datetime.fromisoformat(snapshot.tick)) for snapshot in snapshots]
    for (_, before), (tick, after) in pairwise(times):
        if after - before > max_age:
            report.add(tick, "gap", f"{after - before} after the previous snapshot (--max-age {max_age})")
    if not times:
        report.add("-", "gap", "no snapshot at all")
    elif now - times[-1][1] > max_age:
        report.add(times[-1][0], "gap", f"the newest snapshot is {now - times[-1][1]} old (--max-age {max_age})")


def _check_versions(history: History, snapshots: dict[str, Snapshot], report: Report) -> None:
    """Snapshot objects are written once: a key with a second version, or a delete
    marker, is a finding. A sweep completes its objects only once its summary is signed,
    so only a sweep that fails in its last writes leaves a version behind; its log says so."""
    versions = history.versions()
    if versions is None:
        report.notes.append("versions not checked: an exported copy has none")
        return
    report.versions_checked = True
    by_key: dict[str, list[Version]] = {}
    for version in versions:
        by_key.setdefault(version.key, []).append(version)
    for key, found in sorted(by_key.items()):
        tick = key.split("/")[4] if key.count("/") == 5 else key
        markers = sum(version.delete_marker for version in found)
        if len(found) > 1 or markers:
            name = key.rsplit("/", 1)[1]
            report.add(
                tick, "extra version", f"{name} has {len(found) - markers} versions and {markers} delete markers"
            )
    summaries = {key.rsplit("/", 1)[0] for key in by_key if summary_tick(key)}
    for prefix in sorted({key.rsplit("/", 1)[0] for key in by_key} - summaries):
        report.notes.append(f"{prefix}/: objects without a summary.json, an attempt that never completed")
    report.notes += [f"{summary_tick(key)}: no versions listed" for key in snapshots if key not in by_key]
