"""`make changes`: the latest access-review change report of the local stack, as a
table: the counts first, then each changed user with each field from → to.

Reads the snapshots that `make snapshot` wrote into the running `make run` stack.
"""

import argparse
import json
from typing import Any

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError
from rich.console import Console
from rich.table import Table

from finspace_users.changes import COMPARED_FIELDS, latest_summary
from localdev import cli_description
from localdev.snapshot import RUNNING_MOTO
from localdev.stack import LOCAL_BUCKET_NAME, LOCAL_REGION

COUNTS = (
    ("added", "users added"),
    ("removed", "users removed"),
    ("changed", "users changed"),
    ("superUserGrants", "new super users"),
    ("apiAccessGrants", "new API access"),
    ("principalChanges", "API principals changed"),
)
NO_STACK = (
    "make changes reads the snapshots of a running `make run` stack, and none answers on {url}. "
    "Start `make run`, take two snapshots (make snapshot SNAPSHOT_ARGS='--scheduled-time ...'), then run make changes."
)


def counts_table(changes: dict[str, Any]) -> Table:
    table = Table(title="Counts", title_justify="left")
    table.add_column("what")
    table.add_column("how many", justify="right")
    for name, label in COUNTS:
        table.add_row(label, str(changes[name]))
    return table


def users_table(lines: list[dict[str, Any]]) -> Table:
    table = Table(title="Changed users", title_justify="left")
    for column in ("userId", "change", "field", "from", "→ to"):
        table.add_column(column, overflow="fold")
    for line in lines:
        if line["change"] == "changed":
            fields = {name: (moved["from"], moved["to"]) for name, moved in line["fields"].items()}
        elif line["change"] == "added":
            fields = {name: (None, line["user"][name]) for name in COMPARED_FIELDS if name in line["user"]}
        else:
            fields = {name: (line["user"][name], None) for name in COMPARED_FIELDS if name in line["user"]}
        for row, (name, (before, after)) in enumerate(fields.items()):
            shown = (line["userId"], line["change"]) if row == 0 else ("", "")
            table.add_row(*shown, name, _shown(before), _shown(after), end_section=row == len(fields) - 1)
    return table


def _shown(value: Any) -> str:
    return "—" if value is None else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=cli_description(__doc__))
    parser.add_argument("--moto-url", default=RUNNING_MOTO, help=f"the stack's S3 (default {RUNNING_MOTO})")
    parser.add_argument(
        "--bucket", default=LOCAL_BUCKET_NAME, help=f"the snapshot bucket (default {LOCAL_BUCKET_NAME})"
    )
    args = parser.parse_args()
    console = Console()
    s3 = boto3.client(
        "s3",
        endpoint_url=args.moto_url,
        region_name=LOCAL_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's own test key
    )
    try:
        latest = latest_summary(s3, args.bucket)
    except (EndpointConnectionError, ClientError):
        parser.exit(1, NO_STACK.format(url=args.moto_url) + "\n")
    if latest is None:
        parser.exit(1, "No snapshot yet: take one with make snapshot.\n")
    _, summary_key = latest
    summary = json.loads(s3.get_object(Bucket=args.bucket, Key=summary_key)["Body"].read())
    changes = summary["changes"]
    console.print(f"Snapshot [bold]{summary['scheduledTime']}[/bold]", end="")
    if changes.get("previous") == "unreadable":
        console.print(f": the previous snapshot ({changes['previousScheduledTime']}) could not be read.")
        console.print(f"Reason: {changes['reason']}. There is no change report.")
        return
    if changes["previousScheduledTime"] is None:
        console.print(": the first snapshot, so nothing to compare with.")
        return
    console.print(f", compared with [bold]{changes['previousScheduledTime']}[/bold]")
    console.print(counts_table(changes))
    body = s3.get_object(Bucket=args.bucket, Key=changes["changesObject"]["key"])["Body"].read()
    lines = [json.loads(line) for line in body.splitlines()]
    if lines:
        console.print(users_table(lines))
    else:
        console.print("No user changed.")


if __name__ == "__main__":
    main()
