"""Rendering of Capillary envelopes and JSON.

v1.1: `{"response": {"status": {...}, <payload>}}` with string booleans and an `item_status` per item.
v2: a flat object with `warnings`, or `{"warnings": [], "errors": [{"status": false, "code", "message"}]}`.

JSON numbers are rendered from `Decimal` exactly and without exponent: points and money never pass
through a float.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from points_core.domain.codes import RequestStatus, Status

# Decimals are swapped for a marker string, dumped, then the marker is replaced by the exact digits.
# The nonce keeps a caller-supplied string from ever looking like a marker.
_MARKER = f"__decimal_{secrets.token_hex(8)}__"
_MARKER_PATTERN = re.compile(rf'"{_MARKER}(-?[0-9]+(?:\.[0-9]+)?)"')


def decimal_text(value: Decimal) -> str:
    """`Decimal` as plain digits: no exponent, no trailing zeros, no negative zero."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _swap_decimals(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return f"{_MARKER}{decimal_text(value)}"
    if isinstance(value, float):
        raise TypeError("floats are not allowed in responses; use Decimal")
    if isinstance(value, Mapping):
        return {str(key): _swap_decimals(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_swap_decimals(item) for item in value]
    return value


def dumps(payload: Any) -> str:
    """JSON text with every `Decimal` rendered as an exact JSON number."""
    text = json.dumps(_swap_decimals(payload), ensure_ascii=False, separators=(",", ":"))
    return _MARKER_PATTERN.sub(r"\1", text)


def flag(value: bool) -> str:
    """Capillary's string booleans."""
    return "true" if value else "false"


def status_block(status: Status, *, success: bool) -> dict[str, Any]:
    return {"success": flag(success), "code": status.code, "message": status.message}


def request_status(item_successes: Sequence[bool], *, success: Status = RequestStatus.SUCCESS) -> Status:
    """200 when every item succeeded, 201 when some failed, 500 when all failed."""
    if item_successes and all(item_successes):
        return success
    if any(item_successes):
        return RequestStatus.SOME_FAILED
    return RequestStatus.ALL_FAILED


def v11(status: Status, *, success: bool, **payload: Any) -> dict[str, Any]:
    return {"response": {"status": status_block(status, success=success), **payload}}


def v2_errors(*errors: Status, warnings: Sequence[Any] = ()) -> dict[str, Any]:
    return {
        "warnings": list(warnings),
        "errors": [{"status": False, "code": error.code, "message": error.message} for error in errors],
    }
