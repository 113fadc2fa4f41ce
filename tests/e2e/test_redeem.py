"""End to end over HTTP: redeem once, retry safely (Idempotency-Key and external_reference_number)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

REDEEM = "/v1.1/points/redeem"


def body(points: int, reference: str) -> str:
    item = {
        "points_redeemed": points,
        "customer": {"external_id": "EXT-1002"},
        "external_reference_number": reference,
    }
    return json.dumps({"root": {"redeem": item}})


def test_a_retried_redemption_never_redeems_twice(api: Api) -> None:
    query = {"format": "json", "skip_validation": "true"}
    first = api.post(REDEEM, query, body(100, "E2E-1"), {"Idempotency-Key": "e2e-key-1"})
    replay = api.post(REDEEM, query, body(100, "E2E-1"), {"Idempotency-Key": "e2e-key-1"})
    assert first.status == replay.status == 200
    assert replay.body == first.body
    redeemed = first.body["response"]["responses"]["points"]
    assert redeemed["item_status"]["code"] == 800

    again = api.post(REDEEM, query, body(100, "E2E-1")).body["response"]["responses"]["points"]
    assert again["item_status"]["code"] == 744
    assert (again["redemption_id"], again["balance"]) == (redeemed["redemption_id"], redeemed["balance"])
    assert api.post(REDEEM, query, body(200, "E2E-1"), {"Idempotency-Key": "e2e-key-1"}).status == 422
