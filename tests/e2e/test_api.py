"""End to end over HTTP, as a point of sale sees the service: Basic auth, the README's calls, the envelope."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

IS_REDEEMABLE = "/v1.1/points/isredeemable"
JANE = "919000000001"


def redeemable(body: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = body["response"]["points"]["redeemable"]
    return item


def test_the_readme_call_answers_800_in_the_reference_shape(api: Api) -> None:
    reply = api.get(IS_REDEEMABLE, {"format": "json", "mobile": JANE, "program_id": "973", "points": "100"})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.headers["X-Cap-RequestID"]
    assert reply.body == {
        "response": {
            "status": {"success": "true", "code": 200, "message": "Success"},
            "points": {
                "redeemable": {
                    "mobile": JANE,
                    "email": "jane.doe@example.com",
                    "external_id": "EXT-1001",
                    "points": 100,
                    "is_redeemable": "true",
                    "points_redeem_value": 50,
                    "points_redeem_local_value": 50,
                    "input_type": "points",
                    "points_currency_ratio": "0.5",
                    "item_status": {"success": "true", "code": 800, "message": "Points can be redeemed"},
                }
            },
        }
    }


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"mobile": "9000000001", "points": "100"}, 800),
        ({"external_id": "EXT-1001", "points": "100"}, 800),
        ({"mobile": JANE, "points": "5000"}, 818),
        ({"mobile": JANE, "points": "-1"}, 801),
        ({"mobile": JANE, "points": "1.0001"}, 878),
        ({"mobile": "919000000002", "points": "12000"}, 800),
        ({"mobile": "919000000003", "points": "100"}, 809),
        ({"mobile": "919000000004", "points": "100"}, 686),
        ({"mobile": "919000000005", "points": "100"}, 881),
        ({"mobile": "919000000006", "points": "100"}, 818),
        ({"mobile": "919999999999", "points": "100"}, 816),
    ],
)
def test_the_demo_customers_answer_as_the_readme_says(api: Api, query: dict[str, str], code: int) -> None:
    reply = api.get(IS_REDEEMABLE, {"format": "json", **query})
    assert reply.status == 200
    assert redeemable(reply.body)["item_status"]["code"] == code


def test_currency_input(api: Api) -> None:
    reply = api.get(
        IS_REDEEMABLE, {"format": "json", "mobile": JANE, "currency_input": "true", "currency_value": "75"}
    )
    assert (redeemable(reply.body)["points"], redeemable(reply.body)["input_type"]) == (150, "currency")


def test_the_kiosk_till_redeems_from_its_stores_program(api: Api) -> None:
    kiosk = {"user": "demo.kiosk", "password": "demo-kiosk-password"}
    reply = api.get(IS_REDEEMABLE, {"mobile": JANE, "points": "1000"}, **kiosk)
    assert redeemable(reply.body)["points_currency_ratio"] == "0.1"
    assert redeemable(reply.body)["item_status"]["code"] == 800
    assert (
        redeemable(api.get(IS_REDEEMABLE, {"mobile": JANE, "points": "120"}, **kiosk).body)["item_status"][
            "code"
        ]
        == 807
    )


@pytest.mark.parametrize(
    "credentials",
    [
        {"password": "wrong"},
        {"user": "nobody"},
        {"authorization": ""},
        {"authorization": "Basic not-base64"},
    ],
)
def test_bad_credentials_are_http_401_in_the_envelope(api: Api, credentials: dict[str, str]) -> None:
    reply = api.get(IS_REDEEMABLE, {"mobile": JANE, "points": "100"}, **credentials)
    assert reply.status == 401
    assert reply.body["response"] == {
        "status": {"success": "false", "code": 401, "message": "Unauthorized. Authentication failed"}
    }
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="points"'


def test_a_v2_client_reads_the_401_from_errors_too(api: Api) -> None:
    # The gateway's 401 is the API's, one for every route: it carries v2's envelope beside v1.1's.
    reply = api.post("/v2/points/reverse", {}, '{"redemptionId": "R-1"}', password="wrong")
    assert reply.status == 401
    assert reply.body == {
        "response": {
            "status": {"success": "false", "code": 401, "message": "Unauthorized. Authentication failed"}
        },
        "warnings": [],
        "errors": [{"status": False, "code": 401, "message": "Unauthorized. Authentication failed"}],
    }


def test_an_unsupported_format_is_http_400(api: Api) -> None:
    reply = api.get(IS_REDEEMABLE, {"mobile": JANE, "points": "100", "format": "yaml"})
    assert reply.status == 400
    assert reply.body["response"]["status"]["code"] == 400


def test_without_format_or_accept_the_answer_is_xml(api: Api) -> None:
    reply = api.get(IS_REDEEMABLE, {"mobile": JANE, "points": "100"}, accept="*/*")
    assert (reply.status, reply.headers["Content-Type"]) == (200, "application/xml; charset=utf-8")
    assert reply.body.findtext("points/redeemable/item_status/code") == "800"


def test_an_unknown_resource_is_404_in_the_envelope(api: Api) -> None:
    reply = api.get("/v1.1/points/nothing", {})
    assert reply.status == 404
    assert reply.body["response"]["status"] == {
        "success": "false",
        "code": 404,
        "message": "Incorrect resource",
    }
