"""Org configuration and till logins (the Config table)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from points_core.aws.observability import tracer
from points_core.domain.models import OrgConfig, TillLogin
from points_core.repositories import keys
from points_core.repositories.codec import from_item, to_item
from points_core.repositories.org_records import (
    delete_with_org_record,
    org_record_names,
    put_with_org_record,
)


class ConfigRepository:
    """Reads are cached per container for `cache_seconds`: configuration changes rarely and is read on every
    request. A missing org is cached too, so a misconfigured caller cannot turn every request into a read."""

    def __init__(
        self,
        client: Any,
        table: str,
        *,
        cache_seconds: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._table = table
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._cache: dict[int, tuple[float, OrgConfig | None]] = {}
        self._lock = threading.Lock()

    @tracer.capture_method(capture_response=False)
    def org(self, org_id: int) -> OrgConfig | None:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(org_id)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        response = self._client.get_item(TableName=self._table, Key=keys.org_config(org_id))
        item = response.get("Item")
        config = OrgConfig.model_validate_json(from_item(item)["document"]) if item else None
        with self._lock:
            self._cache[org_id] = (now, config)
        return config

    @tracer.capture_method(capture_response=False)
    def save_org(self, config: OrgConfig) -> None:
        item = to_item(
            {
                "document": config.model_dump_json(),
                "org_id": config.org_id,
                "updated_at": datetime.now(UTC),
            },
            keys.org_config(config.org_id),
        )
        self._client.put_item(TableName=self._table, Item=item)
        with self._lock:
            self._cache.pop(config.org_id, None)

    @tracer.capture_method(capture_response=False)
    def till_login(self, username: str) -> TillLogin | None:
        response = self._client.get_item(TableName=self._table, Key=keys.till_login(username))
        item = response.get("Item")
        return TillLogin.model_validate(from_item(item)) if item else None

    @tracer.capture_method(capture_response=False)
    def is_org_till(self, org_id: int, username: str) -> bool:
        """Whether the org has a till of that username: its own record of the till, not the login item (one
        read, never the password hash)."""
        response = self._client.get_item(
            TableName=self._table, Key=keys.org_till(org_id, username), ProjectionExpression="pk"
        )
        return "Item" in response

    @tracer.capture_method(capture_response=False)
    def till_usernames(self, org_id: int) -> list[str]:
        return org_record_names(self._client, self._table, org_id, keys.ORG_TILL_PREFIX)

    @tracer.capture_method(capture_response=False)
    def save_till(self, login: TillLogin) -> None:
        """The login item and the org's own record of the till, together."""
        existing = self.till_login(login.username)
        if existing is not None and existing.org_id != login.org_id:
            raise ValueError(f"till username {login.username!r} already belongs to another org")
        put_with_org_record(
            self._client,
            self._table,
            login.org_id,
            (login.model_dump(), keys.till_login(login.username)),
            ({"store_id": login.store_id}, keys.org_till(login.org_id, login.username)),
        )

    @tracer.capture_method(capture_response=False)
    def delete_till(self, org_id: int, username: str) -> None:
        delete_with_org_record(
            self._client, self._table, org_id, keys.till_login(username), keys.org_till(org_id, username)
        )
