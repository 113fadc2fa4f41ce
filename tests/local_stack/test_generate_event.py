"""`points-local generate-event`: the events it prints are the ones the local gateway and schedules send, for
the template's routes, with the demo till's credentials and the authorizer context the functions read."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from points_core.domain.passwords import client_password
from points_local import generate_event
from points_local.__main__ import demo_logins
from points_local.__main__ import main as points_local
from points_local.template import Resolver, api_routes, load_template, schedules
from tests.factories import SCHEDULED_EVENT_KEYS
from tests.local_stack.sample_app import write_sample_app

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
DEMO_ORG = ROOT / "demo" / "org.yaml"
ROUTES = [route for route in api_routes(load_template(TEMPLATE)) if route.method != "ANY"]


def _generate(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code = points_local(["generate-event", *argv, "--template", str(TEMPLATE)])
    out, _ = capsys.readouterr()
    assert code == 0
    event: dict[str, Any] = json.loads(out)
    return event


def _basic(event: dict[str, Any]) -> str:
    scheme, _, encoded = event["headers"]["Authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(encoded).decode()


def test_the_default_credentials_and_context_are_the_demo_tills() -> None:
    document = yaml.safe_load(DEMO_ORG.read_text(encoding="utf-8"))
    till = next(till for till in document["tills"] if till["username"] == generate_event.DEMO_TILL)

    assert (generate_event.DEMO_TILL, generate_event.DEMO_TILL_SENDS) in demo_logins(DEMO_ORG)
    assert client_password(till["password"]) == generate_event.DEMO_TILL_SENDS
    assert str(document["org_id"]) == generate_event.DEMO_ORG_ID
    assert str(till["store_id"]) == generate_event.DEMO_STORE_ID


def test_an_aws_proxy_event_is_the_one_a_function_behind_the_authorizer_receives(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # When
    event = _generate(
        capsys,
        "apigateway",
        "aws-proxy",
        "--method",
        "GET",
        "--path",
        "/v1.1/points/isredeemable",
        "--query",
        "format=json&mobile=919000000001&points=100&tag=a&tag=b",
    )

    # Then
    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/v1.1/points/isredeemable",
        "/v1.1/points/isredeemable",
        "GET",
    )
    assert event["queryStringParameters"] == {
        "format": "json",
        "mobile": "919000000001",
        "points": "100",
        "tag": "b",
    }
    assert event["multiValueQueryStringParameters"]["tag"] == ["a", "b"]
    assert _basic(event) == "demo.till:66ec77491ae1b96f2325d8fd3ea002d3"
    assert event["multiValueHeaders"]["Authorization"] == [event["headers"]["Authorization"]]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["authorizer"] == {
        "org_id": "100737",
        "till_id": "demo.till",
        "store_id": "501",
        "principalId": "demo.till",
        "integrationLatency": 0,
    }
    assert (context["stage"], context["path"]) == ("prod", "/prod/v1.1/points/isredeemable")
    assert (context["resourcePath"], context["httpMethod"]) == ("/v1.1/points/isredeemable", "GET")
    uuid.UUID(context["requestId"])


def test_a_body_and_headers_and_another_tills_context(capsys: pytest.CaptureFixture[str]) -> None:
    body = '{"root":{"redeem":{"points_redeemed":100,"customer":{"mobile":"919000000001"}}}}'

    event = _generate(
        capsys,
        "apigateway",
        "aws-proxy",
        "--method",
        "post",
        "--path",
        "v1.1/points/redeem",
        "--querystringparameters",
        '{"format": "json", "skip_validation": "true"}',
        "--body",
        body,
        "--header",
        "Idempotency-Key: 7b1c0f3e",
        "--header",
        "Accept: application/xml",
        "--user",
        "demo.kiosk:83529213c26600d99a7c2daee5d4d7dd",
        "--store-id",
        "502",
    )

    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/v1.1/points/redeem",
        "/v1.1/points/redeem",
        "POST",
    )
    assert event["queryStringParameters"] == {"format": "json", "skip_validation": "true"}
    assert event["body"] == body
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["headers"]["Idempotency-Key"] == "7b1c0f3e"
    assert event["multiValueHeaders"]["Accept"] == ["application/xml"]
    assert _basic(event) == "demo.kiosk:83529213c26600d99a7c2daee5d4d7dd"
    authorizer = event["requestContext"]["authorizer"]
    assert (authorizer["org_id"], authorizer["till_id"], authorizer["store_id"]) == (
        "100737",
        "demo.kiosk",
        "502",
    )


def test_an_open_route_gets_neither_credentials_nor_an_authorizer_context(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = _generate(
        capsys,
        "apigateway",
        "aws-proxy",
        "--method",
        "POST",
        "--path",
        "/v3/oauth/token/generate",
        "--body",
        "{}",
    )

    assert "Authorization" not in event["headers"]
    assert "authorizer" not in event["requestContext"]
    assert event["resource"] == "/v3/oauth/token/generate"


def test_no_auth_leaves_the_authorization_header_out(capsys: pytest.CaptureFixture[str]) -> None:
    event = _generate(capsys, "apigateway", "aws-proxy", "--no-auth")

    assert "Authorization" not in event["headers"]
    assert event["requestContext"]["authorizer"]["org_id"] == "100737"


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: f"{route.method} {route.path}")
def test_every_route_of_the_template_gets_its_resource_and_its_guard(
    capsys: pytest.CaptureFixture[str], route: Any
) -> None:
    event = _generate(capsys, "apigateway", "aws-proxy", "--method", route.method, "--path", route.path)

    assert event["resource"] == event["requestContext"]["resourcePath"] == route.path
    assert ("authorizer" in event["requestContext"]) == (route.authorizer is not None)
    assert ("Authorization" in event["headers"]) == (route.authorizer is not None)


def test_a_route_with_a_path_variable_gets_its_resource_and_path_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = write_sample_app(tmp_path)

    code = points_local(
        ["generate-event", "apigateway", "aws-proxy", "--path", "/items/42", "--template", str(template)]
    )

    event = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (event["resource"], event["path"], event["pathParameters"]) == (
        "/items/{id}",
        "/items/42",
        {"id": "42"},
    )
    assert event["requestContext"]["stage"] == "test"  # the sample template's StageName


def test_an_unknown_route_is_said_and_still_printed(capsys: pytest.CaptureFixture[str]) -> None:
    code = points_local(
        ["generate-event", "apigateway", "aws-proxy", "--path", "/nowhere", "--template", str(TEMPLATE)]
    )

    out, err = capsys.readouterr()
    assert code == 0
    assert "no route of the template serves GET /nowhere" in err
    assert json.loads(out)["resource"] == "/nowhere"


@pytest.mark.parametrize("kind", ["authorizer", "request-authorizer"])
def test_an_authorizer_event_is_the_request_the_authorizer_receives(
    capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    event = _generate(
        capsys, "apigateway", kind, "--path", "/v1.1/points/isredeemable", "--query", "format=json"
    )

    assert event["type"] == "REQUEST"
    assert (
        event["methodArn"]
        == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/v1.1/points/isredeemable"
    )
    assert _basic(event) == "demo.till:66ec77491ae1b96f2325d8fd3ea002d3"
    assert "body" not in event
    assert "authorizer" not in event["requestContext"]
    assert event["queryStringParameters"] == {"format": "json"}


@pytest.mark.parametrize("argv", [["schedule"], ["cloudwatch", "scheduled-event"]])
def test_a_scheduled_event_is_what_the_templates_rule_sends(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    template = load_template(TEMPLATE)
    (schedule,) = schedules(template, Resolver(template))

    event = _generate(capsys, *argv)

    assert set(event) == SCHEDULED_EVENT_KEYS
    assert (event["detail-type"], event["source"], event["detail"], event["version"]) == (
        "Scheduled Event",
        "aws.events",
        {},
        "0",
    )
    assert event["resources"] == [f"arn:aws:events:eu-west-1:123456789012:rule/{schedule.rule_name}"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    datetime.fromisoformat(event["time"])
    uuid.UUID(event["id"])


def test_a_scheduled_event_for_another_rule_region_and_account(capsys: pytest.CaptureFixture[str]) -> None:
    event = _generate(
        capsys, "schedule", "--rule", "Nightly", "--region", "ap-south-1", "--account-id", "111122223333"
    )

    assert event["resources"] == ["arn:aws:events:ap-south-1:111122223333:rule/Nightly"]
    assert (event["region"], event["account"]) == ("ap-south-1", "111122223333")


def test_a_function_without_a_schedule_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = points_local(
        ["generate-event", "schedule", "--function", "RedeemFunction", "--template", str(TEMPLATE)]
    )

    assert code == 2
    assert "RedeemFunction has no schedule" in capsys.readouterr().err
