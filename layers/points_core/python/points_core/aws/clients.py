"""Cached boto3 clients: created on first use, once per container, never at import time.

The endpoint comes from boto3's own configuration (`AWS_ENDPOINT_URL` for the local stack and tests).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
    tcp_keepalive=True,
)


@cache
def dynamodb_client() -> Any:
    return boto3.session.Session().client("dynamodb", config=_CLIENT_CONFIG)


@cache
def sns_client() -> Any:
    return boto3.session.Session().client("sns", config=_CLIENT_CONFIG)
