"""finspace-users: verify and read the access-review history, in AWS or locally.

Every question reads only snapshots that verify, says which answered, and names any
left out. Exit status: 0 when all is well, 1 on a finding (a snapshot left out), 2 when
it cannot run (a bad date, an unknown user, no snapshot at that time, no access).
"""

import argparse
import csv
import json
import os
import re
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from finspace_users_cli.sources import CannotRunError, History, history_from
from finspace_users_cli.verify import verify

DURATION = re.compile(r"^(\d+(?:\.\d+)?)([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def duration(text: str) -> timedelta:
    match = DURATION.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 26h, 90m or 2d")
    return timedelta(**{UNITS[match[2]]: float(match[1])})


def parser() -> argparse.ArgumentParser:
    where = argparse.ArgumentParser(add_help=False)
    source = where.add_mutually_exclusive_group()
    source.add_argument("--bucket", help="the snapshot bucket (default: the local stack of `make run`)")
    source.add_argument("--stack", help="a deployed stack; its outputs name the bucket and the signing key")
    source.add_argument("--dir", type=Path, help="an exported copy: a folder holding snapshots/")
    form = where.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="one JSON document instead of tables")
    form.add_argument("--csv", action="store_true", help="one CSV table on stdout; which snapshots answered on stderr")
    trust = argparse.ArgumentParser(add_help=False)
    trust.add_argument("--public-key", type=Path, help="PEM from `finspace-users public-key`: no KMS access needed")
    trust.add_argument("--key-id", help="the signing key's id or ARN (default: from --stack or the local stack)")
    tool = argparse.ArgumentParser(prog="finspace-users", description=__doc__.split("\n\n")[0])
    commands = tool.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "verify", parents=[where, trust], help="check signatures, hashes, links, versions, age (or an evidence pack)"
    )
    check.add_argument(
        "--max-age", type=duration, default=timedelta(hours=26), help="the newest snapshot's age limit (default 26h)"
    )
    check.add_argument("--pack", type=Path, help="an evidence pack from `export`: verified offline, with its own key")
    key = commands.add_parser("public-key", parents=[where], help="print the signing key's public key (PEM)")
    key.add_argument("--key-id", help="the signing key's id or ARN (default: from --stack or the local stack)")
    at_help = "a date (the end of that UTC day, 2026-06-30) or a time (2026-06-30T02:00:00Z); default: now"
    summary = commands.add_parser(
        "summary", parents=[where, trust], help="the snapshot that stood at a time: counts, dormant users, chain"
    )
    summary.add_argument("--at", help=at_help)
    changes = commands.add_parser(
        "changes", parents=[where, trust], help="every change between two times, merged, the counts first"
    )
    changes.add_argument("--since", help="changes reported after this time (default: the whole retained history)")
    changes.add_argument("--until", help="changes reported up to this time (default: now)")
    who = commands.add_parser("who", parents=[where, trust], help="the users of the snapshot that stood at a time")
    who.add_argument("--at", help=at_help)
    who.add_argument("--type", choices=("SUPER_USER", "APP_USER"), help="only users of this type")
    who.add_argument("--status", choices=("ENABLED", "DISABLED", "CREATING"), help="only users with this status")
    who.add_argument("--api-access", choices=("ENABLED", "DISABLED"), help="only users with this API access")
    who.add_argument(
        "--dormant", action="store_true", help="only dormant users: no login for DORMANT_AFTER_DAYS (90) days"
    )
    user = commands.add_parser(
        "history", parents=[where, trust], help="every change to one user, oldest first, with the snapshot that saw it"
    )
    user.add_argument("user_id", metavar="USER_ID", help="the FinSpace userId")
    query = commands.add_parser(
        "query", parents=[where, trust], help="DuckDB SQL over the views users, changes and summaries"
    )
    query.add_argument("sql", metavar="SQL", help="for example: SELECT scheduledTime, count(*) FROM users GROUP BY 1")
    export = commands.add_parser(
        "export", parents=[where, trust], help="an evidence pack for an auditor, with report.html"
    )
    export.add_argument("--at", help=at_help)
    export.add_argument("--out", type=Path, required=True, help="a new or empty folder for the pack")
    return tool


def public_key_pem(history: History, key_id: str | None) -> bytes:
    key_id = key_id or history.signing_key_id
    if not key_id:
        raise CannotRunError("name the signing key: --key-id, --stack, or --public-key FILE")
    try:
        der = boto3.client("kms").get_public_key(KeyId=key_id)["PublicKey"]
    except (ClientError, BotoCoreError) as error:
        raise CannotRunError(f"cannot read the public key of {key_id}: {error}") from None
    return serialization.load_der_public_key(der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def loaded_public_key(pem: bytes) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise CannotRunError("the public key is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise CannotRunError("the public key is not an RSA key")
    return key


def trusted_key(args: argparse.Namespace, history: History) -> rsa.RSAPublicKey:
    if args.public_key is not None:
        try:
            pem = args.public_key.read_bytes()
        except OSError as error:
            raise CannotRunError(f"cannot read {args.public_key}: {error.strerror}") from None
    else:
        pem = public_key_pem(history, args.key_id)
    return loaded_public_key(pem)


def run(args: argparse.Namespace) -> int:
    if args.command == "verify" and args.pack is not None:
        from finspace_users_cli.export import verify_pack

        expected = None
        if args.public_key is not None:
            try:
                expected = args.public_key.read_bytes()
            except OSError as error:
                raise CannotRunError(f"cannot read {args.public_key}: {error.strerror}") from None
            loaded_public_key(expected)
        return verify_pack(args.pack, args.json, args.csv, expected)
    history = history_from(args.bucket, args.stack, args.dir)
    if args.command == "public-key":
        pem = public_key_pem(history, args.key_id)
        if args.csv:
            print(f"publicKey\n{json.dumps(pem.decode())}")
        else:
            print(json.dumps({"publicKey": pem.decode()}) if args.json else pem.decode(), end="\n" if args.json else "")
        return 0
    public_key = trusted_key(args, history)
    if args.command != "verify":
        from finspace_users_cli.answers import answer

        return answer(args, history, public_key)
    report = verify(history, public_key, args.max_age, datetime.now(UTC))
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    elif args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["tick", "kind", "detail"])
        writer.writerows([[finding.tick, finding.kind, finding.detail] for finding in report.findings])
        print(summary_line(report.as_json()), file=sys.stderr)
    else:
        for finding in report.findings:
            print(f"{finding.tick}  {finding.kind}: {finding.detail}")
        for note in report.notes:
            print(f"note: {note}")
        print(summary_line(report.as_json()))
    return 1 if report.findings else 0


def _interrupted(signum: int, frame: object) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def summary_line(checked: dict[str, Any]) -> str:
    versions = "versions checked" if checked["versionsChecked"] else "versions not checked"
    return (
        f"verify {checked['source']}: {checked['snapshots']} snapshots, {checked['objects']} objects, "
        f"{checked['bytes'] / 1e6:.1f} MB, signatures, hashes, links and age checked, {versions}: "
        f"{len(checked['findings'])} findings"
    )


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _interrupted)
    args = parser().parse_args(argv)
    try:
        status = run(args)
    except CannotRunError as error:
        print(f"finspace-users {args.command}: {error}", file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print(f"finspace-users {args.command}: interrupted", file=sys.stderr, flush=True)
        # Under make, make was interrupted too and exits by the signal: a status of ours
        # would only add its `*** Error 130` line.
        status = 0 if "MAKELEVEL" in os.environ else 130
    sys.exit(status)


if __name__ == "__main__":
    main()
