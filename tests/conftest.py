"""Fixtures shared by every suite.

Handlers are imported from template.yaml exactly as `make invoke` imports them, valued
from localdev/env.json, so the tests run the code and settings that ship.
"""

import io
import logging
import os
from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

from localdev.harness.defaults import PROCESS_ENVIRONMENT
from localdev.harness.env_vars import load_env_vars
from localdev.harness.lambda_runtime import LocalFunction, function_environment, load_functions
from localdev.harness.template import functions

# Lambda sets the environment before it imports a handler. Do the same before anything
# imports finspace_users: Logger and Metrics read their settings at import.
os.environ.update(PROCESS_ENVIRONMENT)
os.environ.update(function_environment(functions()["GetUserFunction"], load_env_vars()))
# No test may reach real AWS: unless a test starts moto, DynamoDB and S3 calls are
# refused at once by a closed local port.
UNREACHABLE = "http://127.0.0.1:9"
os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = UNREACHABLE
os.environ["AWS_ENDPOINT_URL_S3"] = UNREACHABLE
os.environ["AWS_ENDPOINT_URL_KMS"] = UNREACHABLE

from finspace_users.aws.finspace import finspace_client, reset_finspace_clients  # noqa: E402
from finspace_users.aws.observability import logger  # noqa: E402

# Each suite's folder marks its tests, so that `pytest -m` can pick a suite.
SUITE_MARKERS = {"tests/integration/": pytest.mark.integration, "tests/containers/": pytest.mark.containers}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for folder, marker in SUITE_MARKERS.items():
            if item.nodeid.startswith(folder):
                item.add_marker(marker)


@pytest.fixture(scope="session")
def unit_functions() -> dict[str, LocalFunction]:
    """Both functions with no endpoint override: botocore's Stubber answers every call.
    The page cache is off here; tests/integration/http/test_page_cache.py covers it."""
    env_vars = load_env_vars()
    env_vars["Parameters"]["FINSPACE_ENDPOINT_URL"] = ""
    for service in ("DYNAMODB", "S3", "KMS"):
        env_vars["Parameters"][f"AWS_ENDPOINT_URL_{service}"] = UNREACHABLE
    env_vars["Parameters"]["PAGE_CACHE_SECONDS"] = "0"
    return load_functions(env_vars)


@pytest.fixture
def finspace_stub() -> Iterator[Stubber]:
    reset_finspace_clients()
    stub = Stubber(finspace_client())
    with stub:
        yield stub
        stub.assert_no_pending_responses()
    reset_finspace_clients()


class CapturedLog:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()


def powertools_log_handler() -> logging.StreamHandler:
    """The stream handler the Powertools logger writes through (typed as any Handler)."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    return handler


@pytest.fixture
def powertools_log() -> Iterator[CapturedLog]:
    """Every line the Powertools logger writes while the test runs."""
    captured = CapturedLog()
    handler = powertools_log_handler()
    previous = handler.setStream(captured.stream)
    yield captured
    handler.setStream(previous)
