"""Validation codes against moto: validationcode, and isredeemable with issue_otp or validation_code."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from points_core.aws.clients import sns_client
from points_core.aws.secrets import otp_secret
from points_core.domain.codes import Item, Otp
from points_core.domain.models import OtpSettings
from points_core.domain.validation_codes import code_verifier
from points_core.repositories import customer_repository, otp_repository
from points_core.repositories.keys import otp_state
from points_core.services.validation_codes import ValidationCodeRequest, issue_validation_code
from tests.conftest import Aws
from tests.factories import JANE, allocation, caller, org_config, profile, program, seed_customer, seed_org
from tests.invoke import call_api

CODE_PATH = "/v1.1/points/validationcode"
CHECK_PATH = "/v1.1/points/isredeemable"

Call = Callable[..., tuple[int, dict[str, str], dict[str, Any]]]


def seed(otp: OtpSettings) -> None:
    seed_org(org_config(programs=(program(973, min_points=Decimal(10)),), otp=otp))
    seed_customer(profile("1001", JANE, email="jane.doe@example.com"), allocation("2000"))
    seed_customer(profile("1002", "", email="no.phone@example.com"), allocation("2000"))


@pytest.fixture
def otp_settings() -> OtpSettings:
    return OtpSettings(channels="sms", max_sends=3, window_minutes=60, max_attempts=3, validity_minutes=10)


@pytest.fixture
def call(aws: Aws, otp_settings: OtpSettings) -> Call:
    seed(otp_settings)

    def invoke(path: str, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        answer = call_api("validation_code" if path == CODE_PATH else "is_redeemable", "GET", path, query)
        return answer.status, {name: answer.header(name) for name in answer.headers}, answer.body

    return invoke


def last_code(aws: Aws) -> str:
    """The code in the newest SMS, as the customer reads it."""
    _, text = aws.sms_sent()[-1]
    match = re.match(r"^(\S+) is your validation code", text)
    assert match, text
    return match.group(1)


def issued(body: dict[str, Any]) -> dict[str, Any]:
    code: dict[str, Any] = body["response"]["validation_code"]["code"]
    return code


def checked(body: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = body["response"]["points"]["redeemable"]
    return item


def check(call: Call, points: str, code: str) -> Any:
    """The item code of isredeemable for Jane's `points` with this validation code."""
    return checked(call(CHECK_PATH, {"mobile": JANE, "points": points, "validation_code": code})[2])[
        "item_status"
    ]["code"]


def fail_sns(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Publish")

    monkeypatch.setattr(sns_client(), "publish", refuse)


class TestValidationCode:
    def test_a_code_is_sent_by_sms_and_never_returned(self, aws: Aws, call: Call) -> None:
        # When
        status, headers, body = call(CODE_PATH, {"format": "json", "mobile": JANE, "points": "100"})

        # Then
        assert status == 200
        assert body == {
            "response": {
                "status": {"success": "true", "code": 200, "message": "Operation Successful"},
                "validation_code": {
                    "code": {
                        "user_id": "1001",
                        "mobile": JANE,
                        "email": "jane.doe@example.com",
                        "external_id": "EXT-1001",
                        "points": 100,
                        "item_status": {
                            "success": "true",
                            "code": 200,
                            "message": "Validation Code Issued by SMS",
                        },
                    }
                },
            }
        }
        phone, text = aws.sms_sent()[-1]
        code = last_code(aws)
        assert phone == "+" + JANE
        assert re.fullmatch(r"[0-9]{6}", code)
        assert text == f"{code} is your validation code to redeem 100 points. It is valid for 10 minutes."
        assert code not in json.dumps(body) + json.dumps(headers)

    def test_both_channels_and_the_email_contract(self, aws: Aws, call: Call) -> None:
        # Given
        seed(OtpSettings(channels="both"))

        # When
        status, _, body = call(CODE_PATH, {"email": "jane.doe@example.com", "points": "50"})

        # Then
        assert (status, issued(body)["item_status"]["message"]) == (
            200,
            "Validation Code Issued by SMS and Email",
        )
        text, attributes = aws.emails_sent()[-1]
        assert text.startswith(last_code(aws) + " is your validation code")
        assert attributes["channel"] == {"Type": "String", "Value": "email"}
        assert attributes["destination"] == {"Type": "String", "Value": "jane.doe@example.com"}
        assert attributes["org_id"] == {"Type": "String", "Value": "100737"}

    def test_email_only_and_a_customer_without_a_phone(self, aws: Aws, call: Call) -> None:
        seed(OtpSettings(channels="both"))
        status, _, body = call(CODE_PATH, {"id": "1002", "points": "50"})
        assert (status, issued(body)["item_status"]["message"]) == (200, "Validation Code Issued by Email")
        seed(OtpSettings(channels="sms"))
        status, _, body = call(CODE_PATH, {"id": "1002", "points": "50"})
        assert (status, issued(body)["item_status"]["code"]) == (200, 860)

    def test_asking_again_while_valid_re_sends_the_same_code(self, aws: Aws, call: Call) -> None:
        # Given
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        first = last_code(aws)

        # When
        call(CODE_PATH, {"mobile": "9000000001", "points": "100"})

        # Then
        assert last_code(aws) == first
        assert len(aws.sms_sent()) == 2

    def test_past_the_send_limit_429_with_retry_after(self, aws: Aws, call: Call) -> None:
        # Given
        for _ in range(3):
            assert call(CODE_PATH, {"mobile": JANE, "points": "100"})[0] == 200

        # When
        status, headers, body = call(CODE_PATH, {"mobile": JANE, "points": "100"})

        # Then
        assert status == 429
        assert 0 < int(headers["Retry-After"]) <= 3600
        assert body["response"]["status"] == {
            "success": "false",
            "code": 429,
            "message": "Rate limit exceeded",
        }
        assert issued(body)["item_status"]["code"] == 429
        assert len(aws.sms_sent()) == 3

    @pytest.mark.parametrize(
        ("query", "code"),
        [
            ({"mobile": "919999999999", "points": "10"}, 816),
            ({"mobile": "12ab", "points": "10"}, 802),
            ({"points": "10"}, 802),
            ({"mobile": JANE}, 801),
            ({"mobile": JANE, "points": "-100"}, 801),
            ({"mobile": JANE, "points": "1.0001"}, 878),
            ({"mobile": JANE, "points": "10", "program_id": "999"}, 1101),
        ],
    )
    def test_refusals(self, aws: Aws, call: Call, query: dict[str, str], code: int) -> None:
        status, _, body = call(CODE_PATH, query)
        assert (status, issued(body)["item_status"]["code"]) == (200, code)
        assert body["response"]["status"]["code"] == 500
        assert aws.sms_sent() == []

    def test_a_failed_delivery_is_860_counts_nothing_and_leaves_no_code(
        self, aws: Aws, call: Call, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # When: every delivery fails
        with monkeypatch.context() as failing:
            fail_sns(failing)
            for _ in range(5):
                status, _, body = call(CODE_PATH, {"mobile": JANE, "points": "100"})
                assert (status, issued(body)["item_status"]["code"]) == (200, 860)
                assert body["response"]["status"]["code"] == 500

        # Then: no send was counted and no code kept
        state = aws.dynamodb.get_item(TableName="OtpTable", Key=otp_state(100737, "1001")).get("Item", {})
        assert not any(name.startswith("c973_") for name in state)
        assert all(int(value["N"]) == 0 for name, value in state.items() if name.startswith("w"))
        for _ in range(3):
            assert call(CODE_PATH, {"mobile": JANE, "points": "100"})[0] == 200

    def test_a_failed_re_send_keeps_the_code_and_its_points(
        self, aws: Aws, call: Call, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        code = last_code(aws)

        # When
        with monkeypatch.context() as failing:
            fail_sns(failing)
            assert issued(call(CODE_PATH, {"mobile": JANE, "points": "900"})[2])["item_status"]["code"] == 860

        # Then
        assert check(call, "100", code) == 800
        assert check(call, "900", code) == 808

    def test_warm_two_dynamodb_round_trips_and_one_publish(
        self, call: Call, dynamodb_calls: list[str], sns_calls: list[str]
    ) -> None:
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        dynamodb_calls.clear()
        sns_calls.clear()
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        assert (dynamodb_calls, sns_calls) == (["GetItem", "UpdateItem"], ["Publish"])
        dynamodb_calls.clear()
        call(CODE_PATH, {"id": "1001", "points": "100"})
        assert dynamodb_calls == ["GetItem", "UpdateItem"]

    def test_the_code_is_in_no_log_line(self, aws: Aws, call: Call, logs: io.StringIO) -> None:
        # Given
        seed(OtpSettings(channels="both", alphabet="alphanumeric", length=10))
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        code = last_code(aws)
        assert re.fullmatch(r"[2-9A-HJ-NP-Z]{10}", code)

        # When
        call(CHECK_PATH, {"mobile": JANE, "points": "100", "validation_code": code})
        call(CHECK_PATH, {"mobile": JANE, "points": "100", "validation_code": "WRONG23456"})

        # Then
        written = logs.getvalue()
        assert "validation code sent" in written
        assert code not in written
        assert JANE not in written
        assert "jane.doe@example.com" not in written


def redeem_with(points: str, code: str) -> Any:
    """The item code of redeeming Jane's `points` with this validation code."""
    item = {"points_redeemed": points, "customer": {"mobile": JANE}, "validation_code": code}
    body = {"root": {"redeem": item}}
    answer = call_api("redeem", "POST", "/v1.1/points/redeem", {"format": "json"}, body=body)
    return answer.body["response"]["responses"]["points"]["item_status"]["code"]


class TestACodesPointsNeverGrow:
    def test_asking_for_more_points_sends_a_new_code_and_the_old_one_dies(self, aws: Aws, call: Call) -> None:
        # Given: a code for 100 points
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        first = last_code(aws)

        # When: the customer asks again, for 2,000
        status, _, body = call(CODE_PATH, {"mobile": JANE, "points": "2000"})
        second = last_code(aws)

        # Then: a new code, bound to 2,000; the first is refused for any points (two wrong attempts of the
        # fixture's three)
        assert (status, issued(body)["item_status"]["code"]) == (200, 200)
        assert second != first
        assert check(call, "100", first) == 808
        assert redeem_with("2000", first) == 808
        assert check(call, "100", second) == 800
        assert check(call, "2000", second) == 800
        assert redeem_with("2000", second) == 800

    def test_asking_for_fewer_points_re_sends_the_same_code_still_bound_to_the_first_points(
        self, aws: Aws, call: Call
    ) -> None:
        # Given
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        first = last_code(aws)

        # When
        assert call(CODE_PATH, {"mobile": JANE, "points": "50"})[0] == 200

        # Then: the same code, still good for the 100 it was issued for and no more
        assert last_code(aws) == first
        assert check(call, "100", first) == 800
        assert check(call, "100.001", first) == 808
        assert redeem_with("100", first) == 800

    def test_a_new_code_for_more_points_counts_toward_the_send_limit(self, aws: Aws, call: Call) -> None:
        # When: three sends (the fixture's limit), the points going up, down, then up
        for points in ("100", "2000", "50"):
            assert call(CODE_PATH, {"mobile": JANE, "points": points})[0] == 200

        # Then
        assert call(CODE_PATH, {"mobile": JANE, "points": "2000"})[0] == 429
        assert len(aws.sms_sent()) == 3

    def test_a_failed_delivery_of_a_new_code_keeps_the_old_one(
        self, aws: Aws, call: Call, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        first = last_code(aws)

        # When: the new code for more points cannot be delivered
        with monkeypatch.context() as failing:
            fail_sns(failing)
            assert issued(call(CODE_PATH, {"mobile": JANE, "points": "900"})[2])["item_status"]["code"] == 860

        # Then: the customer's code still works for its 100, the failed send did not count
        assert check(call, "100", first) == 800
        assert check(call, "900", first) == 808
        for _ in range(2):
            assert call(CODE_PATH, {"mobile": JANE, "points": "100"})[0] == 200
        assert last_code(aws) == first


class TestCheckingACode:
    def test_the_right_code_passes_and_is_not_consumed(self, aws: Aws, call: Call) -> None:
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        code = last_code(aws)
        for _ in range(2):
            status, _, body = call(CHECK_PATH, {"mobile": JANE, "points": "100", "validation_code": code})
            assert (status, checked(body)["item_status"]["code"]) == (200, 800)

    def test_the_code_is_bound_to_its_points(self, aws: Aws, call: Call) -> None:
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        code = last_code(aws)
        assert check(call, "60", code) == 800
        body = call(CHECK_PATH, {"mobile": JANE, "points": "150", "validation_code": code})[2]
        assert checked(body)["item_status"] == {
            "success": "false",
            "code": 808,
            "message": "Unable to redeem. Validation code is invalid",
        }

    def test_too_many_wrong_attempts_kill_the_code_until_a_new_one_is_issued(
        self, aws: Aws, call: Call
    ) -> None:
        # Given
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        code = last_code(aws)
        wrong = "000000" if code != "000000" else "111111"

        # When
        for _ in range(3):
            assert check(call, "100", wrong) == 808

        # Then
        assert check(call, "100", code) == 808
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        renewed = last_code(aws)
        assert renewed != code
        assert check(call, "100", renewed) == 800

    def test_no_code_issued_is_808(self, call: Call) -> None:
        assert check(call, "100", "123456") == 808

    def test_skipping_validation_ignores_the_code(self, call: Call) -> None:
        for skip in (
            {"skip_validation": "true"},
            {"validation_type": "INVALID"},
            {"validation_type": "invalid"},
        ):
            body = call(CHECK_PATH, {"mobile": JANE, "points": "100", "validation_code": "123456", **skip})[2]
            assert checked(body)["item_status"]["code"] == 800, skip

    def test_missed_call_validation_is_not_offered_823(self, call: Call) -> None:
        body = call(CHECK_PATH, {"mobile": JANE, "points": "100", "validation_type": "MISSED_CALL"})[2]
        assert checked(body)["item_status"]["code"] == 823

    def test_an_unknown_validation_type_is_400(self, call: Call) -> None:
        status, _, body = call(
            CHECK_PATH, {"mobile": JANE, "points": "100", "validation_type": "CARRIER_PIGEON"}
        )
        assert status == 400
        assert "validation_type" in body["response"]["status"]["message"]

    def test_the_rules_answer_before_the_code_is_looked_at(self, aws: Aws, call: Call) -> None:
        assert check(call, "5000", "000000") == 818


class TestIssueOtp:
    def test_issue_otp_sends_a_code_once_the_checks_pass(self, aws: Aws, call: Call) -> None:
        status, _, body = call(CHECK_PATH, {"mobile": JANE, "points": "100", "issue_otp": "true"})
        assert (status, checked(body)["item_status"]["code"]) == (200, 800)
        code = last_code(aws)
        assert check(call, "100", code) == 800

    def test_no_code_when_a_rule_fails(self, aws: Aws, call: Call) -> None:
        call(CHECK_PATH, {"mobile": JANE, "points": "5000", "issue_otp": "true"})
        assert aws.sms_sent() == []

    def test_a_failed_delivery_is_a_success_with_warning_876(
        self, call: Call, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Given
        fail_sns(monkeypatch)

        # When
        status, _, body = call(CHECK_PATH, {"mobile": JANE, "points": "100", "issue_otp": "true"})

        # Then
        assert status == 200
        assert body["response"]["status"] == {"success": "true", "code": 200, "message": "Success"}
        assert checked(body)["is_redeemable"] == "true"
        assert checked(body)["item_status"] == {
            "success": "true",
            "code": 876,
            "message": "Points Redeemable but OTP Generation failed",
        }

    def test_the_send_limit_applies_to_issue_otp_too(self, aws: Aws, call: Call) -> None:
        # Given
        for _ in range(3):
            call(CODE_PATH, {"mobile": JANE, "points": "100"})

        # When
        status, headers, body = call(CHECK_PATH, {"mobile": JANE, "points": "100", "issue_otp": "true"})

        # Then
        assert status == 429
        assert int(headers["Retry-After"]) > 0
        assert checked(body)["item_status"]["code"] == 429


class TestTime:
    """Time is injected through the service: expiry and windows without sleeping."""

    def issue(self, at: datetime) -> None:
        outcome = issue_validation_code(caller(), ValidationCodeRequest({"mobile": JANE}, "100"), at)
        assert outcome.success, outcome.status

    def test_a_new_code_after_expiry_and_the_expired_one_is_refused_while_its_item_exists(
        self, aws: Aws, call: Call
    ) -> None:
        start = datetime.now(UTC) - timedelta(minutes=30)
        self.issue(start)
        expired = last_code(aws)
        item = aws.dynamodb.get_item(TableName="OtpTable", Key=otp_state(100737, "1001"))["Item"]
        assert int(item["c973_expires"]["N"]) < datetime.now(UTC).timestamp()
        assert check(call, "100", expired) == 808
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        assert last_code(aws) != expired

    def test_the_send_window_starts_again(self, aws: Aws, call: Call, otp_settings: OtpSettings) -> None:
        earlier = datetime.now(UTC) - timedelta(minutes=otp_settings.window_minutes)
        for _ in range(3):
            self.issue(earlier)
        assert call(CODE_PATH, {"mobile": JANE, "points": "100"})[0] == 200

    def test_secrets_manager_holds_the_secret_in_aws(
        self, aws: Aws, call: Call, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import boto3

        from tests.conftest import REGION, clear_caches

        # Given
        arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="OtpSecret", SecretString="s" * 64
        )["ARN"]
        monkeypatch.delenv("OTP_SECRET")
        monkeypatch.setenv("OTP_SECRET_ARN", arn)
        clear_caches()

        # When
        call(CODE_PATH, {"mobile": JANE, "points": "100"})
        code = last_code(aws)

        # Then
        assert check(call, "100", code) == 800


def test_the_state_item_keeps_no_code(aws: Aws, call: Call) -> None:
    # When
    call(CODE_PATH, {"mobile": JANE, "points": "100"})
    code = last_code(aws)

    # Then
    item = aws.dynamodb.get_item(TableName="OtpTable", Key=otp_state(100737, "1001"))["Item"]
    assert code not in json.dumps(item)
    assert set(item) >= {
        "c973_nonce",
        "c973_expires",
        "c973_points",
        "c973_attempts",
        "c973_verifier",
        "expires_at",
        "expiry_bucket",
    }
    # The verifier: an HMAC of the code under the server secret, not the code
    assert item["c973_verifier"]["S"] == code_verifier(otp_secret(), 100737, "1001", 973, code)
    assert otp_repository().table == "OtpTable"


def test_item_codes_exist_in_the_catalogue() -> None:
    assert (Item.OTP_NOT_ISSUED.code, Item.REDEEMABLE_OTP_FAILED.code, Otp.RATE_LIMITED.code) == (
        860,
        876,
        429,
    )


def test_concurrent_requests_send_one_code_and_respect_the_limit(aws: Aws, call: Call) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # Given
    now = datetime.now(UTC)

    # When
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(
            pool.map(
                lambda _: issue_validation_code(
                    caller(), ValidationCodeRequest({"mobile": JANE}, "100"), now
                ),
                range(8),
            )
        )

    # Then
    sent = [outcome for outcome in outcomes if outcome.success]
    assert len(sent) == 3
    assert {outcome.status.code for outcome in outcomes if not outcome.success} == {429}
    assert len({text.split()[0] for _, text in aws.sms_sent()}) == 1
    assert len(aws.sms_sent()) == 3


def wrong_guesses(code: str, count: int) -> list[str]:
    """`count` distinct codes of the same shape, none of them `code`."""
    return [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, count + 1)]


def stored_attempts(aws: Aws) -> int:
    item = aws.dynamodb.get_item(TableName="OtpTable", Key=otp_state(100737, "1001"))["Item"]
    return int(item["c973_attempts"]["N"])


def refusal_reasons(logs: io.StringIO) -> list[str]:
    """Why each refused code was refused, as logged (one line per refusal)."""
    lines = (json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{"))
    return [line["reason"] for line in lines if line.get("message") == "validation code refused"]


@pytest.mark.parametrize("guesses", [8, 20])
def test_simultaneous_wrong_guesses_count_and_answer_no_more_than_the_limit(
    aws: Aws, call: Call, monkeypatch: pytest.MonkeyPatch, logs: io.StringIO, guesses: int
) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from points_core.repositories.customers import CustomerRepository
    from points_core.repositories.otp import Checked, OtpRepository
    from points_core.services.redeemability import RedeemableQuery, check_redeemable

    # Given: a code, and every guess past its rules before any of them checks its code
    call(CODE_PATH, {"mobile": JANE, "points": "100"})
    code = last_code(aws)
    counted: list[bool] = []
    count_unless_right = OtpRepository.count_unless_right

    def counting(self: OtpRepository, *args: Any, **kwargs: Any) -> Checked:
        checked_code = count_unless_right(self, *args, **kwargs)
        counted.append(checked_code.counted)
        return checked_code

    read = CustomerRepository.profile_and_wallet
    all_read = threading.Barrier(guesses, timeout=20)

    def read_together(self: CustomerRepository, *args: Any, **kwargs: Any) -> Any:
        snapshot = read(self, *args, **kwargs)
        all_read.wait()
        return snapshot

    monkeypatch.setattr(OtpRepository, "count_unless_right", counting)
    monkeypatch.setattr(CustomerRepository, "profile_and_wallet", read_together)
    now = datetime.now(UTC)
    logs.seek(0)
    logs.truncate()

    # When: the wrong guesses arrive at once
    with ThreadPoolExecutor(guesses) as pool:
        outcomes = list(
            pool.map(
                lambda guess: check_redeemable(
                    caller(), RedeemableQuery({"mobile": JANE}, "100", validation_code=guess), now
                ),
                wrong_guesses(code, guesses),
            )
        )

    # Then: all refused; each checked by one conditional write, of which exactly the fixture's limit of three
    # compared and counted a wrong code; the others were refused as dead, comparing nothing; the code is dead
    assert {outcome.status.code for outcome in outcomes} == {808}
    assert len(counted) == guesses
    assert counted.count(True) == 3
    assert stored_attempts(aws) == 3
    assert sorted(refusal_reasons(logs)) == sorted(
        ["wrong code"] * 3 + ["too many wrong attempts"] * (guesses - 3)
    )
    monkeypatch.undo()
    assert check(call, "100", code) == 808


@pytest.mark.parametrize("wrong", [8, 20])
def test_simultaneous_redemptions_with_guesses_check_no_more_than_the_limit(
    aws: Aws, call: Call, monkeypatch: pytest.MonkeyPatch, logs: io.StringIO, wrong: int
) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from points_core.repositories.customers import CustomerRepository
    from points_core.services.redemption import RedeemItem, RedeemOptions, redeem_item

    # Given: a code, and redemptions (the wrong guesses, then the right code) that all read the wallet before
    # any of them checks its code
    call(CODE_PATH, {"mobile": JANE, "points": "100"})
    code = last_code(aws)
    guesses = [*wrong_guesses(code, wrong), code]
    read = CustomerRepository.profile_and_wallet
    all_read = threading.Barrier(len(guesses), timeout=20)
    first_read = threading.local()

    def read_together(self: CustomerRepository, *args: Any, **kwargs: Any) -> Any:
        snapshot = read(self, *args, **kwargs)
        if not getattr(first_read, "done", False):  # a redemption read again (its retry) waits for none
            first_read.done = True
            all_read.wait()
        return snapshot

    monkeypatch.setattr(CustomerRepository, "profile_and_wallet", read_together)
    now = datetime.now(UTC)
    logs.seek(0)
    logs.truncate()

    def redeem(guess: str) -> int:
        item = RedeemItem({"mobile": JANE}, "100", validation_code=guess)
        return redeem_item(caller(), item, RedeemOptions(), lambda: now).status.code

    # When: they arrive at once
    with ThreadPoolExecutor(len(guesses)) as pool:
        outcomes = dict(zip(guesses, pool.map(redeem, guesses), strict=True))

    # Then: every wrong guess refused, and never more than the fixture's limit of three compared, and counted.
    # Either the right code was checked before the third wrong one was counted: it redeemed, used the code up,
    # and the guesses after it found none; or it was not: exactly three wrong ones were compared, the others
    # (the right code too) refused as dead without comparing
    assert {outcomes[guess] for guess in guesses[:-1]} == {808}
    reasons = refusal_reasons(logs)
    redeemed = outcomes[code] == 800
    assert outcomes[code] in (800, 808)
    assert len(reasons) == len(guesses) - redeemed
    if redeemed:  # the code was used up after fewer than three wrong ones; the later guesses found none
        assert reasons.count("wrong code") <= 2
        assert set(reasons) <= {"wrong code", "none issued"}
        state = aws.dynamodb.get_item(TableName="OtpTable", Key=otp_state(100737, "1001"))["Item"]
        assert "c973_attempts" not in state
    else:
        assert reasons.count("wrong code") == 3
        assert stored_attempts(aws) == 3
    wallet = customer_repository().wallet(100737, "1001", 973)
    assert wallet is not None
    assert wallet.balance(now) == (1900 if redeemed else 2000)


def test_a_right_code_checked_again_and_again_never_counts(aws: Aws, call: Call) -> None:
    # Given
    call(CODE_PATH, {"mobile": JANE, "points": "100"})
    code = last_code(aws)

    # When: the right code is checked ten times (more than the fixture's three attempts)
    answers = [check(call, "100", code) for _ in range(10)]

    # Then: every check passes and none counted; three wrong ones still kill it
    assert answers == [800] * 10
    assert stored_attempts(aws) == 0
    for wrong in wrong_guesses(code, 3):
        assert check(call, "100", wrong) == 808
    assert stored_attempts(aws) == 3
    assert check(call, "100", code) == 808


def test_four_wrong_codes_then_the_right_one_passes_and_redeem_consumes_it(aws: Aws, call: Call) -> None:
    # Given: a code allowed five wrong attempts, and four of them used
    seed(OtpSettings(channels="sms", max_attempts=5))
    call(CODE_PATH, {"mobile": JANE, "points": "100"})
    code = last_code(aws)
    for wrong in wrong_guesses(code, 4):
        assert check(call, "100", wrong) == 808

    # When
    answers = [check(call, "100", code) for _ in range(3)]

    # Then: the right code passes, counts nothing, and a redemption with it consumes it
    assert answers == [800] * 3
    assert stored_attempts(aws) == 4
    assert redeem_with("100", code) == 800
    item = aws.dynamodb.get_item(TableName="OtpTable", Key=otp_state(100737, "1001"))["Item"]
    assert not [name for name in item if name.startswith("c973_")]
    assert check(call, "100", code) == 808
    assert redeem_with("100", code) == 808


def test_a_code_issued_before_codes_had_a_verifier_is_refused_and_asking_again_sends_a_new_one(
    aws: Aws, call: Call
) -> None:
    # Given: a live code stored as it was before codes had a verifier
    call(CODE_PATH, {"mobile": JANE, "points": "100"})
    code = last_code(aws)
    aws.dynamodb.update_item(
        TableName="OtpTable", Key=otp_state(100737, "1001"), UpdateExpression="REMOVE c973_verifier"
    )

    # When, then: isredeemable and redeem refuse it without counting an attempt
    assert check(call, "100", code) == 808
    assert redeem_with("100", code) == 808
    assert stored_attempts(aws) == 0

    # When, then: asking again for the same points sends a new code, which checks out
    assert call(CODE_PATH, {"mobile": JANE, "points": "100"})[0] == 200
    renewed = last_code(aws)
    assert renewed != code
    assert check(call, "100", renewed) == 800
    assert check(call, "100", code) == 808


def test_warm_a_check_with_a_code_is_one_conditional_write_and_reads_no_code_state(
    aws: Aws, call: Call, dynamodb_calls: list[str]
) -> None:
    from points_core.aws.clients import dynamodb_client

    # Given
    call(CODE_PATH, {"mobile": JANE, "points": "100"})
    code = last_code(aws)
    assert check(call, "100", code) == 800
    tables_read: list[str] = []

    def record_tables(params: dict[str, Any], **_: Any) -> None:
        tables_read.extend(params["RequestItems"])

    dynamodb_client().meta.events.register("provide-client-params.dynamodb.BatchGetItem", record_tables)

    def calls_of(query: dict[str, str]) -> list[str]:
        dynamodb_calls.clear()
        call(CHECK_PATH, query)
        return list(dynamodb_calls)

    by_mobile = {"mobile": JANE, "points": "100"}
    by_id = {"id": "1001", "points": "100"}
    wrong = wrong_guesses(code, 1)[0]

    # When, then: right, wrong, or for more points than issued: one conditional write after the two reads (one
    # by id=), and never a give-back
    assert calls_of({**by_mobile, "validation_code": code}) == ["GetItem", "BatchGetItem", "UpdateItem"]
    assert calls_of({**by_mobile, "validation_code": wrong}) == ["GetItem", "BatchGetItem", "UpdateItem"]
    assert calls_of({**by_mobile, "points": "150", "validation_code": code}) == [
        "GetItem",
        "BatchGetItem",
        "UpdateItem",
    ]
    assert calls_of({**by_id, "validation_code": code}) == ["BatchGetItem", "UpdateItem"]
    assert calls_of({**by_id, "validation_code": wrong}) == ["BatchGetItem", "UpdateItem"]
    # Without a code, or when a rule refuses first: no write at all
    assert calls_of(by_mobile) == ["GetItem", "BatchGetItem"]
    assert calls_of(by_id) == ["BatchGetItem"]
    assert calls_of({**by_mobile, "points": "5000", "validation_code": code}) == ["GetItem", "BatchGetItem"]
    dynamodb_client().meta.events.unregister("provide-client-params.dynamodb.BatchGetItem", record_tables)
    assert "OtpTable" not in tables_read
    assert stored_attempts(aws) == 2
