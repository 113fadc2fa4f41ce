"""More of JSON and XML on the wire, through the functions' handlers against moto: a v1.1 revert in XML, a
revert list of one answered with one object, and an XML body over 64 KiB (v2's 521 kept at HTTP 409 whatever
the org's status for refusals: test_reverse)."""

from __future__ import annotations

import pytest

from points_core.capillary.bodies import MAX_BODY_BYTES
from tests.conftest import Aws
from tests.factories import JANE, org_config, program, seed_jane, seed_org
from tests.integration.test_reverse import balance, redeem
from tests.integration.test_wire_formats import SEMNOX_BODY, XML_TYPE, text
from tests.integration.test_wire_formats import redeem as send_redeem
from tests.invoke import call_api

REVERT = "/v1.1/points/revert"


@pytest.fixture
def demo(aws: Aws) -> None:
    seed_org(org_config(programs=(program(973, ratio="0.5"),), allow_skip_validation=True))
    seed_jane()


def test_an_xml_revert_is_answered_in_xml_and_the_points_come_back(demo: None) -> None:
    # Given
    redeem(100, transaction_number="BILL-1")
    assert balance() == 700
    body = (
        "<root><revert><transaction_number>BILL-1</transaction_number>"
        f"<customer><mobile>{JANE}</mobile><email></email></customer></revert></root>"
    )

    # When
    answer = call_api(
        "revert", "POST", REVERT, {"format": "xml"}, body=body, headers={"Content-Type": "text/xml"}
    )

    # Then
    assert (answer.status, answer.header("Content-Type")) == (200, XML_TYPE)
    assert answer.body.tag == "response"
    assert text(answer.body, "status/success") == "true"
    assert text(answer.body, "status/code") == "200"
    assert text(answer.body, "responses/points/item_status/success") == "true"
    assert text(answer.body, "responses/points/item_status/code") == "200"
    assert text(answer.body, "responses/points/transaction_number") == "BILL-1"
    assert text(answer.body, "responses/points/points_reverted") == "100"
    assert balance() == 800


def test_a_revert_list_of_one_is_answered_with_one_object(demo: None) -> None:
    # Given
    redeem(100, transaction_number="BILL-1")
    body = {"root": {"revert": [{"transaction_number": "BILL-1", "customer": {"mobile": JANE}}]}}

    # When
    answer = call_api("revert", "POST", REVERT, {"format": "json"}, body=body)

    # Then
    assert answer.status == 200
    points = answer.body["response"]["responses"]["points"]
    assert isinstance(points, dict)
    assert points["item_status"]["code"] == 200
    assert points["transaction_number"] == "BILL-1"
    assert balance() == 800


def padded_xml(size: int) -> str:
    """SEMNOX_BODY (a redemption of 100 points) padded to `size` bytes with whitespace between elements,
    which carries nothing."""
    padding = size - len(SEMNOX_BODY.encode())
    padded = SEMNOX_BODY.replace("</redeem></root>", "</redeem>" + " " * padding + "</root>")
    assert len(padded.encode()) == size
    return padded


def test_an_xml_body_over_64_kib_is_400_and_redeems_nothing(demo: None) -> None:
    # When
    refused = send_redeem(padded_xml(MAX_BODY_BYTES + 1), "text/xml", {"format": "xml"})

    # Then
    assert (refused.status, refused.header("Content-Type")) == (400, XML_TYPE)
    assert text(refused.body, "status/success") == "false"
    assert text(refused.body, "status/code") == "400"
    assert text(refused.body, "status/message") == "Invalid input: the body is larger than 64 KiB"
    assert balance() == 800
    # One byte less is read and redeemed: the size alone was refused.
    read = send_redeem(padded_xml(MAX_BODY_BYTES), "text/xml", {"format": "xml"})
    assert read.status == 200
    assert text(read.body, "responses/points/item_status/code") == "800"
    assert balance() == 700
