"""A method a path does not take: template.yaml routes each path's ANY to its function, which answers HTTP 405
in the envelope (request code 405, "Incorrect HTTP method") with `Allow`, before reading anything (no AWS
here: nothing is touched)."""

from __future__ import annotations

import pytest

from tests.factories import JANE
from tests.invoke import call_api

XML_TYPE = "application/xml; charset=utf-8"
ROUTES = [
    ("is_redeemable", "/v1.1/points/isredeemable", "GET"),
    ("is_redeemable", "/v1.1/points/isredeemable.json", "GET"),
    ("validation_code", "/v1.1/points/validationcode", "GET"),
    ("redeem", "/v1.1/points/redeem", "POST"),
    ("redeem", "/v1.1/points/redeem.xml", "POST"),
    ("revert", "/v1.1/points/revert", "POST"),
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]


@pytest.mark.parametrize(
    ("function", "path", "allowed", "method"),
    [(*route, method) for route in ROUTES for method in METHODS if method != route[2]],
)
def test_another_method_on_a_v11_path_is_405_with_allow(
    function: str, path: str, allowed: str, method: str
) -> None:
    answer = call_api(function, method, path, {"format": "json"})
    assert answer.status == 405
    assert answer.header("Allow") == allowed
    assert answer.body == {
        "response": {"status": {"success": "false", "code": 405, "message": "Incorrect HTTP method"}}
    }


def test_another_method_on_the_v2_path_is_405_in_the_v2_envelope() -> None:
    body = {"redemptionId": "ZZZZZZ", "identifier": {"type": "mobile", "value": JANE}}
    answer = call_api("revert", "PUT", "/v2/points/reverse", body=body)
    assert (answer.status, answer.header("Allow")) == (405, "POST")
    assert answer.body["errors"] == [{"status": False, "code": 405, "message": "Incorrect HTTP method"}]


def test_the_405_is_xml_when_asked() -> None:
    answer = call_api("redeem", "DELETE", "/v1.1/points/redeem", {"format": "xml"}, headers={"Accept": None})
    assert (answer.status, answer.header("Content-Type")) == (405, XML_TYPE)
    assert answer.body.findtext("status/code") == "405"


def test_a_path_the_function_does_not_answer_is_still_404() -> None:
    answer = call_api("redeem", "PUT", "/v1.1/points/elsewhere")
    assert answer.status == 404
    assert "Allow" not in answer.headers
