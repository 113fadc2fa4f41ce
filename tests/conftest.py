"""Shared fixtures: an offline AWS (moto) with every table of template.yaml, and the function environment."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from points_local import atomic_dynamodb
from points_local.resources import create_tables, create_topics
from points_local.template import load_template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account

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
    # The local configuration of the validation-code secret (AWS reads it from Secrets Manager).
    "OTP_SECRET": "test-secret-for-validation-codes-0123456789",
    # And of the key OAuth access tokens are signed with.
    "OAUTH_SIGNING_SECRET": "test-key-for-oauth-access-tokens-0123456789",
}


def _offline_environment() -> None:
    for name, value in _BASE_ENVIRONMENT.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)


# At import, not in pytest_configure: the conftest of a folder named on the command line (`pytest
# tests/admin`) is imported before pytest_configure runs, and what it imports (Powertools' Metrics) reads
# the environment then.
_offline_environment()


# Environment variable of each table, as template.yaml's Globals set them.
TABLE_ENVIRONMENT = {
    "ConfigTable": "CONFIG_TABLE",
    "CustomersTable": "CUSTOMERS_TABLE",
    "LedgerTable": "LEDGER_TABLE",
    "OtpTable": "OTP_TABLE",
    "RedemptionsTable": "REDEMPTIONS_TABLE",
    "IdempotencyTable": "IDEMPOTENCY_TABLE",
}


def clear_caches() -> None:
    """Forget every per-container cache, as a new Lambda container would."""
    from points_core import repositories
    from points_core.aws import clients, settings
    from points_core.services import credentials

    settings.get_settings.cache_clear()
    clients.dynamodb_client.cache_clear()
    clients.sns_client.cache_clear()
    repositories.config_repository.cache_clear()
    repositories.customer_repository.cache_clear()
    repositories.group_repository.cache_clear()
    repositories.login_repository.cache_clear()
    credentials.verified_credentials.cache_clear()
    repositories.otp_repository.cache_clear()
    repositories.redemption_repository.cache_clear()
    repositories.reversal_repository.cache_clear()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What the Powertools logger writes during the test (its handler keeps the stream it was built with)."""
    from points_core.aws.observability import logger

    captured = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(captured)  # type: ignore[attr-defined]
    yield captured
    handler.setStream(previous)  # type: ignore[attr-defined]


@dataclass
class Aws:
    dynamodb: Any
    tables: dict[str, str]
    sns: Any
    email_topic_arn: str

    def sms_sent(self) -> list[tuple[str, str]]:
        """(phone number, text) of every SMS published, oldest first."""
        from moto.sns.models import sns_backends

        return list(sns_backends[ACCOUNT][REGION].sms_messages.values())

    def emails_sent(self) -> list[tuple[str, dict[str, Any]]]:
        """(text, message attributes) of every message published to the email-codes topic, oldest first."""
        from moto.sns.models import sns_backends

        topic = sns_backends[ACCOUNT][REGION].topics[self.email_topic_arn]
        return [(message, attributes) for _, message, _, attributes, _ in topic.sent_notifications]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """moto in-process, every DynamoDB table of template.yaml created from its own definition."""
    with mock_aws():
        atomic_dynamodb.install()
        template = load_template(TEMPLATE)
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client, template)
        sns = boto3.client("sns", region_name=REGION)
        topic_arn = create_topics(sns, template).refs["EmailCodesTopic"]
        for table, variable in TABLE_ENVIRONMENT.items():
            monkeypatch.setenv(variable, table)
        monkeypatch.setenv("EMAIL_CODES_TOPIC_ARN", topic_arn)
        clear_caches()
        yield Aws(client, {table: table for table in TABLE_ENVIRONMENT}, sns, topic_arn)
        clear_caches()
        atomic_dynamodb.uninstall()


@contextmanager
def counted_calls(client: Any) -> Iterator[list[str]]:
    """The operation names a boto3 client calls while the block runs (round trips, retries not included)."""
    service = client.meta.service_model.endpoint_prefix
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register(f"before-call.{service}", record)
    try:
        yield calls
    finally:
        client.meta.events.unregister(f"before-call.{service}", record)


@pytest.fixture
def dynamodb_calls(aws: Aws) -> Iterator[list[str]]:
    from points_core.aws.clients import dynamodb_client

    with counted_calls(dynamodb_client()) as calls:
        yield calls


@pytest.fixture
def sns_calls(aws: Aws) -> Iterator[list[str]]:
    from points_core.aws.clients import sns_client

    with counted_calls(sns_client()) as calls:
        yield calls


def each_call_failing(operations: tuple[str, ...]) -> pytest.MarkDecorator:
    """Run the test once for each of `operations` (the calls a use case makes, in order), that call failing:
    `failing_call` is its number, `operation_failed` its name."""
    return pytest.mark.parametrize(("failing_call", "operation_failed"), list(enumerate(operations, start=1)))


@contextmanager
def failing_nth_call(
    client: Any, number: int, operations: tuple[str, ...], error_code: str
) -> Iterator[dict[str, str | None]]:
    """Within the block, the `number`-th call (counting across `operations`) of `client` raises `error_code`,
    as AWS would, and the block must end with that error; the dict says which operation it was (`failed`)."""
    seen = {"calls": 0}
    failed: dict[str, str | None] = {"failed": None}

    def failing(operation: str) -> Any:
        real = getattr(client, operation)

        def call(**kwargs: Any) -> Any:
            seen["calls"] += 1
            if seen["calls"] == number:
                failed["failed"] = operation
                raise ClientError({"Error": {"Code": error_code, "Message": "injected"}}, operation)
            return real(**kwargs)

        return call

    with pytest.MonkeyPatch.context() as patched:
        for operation in operations:
            patched.setattr(client, operation, failing(operation))
        with pytest.raises(ClientError):
            yield failed
