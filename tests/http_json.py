"""One HTTP request to a running local stack, and its JSON answer whatever the status."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Any


@dataclass
class Reply:
    status: int
    headers: Message
    body: Any


def send(request: urllib.request.Request, parse_float: Callable[[str], Any] = float) -> Reply:
    """The status, headers and JSON body of the answer; an error status is an answer too."""
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(
                response.status, response.headers, json.loads(response.read(), parse_float=parse_float)
            )
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, json.loads(error.read(), parse_float=parse_float))
