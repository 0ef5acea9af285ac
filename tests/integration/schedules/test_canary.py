"""The scheduled canary: one get_user, reported as CanarySuccess and CanaryLatencyMs."""

import json
from typing import Any

import pytest

from localdev.harness.lambda_runtime import LocalFunction
from localdev.harness.stack import LocalStack
from tests.conftest import CapturedLog


def emitted_metrics(out: str) -> dict[str, Any]:
    blobs = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    return {name: value for blob in blobs for name, value in blob.items() if not name.startswith("_")}


def test_canary_reads_a_user_and_reports_success(
    stack_functions: dict[str, LocalFunction],
    stack: LocalStack,
    capsys: pytest.CaptureFixture[str],
    powertools_log: CapturedLog,
) -> None:
    user = stack.emulator.directory.user_at(5)
    capsys.readouterr()

    outcome = stack_functions["GetUserFunction"].invoke({"action": "canary", "userId": user["userId"]})

    assert outcome["success"] is True
    assert outcome["status"] == 200
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["CanarySuccess"] == [1.0]
    assert len(metrics["CanaryLatencyMs"]) == 1
    reported = json.dumps(outcome) + "\n".join(powertools_log.lines())
    for field in ("firstName", "lastName", "emailAddress"):
        assert user[field] not in reported


@pytest.mark.parametrize(
    ("user_id", "fault", "status", "problem_type"),
    [
        ("no-such-user", None, 404, "user-not-found"),
        ("any-user", "error_rate", 502, "upstream-error"),
    ],
)
def test_failed_canary_reports_zero(
    stack_functions: dict[str, LocalFunction],
    stack: LocalStack,
    capsys: pytest.CaptureFixture[str],
    user_id: str,
    fault: str | None,
    status: int,
    problem_type: str,
) -> None:
    capsys.readouterr()
    if fault:
        setattr(stack.emulator.faults, fault, 1.0)
    try:
        outcome = stack_functions["GetUserFunction"].invoke({"action": "canary", "userId": user_id})
    finally:
        if fault:
            setattr(stack.emulator.faults, fault, 0.0)

    assert outcome == {
        "action": "canary",
        "success": False,
        "status": status,
        "problemType": problem_type,
        "latencyMs": outcome["latencyMs"],
    }
    assert emitted_metrics(capsys.readouterr().out)["CanarySuccess"] == [0.0]
