"""The Capillary envelopes, as plain values (rendered by `json_renderer`).

v1.1: `{"response": {"status": {...}, <payload>}}` with string booleans and an `item_status` per item.
v2: a flat object with `warnings`, or `{"warnings": [], "errors": [{"status": false, "code", "message"}]}`.
v3 (the OAuth token endpoint): `{"data": {...}, "errors": null}`, or `{"data": null, "errors": [...]}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from points_core.domain.codes import RequestStatus, Status


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


def v3_errors(*errors: Status) -> dict[str, Any]:
    return {
        "data": None,
        "errors": [{"status": False, "code": error.code, "message": error.message} for error in errors],
    }
