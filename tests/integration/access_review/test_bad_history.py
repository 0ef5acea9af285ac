"""Bad history is bounded. A previous users.jsonl far larger than its summary says is not
read at all; one endless line, vouched for by a summary rewritten to match it (sha256 and
bytes), is read only up to the line cap. Either way today's snapshot completes with
"previous": "unreadable", and the change report's read of the history stays small.

The read is measured in a process of its own, apart from moto (which serves the object
from this one): its peak RSS growth (VmHWM, reset before the read) and, in a second run,
its peak of Python allocations (tracemalloc)."""

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localdev.harness.defaults import PROJECT_ROOT
from localdev.harness.directory import SeededDirectory
from localdev.harness.stack import LocalStack
from tests.integration.history import History, use_directory

USERS = 60
BAD_BYTES = 48 * 1024 * 1024
# What the read of either bad object may cost, whatever its size: a read chunk (1 MiB),
# the line held back at the cap (64 KiB) and their join, with room to spare. On today's
# objects (48 MiB) the reader took, before these bounds, 100+ MiB and seconds.
MAX_RSS_GROWTH_BYTES = 8 * 1024 * 1024
MAX_TRACED_PEAK_BYTES = 4 * 1024 * 1024
PREVIOUS, TODAY = "2026-06-01T06:00:00Z", "2026-06-02T06:00:00Z"
PREVIOUS_PREFIX = f"snapshots/2026/06/01/{PREVIOUS}/"

MEASURE = """
import json, sys, time, tracemalloc
from finspace_users.access_review.changes import ChangeReport, latest_summary
from finspace_users.access_review.snapshot_objects import s3_client

bucket, tick = sys.argv[1:]
latest_summary(s3_client(), bucket, before=tick)  # the client and its models, loaded before measuring

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field + ":"))

with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak RSS (VmHWM) starts again from the RSS now
before = status("VmRSS")
started = time.perf_counter()
reason = ChangeReport(bucket, tick).unreadable_reason
seconds = time.perf_counter() - started
rss_growth = status("VmHWM") - before
tracemalloc.start()
ChangeReport(bucket, tick)
traced_peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"reason": reason, "seconds": seconds, "rss_growth": rss_growth, "traced_peak": traced_peak}))
"""


def measured_read(history: History, stack: LocalStack) -> dict[str, Any]:
    environment = {
        **os.environ,
        "AWS_ENDPOINT_URL_S3": stack.moto_url,
        "PYTHONPATH": str(PROJECT_ROOT / "layers" / "shared"),
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    completed = subprocess.run(  # noqa: S603 - our own module, our arguments
        [sys.executable, "-c", MEASURE, history.bucket, TODAY],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    measured: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    mib = 1024 * 1024
    print(
        f"figure: read of the bad history: {measured['seconds'] * 1000:.0f} ms, "
        f"RSS growth {measured['rss_growth'] / mib:.1f} MiB, "
        f"traced peak {measured['traced_peak'] / mib:.2f} MiB: {measured['reason']}"
    )
    return measured


def _larger_than_its_summary_says(history: History) -> None:
    body = history.object(PREVIOUS_PREFIX + "users.jsonl")
    history.s3.put_object(Bucket=history.bucket, Key=PREVIOUS_PREFIX + "users.jsonl", Body=body + b"x" * BAD_BYTES)


def _one_endless_line_vouched_for(history: History) -> None:
    body = b"x" * BAD_BYTES
    history.vouch_for(PREVIOUS_PREFIX, body)


@pytest.fixture
def directory(stack: LocalStack) -> Iterator[SeededDirectory]:
    yield from use_directory(stack, USERS, seed=29)


@pytest.fixture
def history(stack: LocalStack, directory: SeededDirectory) -> History:
    return History(stack)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_larger_than_its_summary_says, "users.jsonl does not match the sha256 and bytes in its summary.json"),
        (_one_endless_line_vouched_for, "users.jsonl line 1 is longer than 65536 bytes"),
    ],
    ids=["larger-than-its-summary-says", "one-endless-line"],
)
def test_bad_history_costs_little_and_never_breaks_todays_snapshot(
    history: History, stack: LocalStack, damage: Callable[[History], None], reason: str
) -> None:
    history.take(PREVIOUS)
    damage(history)

    measured = measured_read(history, stack)
    summary = history.take(TODAY)

    assert measured["reason"] == reason
    assert measured["rss_growth"] <= MAX_RSS_GROWTH_BYTES
    assert measured["traced_peak"] <= MAX_TRACED_PEAK_BYTES
    assert summary["userCount"] == USERS
    assert summary["changes"] == {"previousScheduledTime": PREVIOUS, "previous": "unreadable", "reason": reason}
