"""docs/openapi.json tells the truth about the HTTP contract: it is what the code generates, the routes that
replay an Idempotency-Key declare the header and its 409 and 422, and every response the document names for
an error is in the envelope the route answers it in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from points_local import openapi
from tests.conftest import ROOT

REPLAYABLE = [
    ("post", "/v1.1/points/redeem"),
    ("post", "/v1.1/points/revert"),
    ("post", "/v2/points/reverse"),
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi.build()


def test_the_committed_document_is_what_the_code_generates(document: dict[str, Any]) -> None:
    assert (ROOT / "docs/openapi.json").read_text() == openapi.render(document)


@pytest.mark.parametrize(("method", "path"), REPLAYABLE)
def test_a_replayable_route_declares_the_key_and_its_409_and_422(
    document: dict[str, Any], method: str, path: str
) -> None:
    operation = document["paths"][path][method]
    headers = [p for p in operation["parameters"] if p["in"] == "header"]
    assert [(p["name"], p.get("required", False)) for p in headers] == [("idempotency-key", False)]
    assert {"409", "422"} <= set(operation["responses"])
    # 409 and 422 are request-level answers: the envelope of the route's 400
    for status in ("409", "422"):
        assert operation["responses"][status]["content"] == operation["responses"]["400"]["content"]


def test_only_the_replayable_routes_take_the_key(document: dict[str, Any]) -> None:
    taking = {
        (method, path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if any(p["in"] == "header" for p in operation.get("parameters", []))
    }
    assert taking == set(REPLAYABLE)


def test_no_response_is_powertools_own_validation_error(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in json.dumps(document)
