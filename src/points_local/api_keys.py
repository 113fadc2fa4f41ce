"""The usage plan's API keys as the local gateway checks them: in (moto's) API Gateway, where the operator
tool creates them as it does in AWS, so the local stack refuses a key the real one would (not in the plan,
or disabled) and the operator tool's keys are tested where they are made."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Final

# A key found valid is trusted this long before it is looked up again (API Gateway, too, takes a moment to
# see a key removed or disabled); a key not found valid is looked up on every request.
TRUST_SECONDS: Final = 2.0


class UsagePlanKeys:
    """The enabled API keys of one usage plan, looked up through an API Gateway client."""

    def __init__(
        self,
        client: Any,
        usage_plan_id: str,
        *,
        trust_seconds: float = TRUST_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.usage_plan_id = usage_plan_id
        self._trust_seconds = trust_seconds
        self._monotonic = monotonic
        self._trusted: dict[str, float] = {}  # key value -> until when
        self._lock = threading.Lock()

    def is_valid(self, value: str) -> bool:
        now = self._monotonic()
        with self._lock:
            if self._trusted.get(value, now) > now:
                return True
        valid = self._look_up(value)
        with self._lock:
            if valid:
                self._trusted[value] = now + self._trust_seconds
            else:
                self._trusted.pop(value, None)
        return valid

    def _look_up(self, value: str) -> bool:
        request: dict[str, Any] = {"usagePlanId": self.usage_plan_id}
        ids = []
        while True:
            page = self._client.get_usage_plan_keys(**request)
            ids += [item["id"] for item in page.get("items", []) if item.get("value") == value]
            if not page.get("position"):
                break
            request["position"] = page["position"]
        return any(self._client.get_api_key(apiKey=key_id).get("enabled") for key_id in ids)
