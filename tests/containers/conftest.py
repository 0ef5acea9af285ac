"""`sam local` for real: a container engine, a Lambda Python 3.13 image and the local
stack on the engine's bridge, brought up once for the package (localdev/harness/sam.py).

Where no engine can be had, these tests skip with one line that says why; under CI a
skip is a failure."""

import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from localdev.harness.containers import EngineUnavailableError
from localdev.harness.sam import SamLocal, sam_local

SEEDED_USERS = 250


@pytest.fixture(scope="package")
def local() -> Iterator[SamLocal]:
    with ExitStack() as started:
        try:
            running = started.enter_context(sam_local(user_count=SEEDED_USERS))
        except EngineUnavailableError as why:
            message = f"no container engine for sam local: {why}"
            if os.environ.get("CI") == "true":
                pytest.fail(f"{message} (CI must run these tests)")
            pytest.skip(message)
        yield running
