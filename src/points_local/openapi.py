"""docs/openapi.json, generated from the functions' own routes and models (`make openapi`); `--check` fails
when the committed document no longer matches the code (run by `make test`)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBase, Server

from points_core.api.negotiation import V11_PREFIX
from points_core.api.openapi import KEY_REUSED
from points_core.api.parameters import IDEMPOTENCY_KEY_HEADER
from points_core.capillary.patterns import SPACE
from points_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TITLE = "Loyalty points redemption API (Capillary Points v1.1 compatible)"
VERSION = "1.1"
DESCRIPTION = (
    "Every route but the OAuth token's is behind HTTP Basic (the username is a till, the password the "
    "lowercase hex MD5 of the till's password) or, instead, an OAuth access token in X-CAP-API-OAUTH-TOKEN "
    "(POST /v3/oauth/token/generate with an OAuth client's key and secret gets one). Business outcomes "
    "answer HTTP 200 with the Capillary envelope; the specific code is in `item_status`. v1.1 answers JSON "
    "or XML: the `format` parameter (json, xml), else the method suffix (.json, .xml), else the Accept "
    "header, else XML; XML is the JSON element for element, its document "
    "element `response`. Request bodies are JSON or XML (`<root><redeem>...</redeem></root>`). /v2/ is JSON. "
    "A method a path does not take is HTTP 405 (request code 405) with an `Allow` header."
)


OAUTH_TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"  # noqa: S105 - a header name


def _open_routes(template_path: Path) -> set[tuple[str, str]]:
    """(path, method) of every Api event without an authorizer (`Auth: Authorizer: NONE`)."""
    open_routes = set()
    for resource in load_template(template_path)["Resources"].values():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            properties = event.get("Properties", {})
            if event["Type"] == "Api" and (properties.get("Auth") or {}).get("Authorizer") == "NONE":
                open_routes.add((properties["Path"], properties["Method"].lower()))
    return open_routes


def _function_apps(template_path: Path) -> list[APIGatewayRestResolver]:
    """The resolver of every function that template.yaml routes API events to, in template order."""
    template = load_template(template_path)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    apps: list[APIGatewayRestResolver] = []
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        events = properties.get("Events", {}).values()
        if resource["Type"] != "AWS::Serverless::Function" or not any(e["Type"] == "Api" for e in events):
            continue
        package = ".".join(Path(properties["CodeUri"]).parts)
        module_name = properties["Handler"].rsplit(".", 1)[0]
        apps.append(importlib.import_module(f"{package}.{module_name}").app)
    return apps


def build(template_path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    document: dict[str, Any] = {}
    for app in _function_apps(template_path):
        schema = json.loads(
            app.get_openapi_json_schema(
                title=TITLE,
                version=VERSION,
                description=DESCRIPTION,
                servers=[Server(url="http://127.0.0.1:3000", description="make run")],
                security_schemes={
                    "tillBasicAuth": HTTPBase(scheme="basic", description="till : md5hex(password)"),
                    "oauthToken": APIKey.model_validate(
                        {
                            "in": APIKeyIn.header,
                            "name": OAUTH_TOKEN_HEADER,
                            "description": "An access token from POST /v3/oauth/token/generate (a JWT)",
                        }
                    ),
                },
                security=[{"tillBasicAuth": []}, {"oauthToken": []}],
            )
        )
        if not document:
            document = schema
            continue
        document["paths"].update(schema.get("paths", {}))
        document.setdefault("components", {}).setdefault("schemas", {}).update(
            schema.get("components", {}).get("schemas", {})
        )
    for path, method in _open_routes(template_path):
        operation = document["paths"].get(path, {}).get(method)
        if operation is not None:
            operation["security"] = []  # no credentials: the body is the credential
    return _with_xml(_parameters_as_sent(_without_unreachable_validation_errors(document)))


UNSUPPORTED_BODY = "The body is neither JSON nor XML (request code 415)"


def _without_unreachable_validation_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Our resolvers answer a request validation error with the envelope's 400, never Powertools' 422, which
    Powertools writes over every route's own 422: a route that takes an Idempotency-Key answers 422 for a key
    reused with another request, in the envelope of its 400. A route that reads a body answers 415, in the
    same envelope, for a body in another media type."""
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            responses.pop("422", None)
            headers = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "header"}
            if IDEMPOTENCY_KEY_HEADER.lower() in headers:
                responses["422"] = {"description": KEY_REUSED, "content": responses["400"]["content"]}
            if "requestBody" in operation:
                responses["415"] = {"description": UNSUPPORTED_BODY, "content": responses["400"]["content"]}
    text = json.dumps(document["paths"])
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        if f"#/components/schemas/{name}" not in text:
            schemas.pop(name, None)
    return document


def _parameters_as_sent(document: dict[str, Any]) -> dict[str, Any]:
    """A query or header parameter is absent or a string, never null: an optional one's `anyOf: [X, null]`
    (how Powertools writes `str | None`) is X, with the constraints declared beside it."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                branches = [branch for branch in schema.get("anyOf", []) if branch != {"type": "null"}]
                if len(branches) == 1 and len(schema["anyOf"]) == 2:
                    rest = {key: value for key, value in schema.items() if key != "anyOf"}
                    parameter["schema"] = {**branches[0], **rest}
    return document


XML_RESPONSE_TYPE = "application/xml"
XML_BODY_TYPES = ("application/xml", "text/xml")


def _with_xml(document: dict[str, Any]) -> dict[str, Any]:
    """Every v1.1 answer can be XML, and redeem and revert read XML bodies: the XML content beside each JSON
    one, whose document element is the envelope's one key (`response`, `root`), element for element."""
    schemas = document.get("components", {}).get("schemas", {})

    def element(reference: str) -> tuple[str, Any] | None:
        envelope = schemas.get(reference.removeprefix("#/components/schemas/"), {})
        properties = envelope.get("properties", {})
        if len(properties) != 1:
            return None
        ((name, schema),) = properties.items()
        return name, schema

    def as_xml(content: dict[str, Any]) -> dict[str, Any] | None:
        json_schema = content.get("application/json", {}).get("schema", {})
        if "$ref" in json_schema:
            found = element(json_schema["$ref"])
            return None if found is None else {"schema": {"allOf": [found[1]], "xml": {"name": found[0]}}}
        # One of several envelopes (a route's refusal or the gateway's): one of their documents, by one name.
        branches = [element(branch.get("$ref", "")) for branch in json_schema.get("anyOf", [])]
        names = {branch[0] for branch in branches if branch is not None}
        if not branches or None in branches or len(names) != 1:
            return None
        one_of = [branch[1] for branch in branches if branch is not None]
        return {"schema": {"anyOf": one_of, "xml": {"name": names.pop()}}}

    for path, operations in document["paths"].items():
        if not path.startswith(V11_PREFIX):
            continue
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                xml = as_xml(response.get("content", {}))
                if xml is not None:
                    response["content"][XML_RESPONSE_TYPE] = xml
            body = operation.get("requestBody", {}).get("content", {})
            xml = as_xml(body)
            if xml is not None:
                xml["schema"]["allOf"] = [_xml_element(part, schemas) for part in xml["schema"]["allOf"]]
                xml["schema"]["description"] = XML_BODY
                body.update(dict.fromkeys(XML_BODY_TYPES, xml))
    return document


XML_BODY = (
    "The JSON body's `root`, element for element. XML has no null and no types: an element's text is a "
    "string, and an empty element is not given, so every element sent has content. Elements other than "
    "these are ignored."
)
_XML_VARIANT = "{}Xml"
# Some character that is not a space and that XML can carry (none of the C0 controls, U+FFFE, U+FFFF).
_XML_TEXT = f"[^{SPACE}" + r"\x00-\x1f" + "\ufffe\uffff]"


def _xml_element(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """A request body schema as XML reads it (`XML_BODY`): no null branch, no default (a JSON one may hold
    nulls), an object has some element and only those named, a list some item, a string some character
    other than a space that XML can carry. A referenced schema becomes its `...Xml` variant, written once."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        variant = _XML_VARIANT.format(name)
        if variant not in schemas:
            schemas[variant] = {}  # taken, for a schema that refers to itself
            schemas[variant] = _xml_element(schemas[name], schemas)
        siblings = {key: value for key, value in schema.items() if key not in ("$ref", "default")}
        return {**siblings, "$ref": f"#/components/schemas/{variant}"}
    result = {key: value for key, value in schema.items() if key != "default"}
    if "anyOf" in result:
        branches = [
            _xml_element(branch, schemas) for branch in result.pop("anyOf") if branch != {"type": "null"}
        ]
        if len(branches) == 1:
            return {**branches[0], **result}
        result["anyOf"] = branches
    kind = result.get("type")
    if kind == "object":
        properties = result.get("properties", {})
        result["properties"] = {key: _xml_element(value, schemas) for key, value in properties.items()}
        result["additionalProperties"] = False
        result["minProperties"] = max(1, result.get("minProperties", 0))
    elif kind == "array":
        result["items"] = _xml_element(result["items"], schemas)
        result["minItems"] = max(1, result.get("minItems", 0))
    elif kind == "string":
        result.setdefault("pattern", _XML_TEXT)
    return result


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", type=Path, metavar="FILE")
    action.add_argument("--check", type=Path, metavar="FILE")
    action.add_argument("--stdout", action="store_true", help="print it (what the local stack serves)")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml", metavar="FILE")
    args = parser.parse_args(argv)
    text = render(build(args.template))
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.write:
        args.write.write_text(text)
        return 0
    if not args.check.exists() or args.check.read_text() != text:
        print(f"{args.check} is out of date: run `make openapi` and commit it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
