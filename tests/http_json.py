"""One HTTP request to a running local stack, and its answer whatever the status: JSON parsed, XML as its
document element (read it by path, as Capillary's XML clients do)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Any
from xml.etree import ElementTree


def parsed(text: str | bytes, content_type: str | None, parse_float: Callable[[str], Any] = float) -> Any:
    """A JSON answer's value, or an XML answer's document element."""
    if (content_type or "").split(";")[0].strip().lower() in ("application/xml", "text/xml"):
        return ElementTree.fromstring(text)
    return json.loads(text, parse_float=parse_float)


@dataclass
class Reply:
    status: int
    headers: Message
    body: Any


def send(request: urllib.request.Request, parse_float: Callable[[str], Any] = float) -> Reply:
    """The status, headers and body of the answer; an error status is an answer too."""
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = parsed(response.read(), response.headers.get("Content-Type"), parse_float)
            return Reply(response.status, response.headers, body)
    except urllib.error.HTTPError as error:
        with error:
            body = parsed(error.read(), error.headers.get("Content-Type"), parse_float)
            return Reply(error.code, error.headers, body)
