"""The tills' API keys: each till has its own API Gateway API key in the stack's usage plan, which throttles
every till on its own (template.yaml's TillRateLimit and TillBurstLimit). The authorizer hands API Gateway
the key's value as `usageIdentifierKey`, read with the till's login item, where apply-config keeps it; no
client ever sees or sends it.

A till's key is named `<usage plan id>/<username>`, so that stacks sharing an account and region never take
each other's keys. Applying a configuration makes sure each till's key exists, is enabled and is in the plan
(a till whose key already is costs nothing more than one listing of the plan's keys for the whole org);
a key left by an apply that stopped before the login was written is found by its name and used. A removed
till's key is taken out of the plan and deleted. A key an operator disabled in API Gateway while it
stays in the plan is left disabled: the till is refused (403) until it is enabled again.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from botocore.exceptions import ClientError

# API Gateway wants at least 20 characters; 40 letters and digits are 238 random bits.
KEY_LENGTH = 40
_KEY_ALPHABET = string.ascii_letters + string.digits


def new_key_value() -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(KEY_LENGTH))


def _pages(call: Any, **request: Any) -> list[dict[str, Any]]:
    """Every item of a paged API Gateway listing (`position` to go on)."""
    items: list[dict[str, Any]] = []
    while True:
        page = call(**request)
        items.extend(page.get("items", []))
        position = page.get("position")
        if not position:
            return items
        request["position"] = position


class TillKeys:
    """The API keys of one stack's tills, in its usage plan."""

    def __init__(self, client: Any, usage_plan_id: str) -> None:
        self._client = client
        self.usage_plan_id = usage_plan_id
        self._in_plan: dict[str, str] | None = None

    def name(self, username: str) -> str:
        return f"{self.usage_plan_id}/{username}"

    def _plan_keys(self) -> dict[str, str]:
        """Value → id of every key in the usage plan, listed once."""
        if self._in_plan is None:
            self._in_plan = {
                item["value"]: item["id"]
                for item in _pages(self._client.get_usage_plan_keys, usagePlanId=self.usage_plan_id)
            }
        return self._in_plan

    def _named(self, username: str) -> list[dict[str, Any]]:
        name = self.name(username)
        found = _pages(self._client.get_api_keys, nameQuery=name, includeValues=True)
        return [key for key in found if key.get("name") == name]  # nameQuery matches a prefix

    def ensure(self, username: str, org_id: int, value: str | None) -> str:
        """The value of the till's key, which is then enabled and in the plan: `value` (its login's) when the
        login has one, else a key of the till's name from an earlier apply, else a new key."""
        if value is not None and value in self._plan_keys():
            return value
        key = next((key for key in self._named(username) if value in (None, key.get("value"))), None)
        if key is None:
            key = self._client.create_api_key(
                name=self.name(username),
                description=f"Till {username} of org {org_id}: its request rate (points-admin apply-config)",
                enabled=True,
                value=value or new_key_value(),
                tags={"org_id": str(org_id), "till": username},
            )
        elif not key.get("enabled"):
            self._client.update_api_key(
                apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "true"}]
            )
        try:
            self._client.create_usage_plan_key(
                usagePlanId=self.usage_plan_id, keyId=key["id"], keyType="API_KEY"
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConflictException":  # already in the plan
                raise
        self._plan_keys()[key["value"]] = key["id"]
        return str(key["value"])

    def remove(self, username: str) -> None:
        """Take the till's key out of the plan and delete it."""
        for key in self._named(username):
            if self._plan_keys().pop(key.get("value", ""), None) is not None:
                self._client.delete_usage_plan_key(usagePlanId=self.usage_plan_id, keyId=key["id"])
            self._client.delete_api_key(apiKey=key["id"])
