"""The record of the running `make run` stack: where it listens, its table, bucket and
signing key, and its process.

`make run` records its endpoints in build/local-stack.json (FINSPACE_USERS_LOCAL_STACK
names another file) for as long as it runs, and every local command finds the stack
there, whatever ports it uses: make snapshot, make changes, make invoke --running,
finspace-users, and the README's emulator calls, through `python -m localdev.running`.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdev.harness.defaults import DEFAULT_RECORD, PROCESS_ENVIRONMENT, PROJECT_ROOT, RECORD_VARIABLE

FIELDS = ("apiUrl", "finspaceUrl", "motoUrl", "region", "bucket", "table", "signingKeyId", "pid")


def record_path() -> Path:
    """The record's file: FINSPACE_USERS_LOCAL_STACK, else build/local-stack.json."""
    named = os.environ.get(RECORD_VARIABLE)
    return Path(named) if named else DEFAULT_RECORD


def shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


class NoRunningStackError(Exception):
    """No `make run` stack answers; the message says why, on one line."""


@dataclass(frozen=True)
class RunningStack:
    """A running `make run` stack, as its record names it."""

    api_url: str
    finspace_url: str
    moto_url: str
    region: str
    bucket: str
    table: str
    signing_key_id: str
    pid: int

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "RunningStack":
        return cls(
            record["apiUrl"],
            record["finspaceUrl"],
            record["motoUrl"],
            record["region"],
            record["bucket"],
            record["table"],
            record["signingKeyId"],
            int(record["pid"]),
        )

    def as_record(self) -> dict[str, Any]:
        """The record's JSON object: FIELDS, in order."""
        values = (self.api_url, self.finspace_url, self.moto_url, self.region, self.bucket, self.table)
        return dict(zip(FIELDS, (*values, self.signing_key_id, self.pid), strict=True))

    @property
    def process_environment(self) -> dict[str, str]:
        """What a process needs to use this stack's moto as the functions do: the region,
        moto's testing key and the endpoints."""
        return {
            **PROCESS_ENVIRONMENT,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **{f"AWS_ENDPOINT_URL_{service}": self.moto_url for service in ("DYNAMODB", "S3", "KMS")},
        }

    def env_vars(self, env_vars: dict[str, Any]) -> dict[str, Any]:
        """env_vars (localdev/env.json's format) pointed at this stack."""
        parameters = env_vars["Parameters"]
        parameters["FINSPACE_ENDPOINT_URL"] = self.finspace_url
        parameters["SNAPSHOT_SIGNING_KEY_ID"] = self.signing_key_id
        parameters["IDEMPOTENCY_TABLE_NAME"] = self.table
        parameters["SNAPSHOT_BUCKET_NAME"] = self.bucket
        for service in ("DYNAMODB", "S3", "KMS"):
            parameters[f"AWS_ENDPOINT_URL_{service}"] = self.moto_url
        return env_vars


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_stack() -> RunningStack:
    """The stack that `make run` recorded, if its process still runs; else
    NoRunningStackError, whose message says what was found."""
    path = record_path()
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise NoRunningStackError(f"no `make run` stack is running ({shown_path(path)} is absent)") from None
    except (OSError, ValueError) as unreadable:
        raise NoRunningStackError(
            f"no `make run` stack found: {shown_path(path)} is unreadable ({unreadable})"
        ) from None
    try:
        stack = RunningStack.from_record(record)
    except (KeyError, TypeError, ValueError):
        raise NoRunningStackError(
            f"no `make run` stack found: {shown_path(path)} is not a record of one; restart `make run`"
        ) from None
    if not _alive(stack.pid):
        raise NoRunningStackError(
            f"no `make run` stack is running: {shown_path(path)} names process {stack.pid}, which has ended"
        )
    return stack
