"""A bucket of snapshots and an idempotency table of a test's own, and the function
writing them, so that "the previous snapshot" is only what the test took and no tick of
another test replays."""

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3

from finspace_users.access_review import evidence
from finspace_users.access_review.snapshot import reset_snapshot_store
from localdev.harness.directory import SeededDirectory
from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack import LocalStack, create_locked_bucket
from localdev.harness.template import functions
from tests.helpers import snapshot_event


class History:
    """One bucket of snapshots, and the function writing them. `dynamodb_url` puts
    something (a failing proxy) between the function and the table; `timeout_seconds`
    replaces the template's function timeout, which the snapshot reads from its context."""

    def __init__(self, stack: LocalStack, dynamodb_url: str | None = None, timeout_seconds: int | None = None) -> None:
        self.bucket = self.table = f"changes-{uuid.uuid4().hex[:12]}"
        self.s3 = boto3.client("s3", endpoint_url=stack.moto_url)
        self.kms = boto3.client("kms", endpoint_url=stack.moto_url)
        self.signing_key_id = stack.signing_key_id
        create_locked_bucket(self.s3, self.bucket)
        boto3.client("dynamodb", endpoint_url=stack.moto_url).create_table(
            TableName=self.table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
        env_vars = stack.env_vars
        env_vars["Parameters"].update(SNAPSHOT_BUCKET_NAME=self.bucket, IDEMPOTENCY_TABLE_NAME=self.table)
        if dynamodb_url is not None:
            env_vars["Parameters"]["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_url
        spec = functions()["ListUsersFunction"]
        if timeout_seconds is not None:
            spec = dataclasses.replace(spec, timeout_seconds=timeout_seconds)
        self.function = LocalFunction(spec, env_vars)

    def take(self, tick: str) -> dict[str, Any]:
        summary: dict[str, Any] = self.function.invoke(snapshot_event(tick))
        return summary

    def object(self, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def object_keys(self) -> set[str]:
        return {item["Key"] for item in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])}

    def objects_under(self, prefix: str) -> dict[str, bytes]:
        return {key: self.object(key) for key in self.object_keys() if key.startswith(prefix)}

    def vouch_for(self, prefix: str, body: bytes, sign: bool = True) -> None:
        """Replace users.jsonl and rewrite its summary to vouch for the new bytes, re-signed
        with the signing key (as a holder of kms:Sign could) or, with sign=False, not."""
        self.s3.put_object(Bucket=self.bucket, Key=prefix + "users.jsonl", Body=body)
        self.rewrite_summary(
            prefix,
            {
                "usersObject": {
                    "key": prefix + "users.jsonl",
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "bytes": len(body),
                }
            },
            sign,
        )

    def rewrite_summary(self, prefix: str, fields: dict[str, Any], sign: bool = True) -> dict[str, Any]:
        """Overwrite summary.json with `fields` changed, re-signed or with its old signature."""
        summary = {**json.loads(self.object(prefix + "summary.json")), **fields}
        if sign:
            summary = evidence.signed(summary, self.kms, self.signing_key_id)
        self.s3.put_object(Bucket=self.bucket, Key=prefix + "summary.json", Body=evidence.summary_body(summary))
        return summary

    def change_lines(self, summary: dict[str, Any]) -> list[dict[str, Any]]:
        described = summary["changes"]["changesObject"]
        body = self.object(described["key"])
        assert described == {"key": described["key"], "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        return [json.loads(line) for line in body.splitlines()]


def use_directory(stack: LocalStack, users: int, seed: int) -> Iterator[SeededDirectory]:
    seeded = stack.emulator.directory
    stack.emulator.directory = SeededDirectory(users, seed=seed)
    reset_snapshot_store()  # the sweep's store binds to the table of the history below
    yield stack.emulator.directory
    stack.emulator.directory = seeded
    reset_snapshot_store()
