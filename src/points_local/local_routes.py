"""Local-only routes on the API port, under /_local (no authorizer: the stack serves loopback only).

GET  /_local/outbox[?destination=…&limit=N]       what was sent by SMS and email, newest first
POST /_local/schedules/<function>[/<event>]       run a function's schedule now; answers the function's result
GET  /_local/openapi.json                         the API's OpenAPI document, generated from the code
GET  /_local/docs                                 Swagger UI on it, offline (api_docs.py)

They are answered before API Gateway routing, so a template route under /_local is refused at startup.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from points_local.api_docs import ApiDocs
from points_local.functions import PoolStopped
from points_local.gateway import HttpRequest, HttpResponse
from points_local.outbox import DEFAULT_LIMIT, Outbox
from points_local.schedules import ScheduleNotFound, Scheduler

PREFIX: Final = "/_local"
_USAGE: Final = (
    "GET /_local/outbox, POST /_local/schedules/<function>, GET /_local/docs, GET /_local/openapi.json"
)


def is_local_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _json(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    return HttpResponse(
        status, [("Content-Type", "application/json"), *(headers or [])], json.dumps(body).encode()
    )


def _wrong_method(allowed: str) -> HttpResponse:
    return _json(405, {"message": f"use {allowed}"}, [("Allow", allowed)])


class LocalRoutes:
    def __init__(self, outbox: Outbox, scheduler: Scheduler, template_path: Path | None = None) -> None:
        """Without the API's template, /_local/docs and /_local/openapi.json are not served (404)."""
        self._outbox = outbox
        self._scheduler = scheduler
        self._docs = None if template_path is None else ApiDocs(template_path)

    def handle(self, request: HttpRequest) -> HttpResponse | None:
        """The answer to a /_local request; None for any other path."""
        target = urlsplit(request.target)
        if not is_local_path(target.path):
            return None
        parts = target.path.removeprefix(PREFIX + "/").split("/")
        if parts == ["outbox"]:
            if request.method not in {"GET", "HEAD"}:
                return _wrong_method("GET")
            return self._outbox_messages(parse_qs(target.query, keep_blank_values=True))
        if parts[0] == "schedules" and len(parts) in {2, 3} and all(parts):
            if request.method != "POST":
                return _wrong_method("POST")
            return self._run_schedule(parts[1], parts[2] if len(parts) == 3 else None)
        if self._docs is not None and (parts == ["openapi.json"] or parts[0] == "docs"):
            if request.method not in {"GET", "HEAD"}:
                return _wrong_method("GET")
            if parts == ["openapi.json"]:
                return self._docs.document_response()
            if len(parts) <= 2:
                return self._docs.page_response(parts[1] if len(parts) == 2 else "")
        return _json(404, {"message": f"no local route {target.path}: {_USAGE}"})

    def _outbox_messages(self, query: dict[str, list[str]]) -> HttpResponse:
        destination = query.get("destination", [None])[-1]
        limit_text = query.get("limit", [str(DEFAULT_LIMIT)])[-1]
        if not (limit_text.isascii() and limit_text.isdigit()):
            return _json(400, {"message": f"limit must be a whole number, got {limit_text!r}"})
        messages = self._outbox.messages(destination or None, int(limit_text))
        return _json(200, {"messages": [delivery.as_json() for delivery in messages]})

    def _run_schedule(self, function_id: str, event_id: str | None) -> HttpResponse:
        try:
            result = self._scheduler.run(self._scheduler.find(function_id, event_id))
        except ScheduleNotFound as error:
            return _json(404, {"message": str(error)})
        except PoolStopped as error:
            return _json(503, {"message": str(error)})
        headers = [("x-amzn-RequestId", result.request_id)]
        if result.error is not None:
            return _json(502, result.error, [*headers, ("X-Amz-Function-Error", "Unhandled")])
        return _json(200, result.payload, headers)
