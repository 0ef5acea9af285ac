"""`finspace-users export --at DATE --out DIR`, the evidence pack, and `verify --pack DIR`,
which checks one offline with the pack's own public key:

    population.csv        the users of the snapshot that stood at DATE
    snapshots/...         that snapshot's users.jsonl, changes.jsonl and summary.json,
                          and the summary.json of each later snapshot: the chain to the newest
    signing-key.pem       the public key every summary verifies with
    report.html           counts, privileged users, charts over the retained history
    manifest.json         each file's SHA-256 and size, and the command and parameters that made it
"""

import csv
import hashlib
import io
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from finspace_users.access_review.dormancy import dormant_after_days
from finspace_users_cli.output import Answer, Rows
from finspace_users_cli.questions import USER_COLUMNS, user_row
from finspace_users_cli.report import population_counts, report_html
from finspace_users_cli.sources import CannotRunError, DirectoryHistory, History
from finspace_users_cli.verified import USERS, Verified, now_utc, tick_time, utc
from finspace_users_cli.verify import verify

MANIFEST = "manifest.json"
POPULATION = "population.csv"
KEY_FILE = "signing-key.pem"
REPORT = "report.html"


def population_csv(users: list[dict[str, Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(USER_COLUMNS)
    writer.writerows([["" if value is None else value for value in user_row(user)] for user in users])
    return text.getvalue().encode()


def _users_of(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def export(verified: Verified, history: History, public_key: rsa.RSAPublicKey, moment: datetime, args: Any) -> Answer:
    out: Path = args.out
    if out.exists() and any(out.iterdir()):
        raise CannotRunError(f"{out} is not empty: name a new folder for the pack")
    snapshot = verified.stood_at(moment)
    chain = [later for later in verified.answered if later.tick >= snapshot.tick]
    files: list[dict[str, Any]] = []
    source = verified.source

    def write(path: str, body: bytes, produced_by: dict[str, Any]) -> None:
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        files.append({"path": path, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body), **produced_by})

    out.mkdir(parents=True, exist_ok=True)
    users_body = b""
    for name in ("users.jsonl", "changes.jsonl"):
        path = verified.ensure(snapshot, name)
        if path is not None:
            body = path.read_bytes()
            users_body = body if name == USERS else users_body
            key = path.relative_to(verified.folder).as_posix()
            write(key, body, {"producedBy": {"copiedFrom": f"{source}/{key}", "verified": "sha256 and bytes"}})
    for later in chain:
        summary_body = history.read(later.key)
        if summary_body is None or hashlib.sha256(summary_body).hexdigest() != later.sha256:
            raise CannotRunError(f"{later.key} changed while being exported")
        write(
            later.key,
            summary_body,
            {"producedBy": {"copiedFrom": f"{source}/{later.key}", "verified": "signature, link"}},
        )
    users = _users_of(users_body)
    days = dormant_after_days()
    sql = f"SELECT * FROM users WHERE scheduledTime = '{snapshot.tick[:19]}'"  # noqa: S608 - a description
    write(
        POPULATION,
        population_csv(users),
        {
            "producedBy": {
                "command": f"finspace-users who --at {snapshot.tick} --csv",
                "query": "users.jsonl of that snapshot, one row a user in its order, times as UTC: " + sql,
                "parameters": {"at": utc(moment), "scheduledTime": snapshot.tick},
            }
        },
    )
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    write(KEY_FILE, pem, {"producedBy": {"command": "finspace-users public-key", "keyId": history.signing_key_id}})
    summaries = [(answered.tick, answered.summary) for answered in verified.answered]
    html = report_html(source, snapshot.tick, users, summaries, days, sorted(verified.left_out))
    write(
        REPORT,
        html.encode(),
        {
            "producedBy": {
                "command": f"finspace-users export --at {utc(moment)}",
                "parameters": {"scheduledTime": snapshot.tick, "dormantAfterDays": days},
                "from": f"population.csv, and the summaries of {len(summaries)} verified snapshots",
            }
        },
    )
    manifest = {
        "tool": "finspace-users export",
        "exportedAt": utc(now_utc()),
        "source": source,
        "at": utc(moment),
        "scheduledTime": snapshot.tick,
        "chain": [later.tick for later in chain],
        "dormantAfterDays": days,
        "leftOut": verified.provenance([])["leftOut"],
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    counts = population_counts(users, snapshot.tick, days)
    return Answer(
        lines=[
            f"Evidence pack of snapshot [bold]{snapshot.tick}[/bold] in {out}: {len(files) + 1} files, "
            f"the chain of {len(chain)} summaries to {chain[-1].tick}. Check it with "
            f"`finspace-users verify --pack {out}`."
        ],
        tables=[Rows("Files", ["path", "bytes", "sha256"], [[f["path"], f["bytes"], f["sha256"]] for f in files])],
        document={"out": str(out), "manifest": manifest, "counts": counts},
        provenance=verified.provenance(chain),
    )


def verify_pack(pack: Path, as_json: bool, as_csv: bool, expected_key: bytes | None = None) -> int:
    """The pack, offline: every file as its manifest says, the population as its
    users.jsonl gives it, every summary's signature with the pack's key, and the chain.
    With `expected_key` (the firm's PEM), the pack's own key must be that key."""
    try:
        manifest = json.loads((pack / MANIFEST).read_text())
        listed = {entry["path"]: entry for entry in manifest["files"]}
        tick, chain = manifest["scheduledTime"], manifest["chain"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CannotRunError(f"{pack} holds no readable {MANIFEST}: not an evidence pack") from None
    findings: list[tuple[str, str, str]] = []
    present = {p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file()} - {MANIFEST}
    for path in sorted(present - set(listed)):
        findings.append(("-", "extra file", f"{path} is not in the manifest"))
    for path, entry in sorted(listed.items()):
        file = pack / path
        if not file.is_file():
            findings.append(("-", "missing object", f"{path} is missing"))
            continue
        body = file.read_bytes()
        if (hashlib.sha256(body).hexdigest(), len(body)) != (entry.get("sha256"), entry.get("bytes")):
            findings.append(("-", "hash mismatch", f"{path} differs from the manifest"))
    try:
        key = serialization.load_pem_public_key((pack / KEY_FILE).read_bytes())
    except (OSError, ValueError):
        raise CannotRunError(f"{pack}/{KEY_FILE} is not a public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise CannotRunError(f"{pack}/{KEY_FILE} is not an RSA key")
    if expected_key is not None and _der(serialization.load_pem_public_key(expected_key)) != _der(key):
        findings.append(("-", "bad signature", f"{KEY_FILE} is not the public key given with --public-key"))
    report = verify(DirectoryHistory(pack), key, timedelta(days=36500), tick_time(chain[-1]), lambda t, _: t == tick)
    for finding in report.findings:
        # The exported snapshot's own predecessor is, by design, not in the pack.
        if finding.tick == tick and finding.kind == "missing object" and finding.detail.startswith("its predecessor"):
            continue
        findings.append((finding.tick, finding.kind, finding.detail))
    if [snapshot.tick for snapshot in report.summaries] != chain:
        findings.append((tick, "broken link", f"the pack's summaries are not the chain {chain[0]} to {chain[-1]}"))
    users_key = next((path for path in listed if path.endswith("/" + USERS)), None)
    there = users_key is not None and (pack / users_key).is_file() and (pack / POPULATION).is_file()
    if there and population_csv(_users_of((pack / str(users_key)).read_bytes())) != (pack / POPULATION).read_bytes():
        findings.append((tick, "hash mismatch", f"{POPULATION} is not the population of {users_key}"))
    checked = {
        "pack": str(pack),
        "scheduledTime": tick,
        "chain": chain,
        "files": len(listed) + 1,
        "findings": [{"tick": t, "kind": k, "detail": d} for t, k, d in findings],
    }
    if as_json:
        print(json.dumps(checked, indent=2))
    else:
        if as_csv:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(["tick", "kind", "detail"])
            writer.writerows(findings)
        else:
            for found_tick, kind, detail in findings:
                print(f"{found_tick}  {kind}: {detail}")
        closing = (
            f"verify --pack {pack}: snapshot {tick}, {len(listed) + 1} files, the chain of {len(chain)} summaries "
            f"to {chain[-1]}, signatures, hashes, links and population checked against {KEY_FILE}: "
            f"{len(findings)} findings"
        )
        print(closing, file=sys.stderr if as_csv else sys.stdout)
    return 1 if findings else 0


def _der(key: Any) -> bytes:
    der: bytes = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return der
