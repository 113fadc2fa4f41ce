"""Input bounds over HTTP, through the local gateway: what was a 500, a 502 or an HTML 501 is a clear code."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import Api, Reply, _send
from tests.factories import basic_auth

pytestmark = pytest.mark.e2e

IS_REDEEMABLE = "/v1.1/points/isredeemable"
REDEEM = "/v1.1/points/redeem"
JANE = "919000000001"


def request(api: Api, method: str, target: str, body: bytes | None = None) -> Reply:
    headers = {"Authorization": basic_auth("demo.till", "demo-till-password"), "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return _send(urllib.request.Request(f"{api.url}{target}", data=body, method=method, headers=headers))


def redeemable(reply: Reply) -> dict[str, Any]:
    assert reply.status == 200, reply.body
    item: dict[str, Any] = reply.body["response"]["points"]["redeemable"]
    return item


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"id": "²", "points": "100"}, 802),
        ({"mobile": JANE, "points": "100", "program_id": "²"}, 1101),
        ({"mobile": JANE, "points": "²"}, 801),
        ({"mobile": JANE, "points": "\uff11\uff10\uff10"}, 801),  # full-width 100
        ({"mobile": JANE, "points": "1_000"}, 801),
    ],
)
def test_digits_other_than_ascii_are_the_fields_code_not_a_500(
    api: Api, query: dict[str, str], code: int
) -> None:
    assert redeemable(api.get(IS_REDEEMABLE, {"format": "json", **query}))["item_status"]["code"] == code


@pytest.mark.parametrize("points", ["1e1000000", "1e999999"])
def test_points_past_10_to_the_12_are_801_in_a_small_answer(api: Api, points: str) -> None:
    reply = api.get(IS_REDEEMABLE, {"format": "json", "mobile": JANE, "points": points})
    item = redeemable(reply)
    assert (item["item_status"]["code"], item["points"]) == (801, 0)
    assert len(json.dumps(reply.body)) < 2000


def test_a_repeated_identifier_is_400_naming_it(api: Api) -> None:
    query = urlencode([("format", "json"), ("mobile", JANE), ("mobile", "919000000002"), ("points", "1")])
    reply = request(api, "GET", f"{IS_REDEEMABLE}?{query}")
    assert reply.status == 400
    assert reply.body["response"]["status"]["message"] == "Invalid input: mobile is given more than once"


def test_a_body_over_64_kib_is_400(api: Api) -> None:
    body = {"root": {"redeem": {"points_redeemed": 1, "customer": {"mobile": JANE}, "notes": "n" * 70_000}}}
    reply = request(api, "POST", f"{REDEEM}?format=json&skip_validation=true", json.dumps(body).encode())
    assert reply.status == 400
    assert reply.body["response"]["status"]["message"] == "Invalid input: the body is larger than 64 KiB"


def test_a_lone_surrogate_echoed_is_answered_not_a_502(api: Api) -> None:
    body = b'{"root": {"redeem": {"points_redeemed": 1, "customer": {"mobile": "\\ud800"}}}}'
    reply = request(api, "POST", f"{REDEEM}?format=json&skip_validation=true", body)
    assert reply.status == 200
    points = reply.body["response"]["responses"]["points"]
    assert (points["mobile"], points["item_status"]["code"]) == ("\ufffd", 802)


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECT"])
def test_any_method_is_answered_by_the_gateway_in_the_envelope(api: Api, method: str) -> None:
    unknown = request(api, method, "/v1.1/points/nothing")
    assert unknown.status == 404
    assert unknown.body["response"]["status"]["code"] == 404
    # On a path of ours: what any other method the path does not take answers.
    known, deleted = request(api, method, IS_REDEEMABLE), request(api, "DELETE", IS_REDEEMABLE)
    assert (known.status, known.body) == (deleted.status, deleted.body)
    assert known.status in (404, 405)
