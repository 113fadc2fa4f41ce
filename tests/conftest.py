"""Shared fixtures: an offline AWS (moto) with every table of template.yaml, and the function environment."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from points_local.resources import create_tables
from points_local.template import load_template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
REGION = "eu-west-1"

# Functions read these at run time; tests never reach a real AWS account.
_BASE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_SERVICE_NAME": "points-redemption",
    "POWERTOOLS_METRICS_NAMESPACE": "LoyaltyPoints",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "CONFIG_CACHE_SECONDS": "60",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, value in _BASE_ENVIRONMENT.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)


# Environment variable of each table, as template.yaml's Globals set them.
TABLE_ENVIRONMENT = {
    "ConfigTable": "CONFIG_TABLE",
    "CustomersTable": "CUSTOMERS_TABLE",
    "LedgerTable": "LEDGER_TABLE",
    "OtpTable": "OTP_TABLE",
}


def clear_caches() -> None:
    """Forget every per-container cache, as a new Lambda container would."""
    from points_core import aws, repositories, settings

    settings.get_settings.cache_clear()
    aws.dynamodb_client.cache_clear()
    repositories.config_repository.cache_clear()
    repositories.customer_repository.cache_clear()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What the Powertools logger writes during the test (its handler keeps the stream it was built with)."""
    from points_core.observability import logger

    captured = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(captured)  # type: ignore[attr-defined]
    yield captured
    handler.setStream(previous)  # type: ignore[attr-defined]


@dataclass
class Aws:
    dynamodb: Any
    tables: dict[str, str]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """moto in-process, every DynamoDB table of template.yaml created from its own definition."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client, load_template(TEMPLATE))
        for table, variable in TABLE_ENVIRONMENT.items():
            monkeypatch.setenv(variable, table)
        clear_caches()
        yield Aws(dynamodb=client, tables={table: table for table in TABLE_ENVIRONMENT})
        clear_caches()
