"""finspace-users: verify and read the access-review history, in AWS or locally.

Exit status: 0 when all is well, 1 on a finding, 2 when it cannot run.
"""

import argparse
import json
import re
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
    where.add_argument("--json", action="store_true", help="one JSON document instead of text")
    tool = argparse.ArgumentParser(prog="finspace-users", description=__doc__.split("\n\n")[0])
    commands = tool.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", parents=[where], help="check signatures, hashes, links, versions, age")
    check.add_argument("--public-key", type=Path, help="PEM from `finspace-users public-key`: no KMS access needed")
    check.add_argument("--key-id", help="the signing key's id or ARN (default: from --stack or the local stack)")
    check.add_argument(
        "--max-age", type=duration, default=timedelta(hours=26), help="the newest snapshot's age limit (default 26h)"
    )
    key = commands.add_parser("public-key", parents=[where], help="print the signing key's public key (PEM)")
    key.add_argument("--key-id", help="the signing key's id or ARN (default: from --stack or the local stack)")
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


def run(args: argparse.Namespace) -> int:
    history = history_from(args.bucket, args.stack, args.dir)
    if args.command == "public-key":
        pem = public_key_pem(history, args.key_id)
        print(json.dumps({"publicKey": pem.decode()}) if args.json else pem.decode(), end="" if not args.json else "\n")
        return 0
    if args.public_key is not None:
        try:
            pem = args.public_key.read_bytes()
        except OSError as error:
            raise CannotRunError(f"cannot read {args.public_key}: {error.strerror}") from None
    else:
        pem = public_key_pem(history, args.key_id)
    report = verify(history, loaded_public_key(pem), args.max_age, datetime.now(UTC))
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        for finding in report.findings:
            print(f"{finding.tick}  {finding.kind}: {finding.detail}")
        for note in report.notes:
            print(f"note: {note}")
        print(summary_line(report.as_json()))
    return 1 if report.findings else 0


def summary_line(checked: dict[str, Any]) -> str:
    versions = "versions checked" if checked["versionsChecked"] else "versions not checked"
    return (
        f"verify {checked['source']}: {checked['snapshots']} snapshots, {checked['objects']} objects, "
        f"{checked['bytes'] / 1e6:.1f} MB, signatures, hashes, links and age checked, {versions}: "
        f"{len(checked['findings'])} findings"
    )


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        status = run(args)
    except CannotRunError as error:
        print(f"finspace-users {args.command}: {error}", file=sys.stderr)
        status = 2
    except KeyboardInterrupt:
        print(f"finspace-users {args.command}: interrupted", file=sys.stderr)
        status = 130
    sys.exit(status)


if __name__ == "__main__":
    main()
