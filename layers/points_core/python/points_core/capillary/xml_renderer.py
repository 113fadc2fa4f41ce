"""Responses as XML text, element for element the JSON's: the document element is the payload's one key,
each key a child element, a list its element repeated, a scalar the element's text (`Decimal` exact and
without exponent, as in JSON), `None` an empty element. Clients read it by path, e.g.
`response/points/redeemable/points_redeem_value` or `response/responses/points/item_status/code`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from points_core.domain.amounts import decimal_text

XML_CONTENT_TYPE = "application/xml; charset=utf-8"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

# Characters XML 1.0 cannot carry (C0 controls but tab, newline and return; surrogates; U+FFFE, U+FFFF):
# an echoed string holding one is answered with U+FFFD in its place rather than an unparseable document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A carriage return is escaped: XML parsers turn a literal one into a newline.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@cache
def _checked_name(name: str) -> str:
    if not _NAME.fullmatch(name) or name.lower().startswith("xml"):
        raise TypeError(f"{name!r} cannot be an XML element name")
    return name


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, float):
        raise TypeError("floats are not allowed in responses; use Decimal")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _NOT_XML.sub("\ufffd", value).translate(_ESCAPES)
    raise TypeError(f"{type(value).__name__} has no XML text")


def _element(parts: list[str], name: str, value: Any) -> None:
    tag = _checked_name(name)
    if value is None:
        parts.append(f"<{tag}/>")
    elif isinstance(value, Mapping):
        parts.append(f"<{tag}>")
        for key, item in value.items():
            if isinstance(item, Sequence) and not isinstance(item, str | bytes):
                for entry in item:
                    if isinstance(entry, Sequence) and not isinstance(entry, str | bytes):
                        raise TypeError(f"{key}: a list of lists has no XML shape")
                    _element(parts, str(key), entry)
            else:
                _element(parts, str(key), item)
        parts.append(f"</{tag}>")
    else:
        parts.append(f"<{tag}>{_text(value)}</{tag}>")


def dumps(payload: Mapping[str, Any]) -> str:
    """The XML document of a payload with exactly one key (`response` for every v1.1 answer)."""
    if len(payload) != 1:
        raise TypeError("an XML document has one document element")
    ((name, value),) = payload.items()
    parts = [_DECLARATION]
    _element(parts, str(name), value)
    return "".join(parts)
