"""The whole service over HTTP: the local stack (moto server, demo data, gateway, authorizer, worker
processes) started once on free ports for this folder's tests."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from points_local.stack import LocalStack
from tests.conftest import TEMPLATE
from tests.factories import basic_auth
from tests.http_json import send


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Api:
    url: str
    admin_options: list[str]
    """points-admin's global options that reach this stack's tables and usage plan."""

    def get(
        self,
        path: str,
        query: dict[str, str],
        *,
        user: str = "demo.till",
        password: str = "demo-till-password",
        authorization: str | None = None,
        accept: str = "application/json",
    ) -> Reply:
        headers = {
            "Authorization": authorization if authorization is not None else basic_auth(user, password),
            "Accept": accept,
        }
        if authorization == "":
            del headers["Authorization"]
        return _send(urllib.request.Request(f"{self.url}{path}?{urlencode(query)}", headers=headers))

    def post(
        self,
        path: str,
        query: dict[str, str],
        body: str,
        headers: dict[str, str] | None = None,
        *,
        user: str = "demo.till",
        password: str = "demo-till-password",
    ) -> Reply:
        request = urllib.request.Request(
            f"{self.url}{path}?{urlencode(query)}",
            data=body.encode(),
            method="POST",
            headers={
                "Authorization": basic_auth(user, password),
                "Content-Type": "application/json",
                "Accept": "application/json",
                **(headers or {}),
            },
        )
        return _send(request)


def _send(request: urllib.request.Request) -> Reply:
    """Numbers with a fraction as Decimal, the headers as a plain dict (names as the stack spells them)."""
    reply = send(request, parse_float=Decimal)
    return Reply(reply.status, dict(reply.headers), reply.body)


@pytest.fixture(scope="package")
def api() -> Iterator[Api]:
    # The tests send a till's requests faster than its limit allows (tests/local_stack/test_usage_plan*.py
    # test the limit): the limit far above what they send.
    overrides = {"LogLevel": "WARNING", "TillRateLimit": "10000", "TillBurstLimit": "5000"}
    with LocalStack(TEMPLATE, workers_per_function=4, parameter_overrides=overrides) as stack:
        tables = stack.environment("RedeemFunction")
        assert stack.usage_plan_id is not None
        options = [
            "--endpoint-url",
            stack.aws_endpoint_url,
            "--usage-plan-id",
            stack.usage_plan_id,
            "--config-table",
            tables["CONFIG_TABLE"],
            "--customers-table",
            tables["CUSTOMERS_TABLE"],
            "--ledger-table",
            tables["LEDGER_TABLE"],
        ]
        yield Api(stack.api_url, options)
