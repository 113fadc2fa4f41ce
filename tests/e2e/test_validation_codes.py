"""End to end over HTTP: a code requested, read from the local outbox, checked; the cleanup on demand."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

RAVI = "919000000002"


def outbox(api: Api, destination: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{api.url}/_local/outbox?destination={destination}", timeout=10) as response:
        messages: list[dict[str, Any]] = json.load(response)["messages"]
    return messages


def test_a_code_goes_to_the_customer_and_checks_out(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="points_local.gateway")
    reply = api.get("/v1.1/points/validationcode", {"format": "json", "mobile": RAVI, "points": "100"})
    assert reply.status == 200
    item = reply.body["response"]["validation_code"]["code"]
    assert item["user_id"] == "1002"
    assert item["item_status"] == {
        "success": "true",
        "code": 200,
        "message": "Validation Code Issued by SMS and Email",
    }

    sms = outbox(api, RAVI)[0]
    email = outbox(api, "ravi.kumar@example.com")[0]
    code = sms["message"].split()[0]
    assert (sms["channel"], email["channel"]) == ("sms", "email")
    assert email["message"].split()[0] == code
    assert code not in json.dumps(reply.body)

    redeemable = "/v1.1/points/isredeemable"
    checked = api.get(redeemable, {"mobile": RAVI, "points": "100", "validation_code": code}).body
    assert checked["response"]["points"]["redeemable"]["item_status"]["code"] == 800
    too_much = api.get(redeemable, {"mobile": RAVI, "points": "101", "validation_code": code}).body
    assert too_much["response"]["points"]["redeemable"]["item_status"]["code"] == 808
    access_log = [record.getMessage() for record in caplog.records if record.name == "points_local.gateway"]
    assert any("validation_code" in line for line in access_log)
    assert not any(code in line or RAVI in line for line in access_log)


def test_the_cleanup_schedule_can_be_run_on_demand(api: Api) -> None:
    request = urllib.request.Request(f"{api.url}/_local/schedules/OtpCleanupFunction", method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        result = json.load(response)
    assert set(result) >= {"removed", "hours_read"}
