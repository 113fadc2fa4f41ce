"""End to end over HTTP: a code requested, read from the local outbox, checked; the cleanup on demand."""

from __future__ import annotations

import json
import logging
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from points_admin.cli import main as admin
from points_core.repositories.keys import otp_state
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

RAVI = "919000000002"
CODE = "/v1.1/points/validationcode"
REDEEMABLE = "/v1.1/points/isredeemable"


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


def customer_of_its_own(api: Api, folder: Path, customer_id: str) -> str:
    """A customer with 3,000 points and a mobile only (so one SMS per code), loaded with the operator tool."""
    mobile = f"91900000{customer_id}"
    customers = folder / "customers.csv"
    customers.write_text(f"customer_id,mobile,first_name\n{customer_id},{mobile},Codes\n")
    allocations = folder / "allocations.csv"
    allocations.write_text(
        "customer_id,program_id,allocation_id,points,awarded_at,expires_at\n"
        f"{customer_id},973,{customer_id}-A,3000,2026-01-01T00:00:00+05:30,2031-01-01T00:00:00+05:30\n"
    )
    assert admin([*api.admin_options, "import-customers", str(customers), "--org", "100737"]) == 0
    assert admin([*api.admin_options, "import-allocations", str(allocations), "--org", "100737"]) == 0
    return mobile


def ask_for_code(api: Api, mobile: str, points: str) -> str:
    """The code the customer receives for asking for `points`."""
    assert api.get(CODE, {"format": "json", "mobile": mobile, "points": points}).status == 200
    code: str = outbox(api, mobile)[0]["message"].split()[0]
    return code


def checked(api: Api, mobile: str, points: str, code: str) -> int:
    body = api.get(
        REDEEMABLE, {"format": "json", "mobile": mobile, "points": points, "validation_code": code}
    ).body
    status: int = body["response"]["points"]["redeemable"]["item_status"]["code"]
    return status


def test_a_codes_points_never_grow(api: Api, tmp_path: Path) -> None:
    # Given
    mobile = customer_of_its_own(api, tmp_path, "7301")
    first = ask_for_code(api, mobile, "100")

    # When, then: fewer points re-send the same code, still good for 100
    assert ask_for_code(api, mobile, "50") == first
    assert checked(api, mobile, "100", first) == 800

    # When, then: more points send a new code; the first is dead for any points
    second = ask_for_code(api, mobile, "2000")
    assert second != first
    assert checked(api, mobile, "100", first) == 808
    assert checked(api, mobile, "2000", first) == 808
    assert checked(api, mobile, "2000", second) == 800
    assert len(outbox(api, mobile)) == 3


def test_simultaneous_wrong_guesses_count_no_more_than_the_limit(api: Api, tmp_path: Path) -> None:
    # Given: a code (the demo org allows five wrong attempts)
    mobile = customer_of_its_own(api, tmp_path, "7302")
    code = ask_for_code(api, mobile, "100")
    guesses = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 9)]

    # When: eight wrong guesses at once
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda guess: checked(api, mobile, "100", guess), guesses))

    # Then: all refused, five attempts counted (each by the write that compared its verifier), and the right
    # code is dead
    assert answers == [808] * 8
    options = dict(zip(api.admin_options[::2], api.admin_options[1::2], strict=True))
    client = boto3.client("dynamodb", endpoint_url=options["--endpoint-url"], region_name="eu-west-1")
    # The local stack names each table by its logical id in template.yaml.
    state = client.get_item(TableName="OtpTable", Key=otp_state(100737, "7302"))["Item"]
    assert int(state["c973_attempts"]["N"]) == 5
    assert checked(api, mobile, "100", code) == 808


def test_simultaneous_redemptions_with_wrong_codes_count_no_more_than_the_limit(
    api: Api, tmp_path: Path
) -> None:
    # Given: a code (the demo org allows five wrong attempts)
    mobile = customer_of_its_own(api, tmp_path, "7304")
    code = ask_for_code(api, mobile, "100")
    guesses = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 9)]

    def redeem(guess: str) -> int:
        item = {"points_redeemed": "100", "customer": {"mobile": mobile}, "validation_code": guess}
        body = api.post(
            "/v1.1/points/redeem", {"format": "json"}, json.dumps({"root": {"redeem": item}})
        ).body
        status: int = body["response"]["responses"]["points"]["item_status"]["code"]
        return status

    # When: eight redemptions with wrong codes at once
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(redeem, guesses))

    # Then: all refused, five attempts counted, and the right code is dead for redeem and isredeemable alike
    assert answers == [808] * 8
    options = dict(zip(api.admin_options[::2], api.admin_options[1::2], strict=True))
    client = boto3.client("dynamodb", endpoint_url=options["--endpoint-url"], region_name="eu-west-1")
    state = client.get_item(TableName="OtpTable", Key=otp_state(100737, "7304"))["Item"]
    assert int(state["c973_attempts"]["N"]) == 5
    assert redeem(code) == 808
    assert checked(api, mobile, "100", code) == 808


def test_a_right_code_never_counts_however_often_it_is_checked(api: Api, tmp_path: Path) -> None:
    # Given: four wrong attempts of the demo org's five
    mobile = customer_of_its_own(api, tmp_path, "7303")
    code = ask_for_code(api, mobile, "100")
    for n in range(1, 5):
        assert checked(api, mobile, "100", f"{(int(code) + n) % 1_000_000:06d}") == 808

    # When: the right code is checked ten times
    answers = [checked(api, mobile, "100", code) for _ in range(10)]

    # Then: it passes every time and still four attempts are counted
    assert answers == [800] * 10
    options = dict(zip(api.admin_options[::2], api.admin_options[1::2], strict=True))
    client = boto3.client("dynamodb", endpoint_url=options["--endpoint-url"], region_name="eu-west-1")
    state = client.get_item(TableName="OtpTable", Key=otp_state(100737, "7303"))["Item"]
    assert int(state["c973_attempts"]["N"]) == 4
