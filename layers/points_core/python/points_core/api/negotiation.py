"""Which wire format a request is answered in, and which its body is in.

The answer (v1.1): the `format` parameter (`json` or `xml`, any case), else the method suffix
(`/isredeemable.xml`), else the first JSON or XML media type the `Accept` header prefers, else XML,
Capillary's v1.1 default. `/v2/` and `/v3/` routes answer JSON only. The body: its `Content-Type` (JSON or
XML media types, any case, any parameters), or, with none, what it starts with; any other media type is 415,
as is XML on a `/v2/` or `/v3/` route.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from points_core.capillary import xml_bodies
from points_core.capillary.bodies import MAX_BODY_BYTES
from points_core.capillary.formats import WireFormat, media_format
from points_core.domain.errors import InvalidInput, UnsupportedMediaType

V2_PREFIX = "/v2/"
V3_PREFIX = "/v3/"
V11_PREFIX = "/v1.1/"
JSON_ONLY_PREFIXES = (V2_PREFIX, V3_PREFIX)
FORMAT_PARAMETER = "format"


def named_format(text: str | None) -> WireFormat | None:
    try:
        return WireFormat((text or "").strip().lower())
    except ValueError:
        return None


def check_format(text: str | None) -> None:
    """A `format` parameter that is given names json or xml (400 otherwise)."""
    if text is not None and text.strip() and named_format(text) is None:
        raise InvalidInput(f"{FORMAT_PARAMETER}={text.strip()} is not supported, use json or xml")


def accepted_format(accept: str | None) -> WireFormat | None:
    """The format of the most preferred JSON or XML media type in an `Accept` header (q=0 refuses one)."""
    ranked: list[tuple[float, int, WireFormat]] = []
    for position, entry in enumerate((accept or "").split(",")):
        media_type, *parameters = entry.split(";")
        found = media_format(media_type)
        if found is None:
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, found))
    return min(ranked)[2] if ranked else None


def response_format(event: APIGatewayProxyEvent) -> WireFormat:
    path = event.path or ""
    if path.startswith(JSON_ONLY_PREFIXES):
        return WireFormat.JSON
    named = named_format((event.query_string_parameters or {}).get(FORMAT_PARAMETER))
    if named is not None:
        return named
    suffixed = next((fmt for fmt in WireFormat if path.endswith(f".{fmt.value}")), None)
    if suffixed is not None:
        return suffixed
    return accepted_format(event.headers.get("accept")) or WireFormat.XML


def body_format(content_type: str | None, body: str) -> WireFormat:
    """The format a request body is in: its media type's, or by its first character when it has none."""
    if content_type is None or not content_type.strip():
        return WireFormat.XML if body.lstrip().startswith("<") else WireFormat.JSON
    found = media_format(content_type)
    if found is None:
        essence = content_type.split(";", 1)[0].strip()[:100]
        raise UnsupportedMediaType(f"{essence} is not accepted: send application/json or text/xml")
    return found


def read_body(event: APIGatewayProxyEvent) -> Any:
    """The request body's value, from JSON (numbers exact, as the resolver's deserializer reads them) or
    from XML into the same shape; None when there is none. Unreadable or over 64 KiB (whatever its format):
    `InvalidInput` (400)."""
    try:
        body = event.decoded_body or ""
    except ValueError:  # not base64, or not UTF-8
        raise InvalidInput("the body is not text") from None
    if len(body.encode("utf-8", errors="surrogatepass")) > MAX_BODY_BYTES:
        raise InvalidInput(f"the body is larger than {MAX_BODY_BYTES // 1024} KiB")
    wire_format = body_format(event.headers.get("content-type"), body)
    json_only = next((prefix for prefix in JSON_ONLY_PREFIXES if (event.path or "").startswith(prefix)), None)
    if wire_format is WireFormat.XML and json_only:
        raise UnsupportedMediaType(f"{json_only} reads JSON only: send application/json")
    if not body.strip():
        return None
    if wire_format is WireFormat.XML:
        return xml_bodies.parse(body)
    try:
        return event.json_body
    except (ValueError, RecursionError):
        raise InvalidInput("the body is not JSON") from None
