"""Responses as JSON text. Numbers are rendered from `Decimal` exactly and without exponent: points and money
never pass through a float."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from points_core.domain.amounts import decimal_text

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

# Decimals are swapped for a marker string, dumped, then the marker is replaced by the exact digits.
# The nonce keeps a caller-supplied string from ever looking like a marker.
_MARKER = f"__decimal_{secrets.token_hex(8)}__"
_MARKER_PATTERN = re.compile(rf'"{_MARKER}(-?[0-9]+(?:\.[0-9]+)?)"')
# A surrogate (only a lone one reaches a str: JSON's "\ud800" read alone) is not a character UTF-8 can
# carry: an echoed string holding one is answered with U+FFFD in its place, as the XML renderer does, rather
# than with a body no one can encode.
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    """JSON text with every `Decimal` rendered as an exact JSON number, encodable as UTF-8 whatever it
    echoes."""
    text = json.dumps(_swap_decimals(payload), ensure_ascii=False, separators=(",", ":"))
    return _SURROGATE.sub("\ufffd", _MARKER_PATTERN.sub(r"\1", text))
