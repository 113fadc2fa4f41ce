"""The two wire formats of v1.1, JSON and XML: which media types name them, and one way to render an answer
in either (from the same payload, built from the response models)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from points_core.capillary import json_renderer, xml_renderer


class WireFormat(StrEnum):
    JSON = "json"
    XML = "xml"


_MEDIA_TYPES = {
    "application/json": WireFormat.JSON,
    "text/json": WireFormat.JSON,
    "application/xml": WireFormat.XML,
    "text/xml": WireFormat.XML,
}
_SUFFIXES = {"+json": WireFormat.JSON, "+xml": WireFormat.XML}


def media_format(media_type: str) -> WireFormat | None:
    """The format a media type names (`application/json`, `text/xml`, `application/problem+json`...; any
    case, parameters such as `charset` ignored), or None."""
    essence = media_type.split(";", 1)[0].strip().lower()
    found = _MEDIA_TYPES.get(essence)
    if found is None and essence.startswith("application/"):
        found = next((fmt for suffix, fmt in _SUFFIXES.items() if essence.endswith(suffix)), None)
    return found


def render(payload: Any, wire_format: WireFormat) -> tuple[str, str]:
    """The content type and the text of an answer."""
    if wire_format is WireFormat.XML:
        return xml_renderer.XML_CONTENT_TYPE, xml_renderer.dumps(payload)
    return json_renderer.JSON_CONTENT_TYPE, json_renderer.dumps(payload)
