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


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_v11_answer_is_documented_in_xml_too_and_v2_in_json_only(document: dict[str, Any]) -> None:
    for _, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            media = set(response.get("content", {}))
            if path.startswith("/v1.1/"):
                assert media == {"application/json", "application/xml"}, (path, status)
                xml = response["content"]["application/xml"]["schema"]
                assert xml["xml"] == {"name": "response"}
            else:
                assert media == {"application/json"}, (path, status)


def test_every_body_is_json_or_xml_and_any_other_media_type_is_415(document: dict[str, Any]) -> None:
    with_body = [
        (path, operation) for _, path, operation in _operations(document) if "requestBody" in operation
    ]
    assert {path for path, _ in with_body} == {
        "/v1.1/points/redeem",
        "/v1.1/points/revert",
        "/v2/points/reverse",
        "/v3/oauth/token/generate",
    }
    for path, operation in with_body:
        media = set(operation["requestBody"]["content"])
        v11 = path.startswith("/v1.1/")
        assert media == ({"application/json", "application/xml", "text/xml"} if v11 else {"application/json"})
        if v11:
            assert operation["requestBody"]["content"]["text/xml"]["schema"]["xml"] == {"name": "root"}
        assert operation["responses"]["415"]["content"] == operation["responses"]["400"]["content"]


def test_a_v2_refusal_is_documented_on_200_and_on_400(document: dict[str, Any]) -> None:
    responses = document["paths"]["/v2/points/reverse"]["post"]["responses"]
    ok = responses["200"]["content"]["application/json"]["schema"]["anyOf"]
    assert [schema["$ref"].rsplit("/", 1)[1] for schema in ok] == ["ReverseResponse", "V2ErrorEnvelope"]
    assert "v2_error_http_status: 400" in responses["400"]["description"]


def test_every_route_takes_basic_or_an_oauth_token_but_getting_a_token_is_open(
    document: dict[str, Any],
) -> None:
    assert document["security"] == [{"tillBasicAuth": []}, {"oauthToken": []}]
    assert document["components"]["securitySchemes"]["oauthToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-CAP-API-OAUTH-TOKEN",
        "description": "An access token from POST /v3/oauth/token/generate (a JWT)",
    }
    opened = {(method, path) for method, path, operation in _operations(document) if "security" in operation}
    assert opened == {("post", "/v3/oauth/token/generate")}
    assert document["paths"]["/v3/oauth/token/generate"]["post"]["security"] == []


def test_every_route_behind_the_authorizer_documents_the_usage_plans_403_and_429(
    document: dict[str, Any],
) -> None:
    """The usage plan answers any till's request 403 (its key not in the plan) or 429 (past its rate): every
    route but the open token route names both, in the gateway's envelope beside any refusal of its own."""
    for _, path, operation in _operations(document):
        responses = operation["responses"]
        if path.startswith("/v3/"):
            assert not {"403", "429"} & set(responses), path
            continue
        for status in ("403", "429"):
            schema = responses[status]["content"]["application/json"]["schema"]
            references = [schema.get("$ref")] + [branch.get("$ref") for branch in schema.get("anyOf", [])]
            gateway = "GatewayErrorEnvelope" if path.startswith("/v2/") else "ErrorEnvelope"
            assert f"#/components/schemas/{gateway}" in references, (path, status)
