"""The local stack: the FinSpace emulator and a moto server holding the table and the
bucket that template.yaml defines. Used by `make run`, `make invoke` and the tests."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer

from localdev.harness.defaults import EMULATOR_PORT, HOST, MOTO_PORT, PROCESS_ENVIRONMENT, REGION
from localdev.harness.env_vars import load_env_vars
from localdev.harness.finspace_emulator import FinSpaceEmulator
from localdev.harness.stack_record import RunningStack, record_path
from localdev.harness.template import resources_of_type

# The table and the bucket as localdev/env.json names them (read once, here).
_LOCAL_PARAMETERS = load_env_vars()["Parameters"]
LOCAL_TABLE_NAME = _LOCAL_PARAMETERS["IDEMPOTENCY_TABLE_NAME"]
LOCAL_BUCKET_NAME = _LOCAL_PARAMETERS["SNAPSHOT_BUCKET_NAME"]


def wait_until_ready(ready: Callable[[], bool], process: subprocess.Popen[Any], timeout: float, what: str) -> None:
    """Poll ready() until it holds; fail early when the process that should serve exits."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.1)


def free_port(host: str = HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def http_answers(url: str) -> bool:
    try:
        requests.get(url, timeout=1)
        return True
    except requests.ConnectionError:
        return False


@dataclass
class LocalStack:
    emulator: FinSpaceEmulator
    finspace_url: str
    moto_url: str
    signing_key_id: str

    @property
    def env_vars(self) -> dict[str, Any]:
        """localdev/env.json (`sam local`'s env-vars format), pointed at this stack's
        emulator and moto."""
        env_vars = load_env_vars()
        env_vars["Parameters"]["FINSPACE_ENDPOINT_URL"] = self.finspace_url
        env_vars["Parameters"]["AWS_ENDPOINT_URL_DYNAMODB"] = self.moto_url
        env_vars["Parameters"]["AWS_ENDPOINT_URL_S3"] = self.moto_url
        env_vars["Parameters"]["AWS_ENDPOINT_URL_KMS"] = self.moto_url
        env_vars["Parameters"]["SNAPSHOT_SIGNING_KEY_ID"] = self.signing_key_id
        return env_vars


# Locally, GOVERNANCE for a day: the stack is thrown away, and moto holds a COMPLIANCE
# lock as firmly as S3 does.
LOCAL_LOCK = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}


def create_locked_bucket(s3: Any, bucket: str) -> None:
    """A bucket as the template's: versioned, with Object Lock and a default retention."""
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=LOCAL_LOCK)


def create_signing_key(kms: Any) -> str:
    """The template's SnapshotSigningKey, in moto: its key ARN."""
    (properties,) = (
        properties
        for properties in resources_of_type("AWS::KMS::Key").values()
        if properties.get("KeyUsage") == "SIGN_VERIFY"
    )
    metadata = kms.create_key(KeyUsage=properties["KeyUsage"], KeySpec=properties["KeySpec"])["KeyMetadata"]
    key_arn: str = metadata["Arn"]
    return key_arn


@contextmanager
def recorded(stack: LocalStack, api_url: str) -> Iterator[None]:
    """Record the running stack (its API front at api_url) for the local tools, in
    stack_record.record_path() (build/local-stack.json unless FINSPACE_USERS_LOCAL_STACK names
    another file), until the block ends."""
    record = RunningStack(
        api_url=api_url,
        finspace_url=stack.finspace_url,
        moto_url=stack.moto_url,
        region=REGION,
        bucket=LOCAL_BUCKET_NAME,
        table=LOCAL_TABLE_NAME,
        signing_key_id=stack.signing_key_id,
        pid=os.getpid(),
    ).as_record()
    path = record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: a reader never sees half a record.
    written = path.with_name(f".{path.name}.{os.getpid()}")
    written.write_text(json.dumps(record, indent=2) + "\n")
    written.replace(path)
    try:
        yield
    finally:
        # Another `make run` of this checkout may have recorded itself since: leave its record.
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()


def create_template_storage(moto_url: str) -> str:
    """Create the template's DynamoDB table (same keys and TTL), its locked S3 bucket and
    its signing key in moto; returns the key's ARN."""
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_url, region_name=REGION)
    for properties in resources_of_type("AWS::DynamoDB::Table").values():
        dynamodb.create_table(
            TableName=LOCAL_TABLE_NAME,
            BillingMode=properties["BillingMode"],
            AttributeDefinitions=properties["AttributeDefinitions"],
            KeySchema=properties["KeySchema"],
        )
        dynamodb.update_time_to_live(
            TableName=LOCAL_TABLE_NAME, TimeToLiveSpecification=properties["TimeToLiveSpecification"]
        )
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name=REGION)
    for _ in resources_of_type("AWS::S3::Bucket"):
        create_locked_bucket(s3, LOCAL_BUCKET_NAME)
    return create_signing_key(boto3.client("kms", endpoint_url=moto_url, region_name=REGION))


@contextmanager
def moto_in_this_process(host: str, port: int) -> Iterator[str]:
    moto = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    moto.start()
    try:
        host, bound_port = moto.get_host_and_port()
        yield f"http://{host}:{bound_port}"
    finally:
        moto.stop()


@contextmanager
def moto_in_its_own_process(host: str, port: int) -> Iterator[str]:
    """moto apart from the emulator, as S3 and DynamoDB are apart from FinSpace in AWS:
    in one process, moto's work on an upload would hold the emulator's GIL."""
    port = port or free_port(host)
    url = f"http://{host}:{port}"
    server = subprocess.Popen(  # noqa: S603 - moto's own server module, our arguments
        [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(lambda: http_answers(f"{url}/moto-api/"), server, 30, f"moto on {url}")
        yield url
    finally:
        server.terminate()
        server.wait()


@contextmanager
def local_stack(
    user_count: int = 50,
    seed: int = 42,
    finspace_port: int = EMULATOR_PORT,
    moto_port: int = MOTO_PORT,
    emulator: FinSpaceEmulator | None = None,
    moto_apart: bool = False,
    host: str = HOST,
) -> Iterator[LocalStack]:
    """Start both servers on host (port 0 picks a free port), set the process
    environment the functions expect, and stop everything on exit. moto_apart runs moto
    in a process of its own."""
    emulator = emulator or FinSpaceEmulator(user_count=user_count, seed=seed)
    saved_environment = dict(os.environ)
    start_moto = moto_in_its_own_process if moto_apart else moto_in_this_process
    try:
        with start_moto(host, moto_port) as moto_url:
            os.environ.update(PROCESS_ENVIRONMENT)
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = moto_url
            os.environ["AWS_ENDPOINT_URL_S3"] = moto_url
            os.environ["AWS_ENDPOINT_URL_KMS"] = moto_url
            signing_key_id = create_template_storage(moto_url)
            with emulator.serving(host=host, port=finspace_port) as finspace_url:
                yield LocalStack(emulator, finspace_url, moto_url, signing_key_id)
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
