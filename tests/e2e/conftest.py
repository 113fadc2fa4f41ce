"""The whole service over HTTP: the local stack (moto server, demo data, gateway, authorizer, worker
processes) started once on free ports for this folder's tests."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from points_core.domain.passwords import client_password
from points_local.stack import LocalStack
from tests.conftest import TEMPLATE


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Api:
    url: str
    admin_options: list[str]
    """points-admin's global options that reach this stack's tables."""

    def get(
        self,
        path: str,
        query: dict[str, str],
        *,
        user: str = "demo.till",
        password: str = "demo-till-password",
        authorization: str | None = None,
    ) -> Reply:
        credentials = base64.b64encode(f"{user}:{client_password(password)}".encode()).decode()
        headers = {"Authorization": authorization if authorization is not None else f"Basic {credentials}"}
        if authorization == "":
            headers = {}
        request = urllib.request.Request(f"{self.url}{path}?{urlencode(query)}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(
                    response.status, dict(response.headers), json.loads(response.read(), parse_float=Decimal)
                )
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), json.loads(error.read(), parse_float=Decimal))

    def post(
        self, path: str, query: dict[str, str], body: str, headers: dict[str, str] | None = None
    ) -> Reply:
        credentials = base64.b64encode(f"demo.till:{client_password('demo-till-password')}".encode()).decode()
        request = urllib.request.Request(
            f"{self.url}{path}?{urlencode(query)}",
            data=body.encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(
                    response.status, dict(response.headers), json.loads(response.read(), parse_float=Decimal)
                )
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), json.loads(error.read(), parse_float=Decimal))


@pytest.fixture(scope="package")
def api() -> Iterator[Api]:
    with LocalStack(TEMPLATE, workers_per_function=4, parameter_overrides={"LogLevel": "WARNING"}) as stack:
        tables = stack.environment("RedeemFunction")
        options = [
            "--endpoint-url",
            stack.aws_endpoint_url,
            "--config-table",
            tables["CONFIG_TABLE"],
            "--customers-table",
            tables["CUSTOMERS_TABLE"],
            "--ledger-table",
            tables["LEDGER_TABLE"],
        ]
        yield Api(stack.api_url, options)
