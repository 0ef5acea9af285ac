"""The local stack's defaults, in one place: where it is, the ports it listens on, its
region and the test keys that moto and the emulator accept.

`make run`, the emulator's command, make snapshot, make invoke and the tests read them
here. localdev/env.json, which `sam local` reads too, cannot import them: it names no
port and no key, and tests/unit/localdev/test_defaults.py keeps it so, and checks the
Makefile's help and the operator CLI's record path against these values.
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

HOST = "127.0.0.1"
API_PORT = 3000  # make run's API front
EMULATOR_PORT = 9010  # the FinSpace Data emulator
MOTO_PORT = 9020  # moto: DynamoDB, S3 and KMS
SAM_API_PORT = 3001  # make sam-api: SAM's own local API

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# moto's test key, which the emulator also takes for the function role's, and which
# make run's front accepts from a shell that has no AWS key of its own.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"  # noqa: S105 - moto's public test secret, never a real one

# Where `make run` records the stack it started, for every other local command (and the
# operator CLI) to find it on whatever ports it runs.
RECORD_VARIABLE = "FINSPACE_USERS_LOCAL_STACK"
DEFAULT_RECORD = PROJECT_ROOT / "build" / "local-stack.json"

# What the Lambda runtime would provide, pointed at moto. Tracing is off: no X-Ray
# daemon runs locally.
PROCESS_ENVIRONMENT = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    "POWERTOOLS_TRACE_DISABLED": "true",
}
