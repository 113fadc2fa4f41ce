"""JSON and XML on the wire, through the functions' handlers against moto: which format an answer is in,
XML answers read by path, request bodies in every JSON and XML spelling, other media types, hostile XML,
one item answered with one object."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import pytest

from points_core.domain.models import OtpSettings
from points_core.repositories import customer_repository
from tests.conftest import Aws
from tests.factories import JANE, NOW, api_event, org_config, program, seed_jane, seed_org
from tests.invoke import ApiAnswer, call_api, function_module, invoke

IS_REDEEMABLE = "/v1.1/points/isredeemable"
CODE = "/v1.1/points/validationcode"
REDEEM = "/v1.1/points/redeem"
REVERSE = "/v2/points/reverse"
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
SKIP = {"skip_validation": "true"}

SEMNOX_BODY = (
    "<root><redeem><points_redeemed>100</points_redeemed><transaction_number>SEMNOX-1</transaction_number>"
    "<customer><mobile>919000000001</mobile><email></email></customer><notes></notes>"
    "<validation_code></validation_code><redemption_time></redemption_time></redeem></root>"
)


@pytest.fixture(autouse=True)
def jane(aws: Aws) -> None:
    seed_org(
        org_config(
            programs=(program(973, ratio="0.5", min_points=Decimal(10)),),
            allow_skip_validation=True,
            otp=OtpSettings(channels="sms", max_sends=1),
        )
    )
    seed_jane()


def balance() -> Decimal:
    wallet = customer_repository().wallet(100737, "1001", 973)
    assert wallet is not None
    return wallet.balance(NOW)


def check(
    query: Mapping[str, str], *, path: str = IS_REDEEMABLE, accept: str | None = None, **options: Any
) -> ApiAnswer:
    function = "validation_code" if path.startswith(CODE) else "is_redeemable"
    return call_api(
        function,
        "GET",
        path,
        {"mobile": JANE, "points": "100", **query},
        headers={"Accept": accept},
        **options,
    )


def redeem(
    body: str, content_type: str | None, query: Mapping[str, str] | None = None, **headers: str
) -> ApiAnswer:
    return call_api(
        "redeem",
        "POST",
        REDEEM,
        {**SKIP, **(query or {})},
        body=body,
        headers={"Content-Type": content_type, **headers},
    )


def text(document: ElementTree.Element, path: str) -> str | None:
    found = document.find(path)
    assert found is not None, f"no {path}"
    return found.text


def json_redeem(*points: int, as_list: bool = False) -> str:
    import json

    items = [{"points_redeemed": p, "customer": {"mobile": JANE, "email": ""}} for p in points]
    return json.dumps({"root": {"redeem": items if as_list or len(items) > 1 else items[0]}})


# Which format the answer is in: `format`, else the method suffix, else Accept, else XML.
@pytest.mark.parametrize(
    ("query", "suffix", "accept", "expected"),
    [
        ({"format": "xml"}, "", None, XML_TYPE),
        ({"format": " XML "}, "", "application/json", XML_TYPE),
        ({"format": "json"}, "", "application/xml", JSON_TYPE),  # NCR: the parameter wins
        ({"format": "Json"}, ".xml", None, JSON_TYPE),
        ({}, ".xml", "application/json", XML_TYPE),
        ({}, ".json", None, JSON_TYPE),
        ({}, "", "application/json", JSON_TYPE),  # the dataflow
        ({}, "", "text/xml", XML_TYPE),
        ({}, "", "text/html, application/xml;q=0.9, application/json;q=0.8", XML_TYPE),
        ({}, "", "application/xml;q=0.5, application/JSON", JSON_TYPE),
        ({}, "", "application/json;q=0, */*", XML_TYPE),
        ({}, "", "*/*", XML_TYPE),
        ({}, "", None, XML_TYPE),  # Capillary's v1.1 default
    ],
)
def test_the_answer_format_is_the_parameter_then_the_suffix_then_accept_then_xml(
    query: dict[str, str], suffix: str, accept: str | None, expected: str
) -> None:
    answer = check(query, path=IS_REDEEMABLE + suffix, accept=accept)
    assert answer.status == 200
    assert answer.header("Content-Type") == expected


def test_the_xml_answer_is_the_json_answer_element_for_element() -> None:
    as_json = check({"format": "json"}).body["response"]
    as_xml = check({"format": "xml"}).body
    assert as_xml.tag == "response"
    redeemable = as_json["points"]["redeemable"]
    assert text(as_xml, "status/success") == as_json["status"]["success"] == "true"
    assert text(as_xml, "status/code") == str(as_json["status"]["code"]) == "200"
    assert text(as_xml, "points/redeemable/points") == str(redeemable["points"]) == "100"
    assert text(as_xml, "points/redeemable/is_redeemable") == "true"
    assert text(as_xml, "points/redeemable/points_redeem_value") == str(redeemable["points_redeem_value"])
    assert text(as_xml, "points/redeemable/item_status/message") == "Points can be redeemed"
    assert text(as_xml, "points/redeemable/email") == redeemable["email"]


def test_an_unknown_format_is_400_in_the_format_chosen_otherwise() -> None:
    as_json = check({"format": "yaml"}, accept="application/json")
    assert (as_json.status, as_json.header("Content-Type")) == (400, JSON_TYPE)
    assert as_json.body["response"]["status"]["message"] == (
        "Invalid input: format=yaml is not supported, use json or xml"
    )
    as_xml = check({"format": "yaml"})
    assert (as_xml.status, as_xml.header("Content-Type")) == (400, XML_TYPE)
    assert text(as_xml.body, "status/code") == "400"
    assert text(as_xml.body, "status/success") == "false"


def test_v2_answers_json_whatever_the_request_asks() -> None:
    answer = call_api(
        "revert",
        "POST",
        REVERSE,
        {"format": "xml"},
        body={"redemptionId": "ZZZZZZ", "identifier": {"type": "mobile", "value": JANE}},
        headers={"Accept": "application/xml"},
    )
    assert answer.header("Content-Type") == JSON_TYPE
    assert answer.body["errors"][0]["code"] == 3803


@pytest.mark.parametrize(
    ("function", "method", "path", "query", "options", "status"),
    [
        ("is_redeemable", "GET", IS_REDEEMABLE, {"validation_type": "BOGUS"}, {}, 400),
        ("is_redeemable", "GET", IS_REDEEMABLE, {}, {"authorizer": {}}, 401),
        ("is_redeemable", "GET", "/v1.1/points/nothing", {}, {}, 404),
        (
            "redeem",
            "POST",
            REDEEM,
            {},
            {"body": "points=100", "headers": {"Content-Type": "text/plain"}},
            415,
        ),
    ],
)
def test_every_request_level_error_can_be_xml(
    function: str, method: str, path: str, query: dict[str, str], options: dict[str, Any], status: int
) -> None:
    headers = {"Accept": None, **options.pop("headers", {})}
    answer = call_api(function, method, path, {"format": "xml", **query}, headers=headers, **options)
    assert (answer.status, answer.header("Content-Type")) == (status, XML_TYPE)
    assert text(answer.body, "status/success") == "false"
    assert text(answer.body, "status/code") == str(status)


def test_the_send_limit_is_429_in_xml() -> None:
    assert check({"format": "xml"}, path=CODE).status == 200
    refused = check({"format": "xml"}, path=CODE)
    assert (refused.status, refused.header("Content-Type")) == (429, XML_TYPE)
    assert text(refused.body, "status/code") == "429"
    assert text(refused.body, "validation_code/code/item_status/code") == "429"


def test_an_unexpected_failure_is_500_in_xml_in_the_endpoint_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(function_module("redeem"), "process", broken)
    answer = redeem(SEMNOX_BODY, "text/xml", {"format": "xml"})
    assert (answer.status, answer.header("Content-Type")) == (500, XML_TYPE)
    assert text(answer.body, "responses/points/item_status/code") == "889"
    assert "boom" not in answer.text


# Request bodies.
@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/JSON",
        "Application/Json; charset=UTF-8",
        "application/json;charset=iso-8859-1",
        "text/json",
        "application/vnd.capillary.points+json",
        None,
    ],
)
def test_every_json_spelling_is_read(content_type: str | None) -> None:
    answer = redeem(json_redeem(100), content_type, {"format": "json"})
    assert answer.status == 200
    assert answer.body["response"]["responses"]["points"]["item_status"]["code"] == 800
    assert balance() == 700


@pytest.mark.parametrize(
    "content_type", ["text/xml", "application/xml", "TEXT/XML; charset=utf-8", "application/soap+xml", None]
)
def test_every_xml_spelling_is_read(content_type: str | None) -> None:
    answer = redeem(SEMNOX_BODY, content_type, {"format": "xml"})
    assert answer.status == 200
    assert text(answer.body, "responses/points/item_status/code") == "800"
    assert text(answer.body, "responses/points/balance") == "700"
    assert balance() == 700


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "*/*"],
)
def test_any_other_media_type_is_415_and_redeems_nothing(content_type: str) -> None:
    answer = redeem(json_redeem(100), content_type, {"format": "json"})
    assert answer.status == 415
    essence = content_type.split(";", maxsplit=1)[0]
    message = f"Unsupported media type: {essence} is not accepted: send application/json or text/xml"
    assert answer.body == {"response": {"status": {"success": "false", "code": 415, "message": message}}}
    assert balance() == 800


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"root": {"redeem": ', "application/json"),
        ("<root><redeem>", "text/xml"),
        ("<root><redeem>&nbsp;</redeem></root>", "text/xml"),
        ('{"root": {"redeem": {"points_redeemed": 100}}}', "text/xml"),
        (SEMNOX_BODY, "application/json"),
        ("<root>" + "<redeem>" * 40 + "</redeem>" * 40 + "</root>", "text/xml"),
        ('{"root": ' + "[" * 100_000 + "]" * 100_000 + "}", "application/json"),
        ("<root>\udcff</root>", "text/xml"),
    ],
)
def test_an_unparseable_body_is_400_and_redeems_nothing(body: str, content_type: str) -> None:
    answer = redeem(body, content_type, {"format": "json"})
    assert answer.status == 400
    assert answer.body["response"]["status"]["code"] == 400
    assert balance() == 800


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10)).replace(
        "&lol0;", "&lol;"
    )
    + "]><root><redeem><notes>&lol9;</notes></redeem></root>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE root [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<root><redeem><points_redeemed>100</points_redeemed><notes>&xxe;</notes>"
    "<customer><mobile>919000000001</mobile></customer></redeem></root>"
)
EXTERNAL_DTD = '<?xml version="1.0"?><!DOCTYPE root SYSTEM "http://169.254.169.254/latest/meta-data/"><root/>'


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_a_doctype_is_refused_and_the_function_keeps_answering(body: str) -> None:
    refused = redeem(body, "text/xml", {"format": "xml"})
    assert refused.status == 400
    assert text(refused.body, "status/message") == (
        "Invalid input: a DOCTYPE or entity declaration is not accepted"
    )
    assert "root:" not in refused.text  # nothing of /etc/passwd
    assert balance() == 800
    assert redeem(SEMNOX_BODY, "text/xml", {"format": "xml"}).status == 200


# One item, one object.
def test_a_list_of_one_is_answered_with_one_object() -> None:
    answer = redeem(json_redeem(100, as_list=True), "application/json", {"format": "json"})
    points = answer.body["response"]["responses"]["points"]
    assert isinstance(points, dict)
    assert points["item_status"]["code"] == 800
    assert points["redemption_id"]


def test_two_items_are_answered_with_a_list() -> None:
    answer = redeem(json_redeem(100, 50), "application/json", {"format": "json"})
    points = answer.body["response"]["responses"]["points"]
    assert [item["item_status"]["code"] for item in points] == [800, 800]
    assert balance() == 650


ITEM = "<points_redeemed>{}</points_redeemed><customer><mobile>919000000001</mobile></customer>"


@pytest.mark.parametrize(
    "body",
    [
        f"<root><redeem>{ITEM.format(100)}</redeem><redeem>{ITEM.format(50)}</redeem></root>",
        f"<root><redeem><element>{ITEM.format(100)}</element><element>{ITEM.format(50)}</element></redeem></root>",
    ],
)
def test_several_xml_items_are_repeated_elements_in_both_directions(body: str) -> None:
    answer = redeem(body, "text/xml", {"format": "xml"})
    items = answer.body.findall("responses/points")
    assert [item.findtext("points_redeemed") for item in items] == ["100", "50"]
    assert [item.findtext("item_status/code") for item in items] == ["800", "800"]
    assert balance() == 650


def test_one_xml_element_item_is_one_object() -> None:
    answer = redeem(
        f"<root><redeem><element>{ITEM.format(100)}</element></redeem></root>", "text/xml", {"format": "json"}
    )
    assert isinstance(answer.body["response"]["responses"]["points"], dict)


def test_empty_identifiers_are_not_given() -> None:
    body = (
        "<root><redeem><points_redeemed>100</points_redeemed><customer><mobile></mobile><email></email>"
        "<external_id>EXT-1001</external_id></customer></redeem></root>"
    )
    answer = redeem(body, "text/xml", {"format": "xml"})
    assert text(answer.body, "responses/points/item_status/code") == "800"
    assert text(answer.body, "responses/points/mobile") == JANE


def test_an_xml_answer_is_replayed_byte_for_byte_and_the_key_binds_the_format() -> None:
    first = redeem(SEMNOX_BODY, "text/xml", {"format": "xml"}, **{"Idempotency-Key": "xml-1"})
    replay = redeem(SEMNOX_BODY, "text/xml", {"format": "xml"}, **{"Idempotency-Key": "xml-1"})
    assert (first.status, replay.status) == (200, 200)
    assert replay.text == first.text
    assert replay.header("Content-Type") == XML_TYPE
    as_json = redeem(SEMNOX_BODY, "text/xml", {"format": "json"}, **{"Idempotency-Key": "xml-1"})
    assert as_json.status == 422
    assert balance() == 700


@pytest.mark.parametrize("content_type", ["text/xml", None])
def test_v2_reads_json_only(content_type: str | None) -> None:
    answer = call_api(
        "revert",
        "POST",
        REVERSE,
        body="<reverse><redemptionId>ZZZZZZ</redemptionId></reverse>",
        headers={"Content-Type": content_type},
    )
    assert (answer.status, answer.header("Content-Type")) == (415, JSON_TYPE)
    message = "Unsupported media type: /v2/ reads JSON only: send application/json"
    assert answer.body == {"warnings": [], "errors": [{"status": False, "code": 415, "message": message}]}


@pytest.mark.parametrize("body", ["!!not base64!!", "/w=="])  # not base64; base64 of a byte that is not UTF-8
def test_a_base64_body_that_is_not_text_is_400(body: str) -> None:
    event = api_event("POST", REDEEM, {**SKIP, "format": "json"}, body=body)
    event["isBase64Encoded"] = True
    response = invoke("redeem", event)
    assert response["statusCode"] == 400
    assert "the body is not text" in response["body"]
    assert balance() == 800
