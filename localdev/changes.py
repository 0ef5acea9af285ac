"""`make changes`: the latest access-review change report of the local stack, as a
table: the counts first, then each changed user with each field from → to.

Reads the snapshots that `make snapshot` wrote into the running `make run` stack, which
build/local-stack.json records, whatever its ports.
"""

import json
from typing import TYPE_CHECKING, Any

from localdev import command_parser, run_interruptibly
from localdev.running import NoRunningStackError, running_stack

COUNTS = (
    ("added", "users added"),
    ("removed", "users removed"),
    ("changed", "users changed"),
    ("superUserGrants", "new super users"),
    ("apiAccessGrants", "new API access"),
    ("principalChanges", "API principals changed"),
)
if TYPE_CHECKING:
    from rich.table import Table

NO_STACK = (
    "make changes reads the snapshots of a running `make run` stack: {why}. "
    "Start `make run`, take two snapshots (make snapshot SNAPSHOT_ARGS='--scheduled-time ...'), then run make changes."
)


def counts_table(changes: dict[str, Any]) -> "Table":
    from rich.table import Table

    table = Table(title="Counts", title_justify="left")
    table.add_column("what")
    table.add_column("how many", justify="right")
    for name, label in COUNTS:
        table.add_row(label, str(changes[name]))
    return table


def users_table(lines: list[dict[str, Any]]) -> "Table":
    from rich.table import Table

    from finspace_users.changes import COMPARED_FIELDS

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
    parser = command_parser("localdev.changes", __doc__)
    parser.add_argument("--moto-url", help="the stack's S3 (default: the running `make run` stack's moto)")
    parser.add_argument("--bucket", help="the snapshot bucket (default: the local stack's)")
    args = parser.parse_args()
    # Imported here, after Ctrl-C is ours: an interrupted start ends in one line too.
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    from rich.console import Console

    from finspace_users.changes import latest_summary
    from localdev.invoke import load_env_vars

    region, bucket = "us-east-1", load_env_vars()["Parameters"]["SNAPSHOT_BUCKET_NAME"]
    if args.moto_url is None:
        try:
            running = running_stack()
        except NoRunningStackError as none:
            parser.exit(1, NO_STACK.format(why=none) + "\n")
        args.moto_url, region, bucket = running.moto_url, running.region, running.bucket
    args.bucket = args.bucket or bucket
    console = Console()
    s3 = boto3.client(
        "s3",
        endpoint_url=args.moto_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's own test key
        # A stack that stopped answers at once, not after botocore's retries.
        config=Config(connect_timeout=2, read_timeout=30, retries={"total_max_attempts": 1}),
    )
    try:
        latest = latest_summary(s3, args.bucket)
    except (BotoCoreError, ClientError) as unreachable:
        parser.exit(1, NO_STACK.format(why=f"its S3 at {args.moto_url} does not answer ({unreachable})") + "\n")
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
    run_interruptibly(main, "Interrupted.")
