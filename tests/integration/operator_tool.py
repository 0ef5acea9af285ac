"""`finspace-users` as a user types it: the console script in .venv, run in a shell of
its own with no venv on PATH, against the local stack's moto."""

import os
import subprocess
from datetime import UTC, datetime, timedelta

from localdev.harness.defaults import ACCESS_KEY_ID, PROJECT_ROOT, SECRET_ACCESS_KEY
from localdev.harness.defaults import REGION as LOCAL_REGION
from localdev.harness.stack import LocalStack

TOOL = PROJECT_ROOT / ".venv" / "bin" / "finspace-users"
# Four daily ticks ending an hour ago: the newest is fresh for the default --max-age.
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
TICKS = [(NOW - timedelta(days=3 - day, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ") for day in range(4)]


def prefix_of(tick: str) -> str:
    return f"snapshots/{tick[:4]}/{tick[5:7]}/{tick[8:10]}/{tick}/"


def run_tool(
    stack: LocalStack,
    *arguments: str,
    kms_reachable: bool = True,
    cloudformation: bool = False,
    extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The command in a clean environment: no venv on PATH, only the endpoints and keys."""
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_ENDPOINT_URL_S3": stack.moto_url,
        "AWS_ENDPOINT_URL_KMS": stack.moto_url if kms_reachable else "http://127.0.0.1:9",
    }
    if cloudformation:
        environment["AWS_ENDPOINT_URL_CLOUDFORMATION"] = stack.moto_url
    environment.update(extra or {})
    return subprocess.run(  # noqa: S603 - our own console script
        [str(TOOL), *arguments], env=environment, capture_output=True, text=True, timeout=120, check=False
    )
