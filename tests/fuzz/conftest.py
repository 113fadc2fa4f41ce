"""The local stack (moto server, demo data, gateway, authorizer, worker processes) for schemathesis, started
once on free ports for this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from points_local.stack import LocalStack
from tests.conftest import TEMPLATE


@pytest.fixture(scope="package")
def stack_url() -> Iterator[str]:
    # schemathesis sends one request at a time (workers = 1): one worker process per function is enough. It
    # sends them faster than a till's limit allows (tests/local_stack test the limit): the limit far above it.
    overrides = {"LogLevel": "WARNING", "TillRateLimit": "10000", "TillBurstLimit": "5000"}
    with LocalStack(TEMPLATE, workers_per_function=1, parameter_overrides=overrides) as stack:
        yield stack.api_url
