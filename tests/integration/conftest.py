"""The local stack (emulator + moto) and the HTTP front, as `make run` starts them, on
free ports. Every FinSpace call in these suites is real boto3 HTTP."""

import threading
from collections.abc import Iterator

import pytest

from finspace_users.aws.finspace import reset_finspace_clients
from localdev.harness.front import LocalApi, front_server
from localdev.harness.lambda_runtime import LocalFunction, load_functions
from localdev.harness.stack import LocalStack, local_stack
from tests.helpers import CALLER_KEY
from tests.integration.pii import PiiSentinel

SEEDED_USERS = 250


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    reset_finspace_clients()
    with local_stack(user_count=SEEDED_USERS, finspace_port=0, moto_port=0) as running:
        yield running
    reset_finspace_clients()


@pytest.fixture(scope="package")
def stack_functions(stack: LocalStack) -> dict[str, LocalFunction]:
    return load_functions(stack.env_vars)


@pytest.fixture(scope="package")
def api_url(stack_functions: dict[str, LocalFunction]) -> Iterator[str]:
    server = front_server(LocalApi(stack_functions, CALLER_KEY), 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(autouse=True)
def no_pii_leaks(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[PiiSentinel]:
    """Every integration test fails if a name or e-mail reaches a log line, a metric,
    a trace, an error body or an idempotency key."""
    sentinel = PiiSentinel()
    with sentinel.watching(monkeypatch, stack.moto_url):
        yield sentinel
    assert sentinel.leaks() == []


@pytest.fixture(autouse=True)
def fresh_client_per_test() -> Iterator[None]:
    # Unit tests swap in stubbed clients; every integration test starts from a real one.
    reset_finspace_clients()
    yield
    reset_finspace_clients()
