"""The Idempotency-Key is a declared header: a request that repeats it is refused before anything runs, since
either value could be the one a retry sends."""

from __future__ import annotations

import json

from tests.conftest import Aws
from tests.factories import JANE, api_event, org_config, seed_jane, seed_org
from tests.invoke import invoke


def test_a_repeated_key_is_400_and_nothing_is_redeemed(aws: Aws) -> None:
    # Given Jane with her points, and a redeem that names two keys
    seed_org(org_config(allow_skip_validation=True))
    seed_jane()
    body = json.dumps({"root": {"redeem": {"points_redeemed": 10, "customer": {"mobile": JANE}}}})
    event = api_event("POST", "/v1.1/points/redeem", {"skip_validation": "true"}, body=body)
    event["multiValueHeaders"] = {"Idempotency-Key": ["k-1", "k-2"], "Content-Type": ["application/json"]}
    event["headers"]["Idempotency-Key"] = "k-2"

    # When it arrives
    response = invoke("redeem", event)

    # Then it is refused as input, and a single-key retry still redeems exactly once
    assert response["statusCode"] == 400
    status = json.loads(response["body"])["response"]["status"]
    assert (status["code"], status["message"]) == (400, "Invalid input: invalid idempotency-key")
    once = api_event(
        "POST",
        "/v1.1/points/redeem",
        {"skip_validation": "true"},
        body=body,
        headers={"Idempotency-Key": "k-2"},
    )
    first, again = invoke("redeem", once), invoke("redeem", dict(once))
    assert first["body"] == again["body"]
    assert json.loads(first["body"])["response"]["responses"]["points"]["balance"] == 790
