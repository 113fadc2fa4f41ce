"""POST /v1.1/points/redeem against moto: the debit, the code consumed, the reference, the codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from points_core.aws.settings import get_settings
from points_core.domain.models import OtpSettings, Redemption
from points_core.repositories import customer_repository, keys
from points_core.repositories import items as records
from tests.conftest import Aws
from tests.factories import (
    JANE,
    NOW,
    STORE_ID,
    TILL,
    allocation,
    org_config,
    program,
    seed_jane,
    seed_org,
)
from tests.invoke import ApiAnswer, call_api, function_module

PATH = "/v1.1/points/redeem"
Redeem = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def redeem(aws: Aws) -> Redeem:
    seed_org(
        org_config(
            programs=(program(973, ratio="0.5", min_points=Decimal(10)),),
            allow_skip_validation=True,
            otp=OtpSettings(channels="sms"),
        )
    )
    seed_jane(allocation("200", expires_in_days=-5, allocation_id="expired"))

    def call(body: Any, query: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        answer = call_api("redeem", "POST", PATH, query, body=body)
        return answer.status, answer.body

    return call


def one(points: Any = 100, **fields: Any) -> dict[str, Any]:
    return {"root": {"redeem": {"points_redeemed": points, "customer": {"mobile": JANE}, **fields}}}


def item(body: dict[str, Any]) -> dict[str, Any]:
    points: dict[str, Any] = body["response"]["responses"]["points"]
    return points


def balance() -> Decimal:
    wallet = customer_repository().wallet(100737, "1001", 973)
    assert wallet is not None
    return wallet.balance(NOW)


def test_a_redemption_debits_earliest_expiry_first_and_answers_the_reference_shape(redeem: Redeem) -> None:
    # When
    status, body = redeem(
        one(350, transaction_number="BILL-1", redemption_purpose="BILL_PAYMENT"), {"skip_validation": "true"}
    )

    # Then
    assert status == 200
    assert body["response"]["status"] == {"success": "true", "code": 200, "message": "Success"}
    redeemed = item(body)
    assert redeemed["item_status"] == {"success": "true", "code": 800, "message": "Points Redeemed"}
    assert (redeemed["points_redeemed"], redeemed["redeemed_value"], redeemed["balance"]) == ("350", 175, 450)
    assert redeemed["user_id"] == "1001"
    assert len(redeemed["redemption_id"]) == 6
    (effect,) = redeemed["side_effects"]["effect"]
    assert effect["redeemed_on_bill_number"] == "BILL-1"
    assert (effect["num_points"], effect["type"], effect["redeemed_on_bill_id"], effect["case_value"]) == (
        350,
        "points",
        -1,
        "false",
    )
    assert effect["points_redemption_summary_id"] == str(effect["id"])
    assert balance() == 450
    wallet = customer_repository().wallet(100737, "1001", 973)
    assert wallet is not None
    # "soon" spent (its bucket gone), "expired" pruned on the write; "late", 900 days out, keeps 450
    assert [(b.expires_at, b.points) for b in wallet.buckets] == [(NOW + timedelta(days=900), Decimal(450))]


def test_a_reused_reference_answers_744_with_the_original(redeem: Redeem) -> None:
    # Given
    first = item(redeem(one(100, external_reference_number="REF-1"), {"skip_validation": "true"})[1])

    # When
    status, body = redeem(one(100, external_reference_number="REF-1"), {"skip_validation": "true"})

    # Then
    assert status == 200
    assert body["response"]["status"]["code"] == 500
    again = item(body)
    assert again["item_status"] == {
        "success": "false",
        "code": 744,
        "message": "Reference number already exists",
    }
    assert (again["redemption_id"], again["balance"]) == (first["redemption_id"], first["balance"])
    assert balance() == 700


def test_skipping_validation_only_where_the_org_allows_it(aws: Aws, redeem: Redeem) -> None:
    seed_org(org_config(programs=(program(973),), allow_skip_validation=False))
    assert item(redeem(one(100), {"skip_validation": "true"})[1])["item_status"]["code"] == 824
    assert balance() == 800


@pytest.mark.parametrize(
    ("body", "query", "code"),
    [
        (one(100), {"validation_type": "MISSED_CALL"}, 823),
        (one(100, validation_code="123456"), {}, 808),
        (one(100), {}, 824),
        (one(100, validation_code=""), {}, 824),
        (one(100, validation_code="   "), {}, 824),
        (one(100, redemption_time="2001-01-01 10:00:00"), {"skip_validation": "true"}, 859),
        (one(100, redemption_time="yesterday"), {"skip_validation": "true"}, 859),
        (one(900), {"skip_validation": "true"}, 818),
        (one("10.0001"), {"skip_validation": "true"}, 878),
        (one(0), {"skip_validation": "true"}, 801),
        (
            {"root": {"redeem": {"points_redeemed": 10, "customer": {"mobile": "919999999999"}}}},
            {"skip_validation": "true"},
            816,
        ),
    ],
)
def test_refusals_leave_the_balance_alone(
    redeem: Redeem, body: dict[str, Any], query: dict[str, str], code: int
) -> None:
    status, answer = redeem(body, query)
    assert (status, item(answer)["item_status"]["code"]) == (200, code)
    assert item(answer)["side_effects"] == {"effect": []}
    assert balance() == 800


def test_several_items_each_on_their_own(redeem: Redeem) -> None:
    # Given
    body = {
        "root": {
            "redeem": [
                {"points_redeemed": 100, "customer": {"mobile": JANE}},
                {"points_redeemed": 5000, "customer": {"mobile": JANE}},
            ]
        }
    }

    # When
    status, answer = redeem(body, {"skip_validation": "true"})

    # Then
    assert status == 200
    assert answer["response"]["status"] == {
        "success": "false",
        "code": 201,
        "message": "One or more requests have failed due to errors",
    }
    first, second = answer["response"]["responses"]["points"]
    assert (first["item_status"]["code"], second["item_status"]["code"]) == (800, 818)
    assert balance() == 700


@pytest.mark.parametrize(
    "body", ["not json", "[]", '{"root": {}}', '{"root": {"redeem": []}}', '{"root": {"redeem": [1]}}']
)
def test_an_unusable_body_is_400(redeem: Redeem, body: str) -> None:
    status, answer = redeem(body)
    assert status == 400
    assert answer["response"]["status"]["code"] == 400


def last_code(aws: Aws) -> str:
    return aws.sms_sent()[-1][1].split()[0]


def request_code(points: str) -> None:
    answer = call_api(
        "validation_code", "GET", "/v1.1/points/validationcode", {"mobile": JANE, "points": points}
    )
    assert answer.status == 200


def test_the_code_is_consumed_by_the_redemption_and_only_then(aws: Aws, redeem: Redeem) -> None:
    request_code("100")
    code = last_code(aws)
    assert item(redeem(one(101, validation_code=code))[1])["item_status"]["code"] == 808
    redeemed = item(redeem(one(100, validation_code=code))[1])
    assert redeemed["item_status"]["code"] == 800
    assert redeemed["side_effects"]["effect"][0]["validation_code"] == code
    assert item(redeem(one(50, validation_code=code))[1])["item_status"]["code"] == 808
    assert balance() == 700
    request_code("50")
    assert last_code(aws) != code


def not_requiring_validation() -> None:
    """The fixture's org, configured as two real POS clients expect: no code needed, skipping not allowed."""
    seed_org(
        org_config(
            programs=(program(973, ratio="0.5", min_points=Decimal(10)),),
            validation_required=False,
            otp=OtpSettings(channels="sms"),
        )
    )


def test_an_org_not_requiring_validation_redeems_without_a_code(redeem: Redeem) -> None:
    # Given
    not_requiring_validation()

    # When: an empty code and no skip_validation, as those clients send it; then no code at all
    status, body = redeem(one(100, validation_code=""))
    without = item(redeem(one(50))[1])

    # Then
    assert (status, item(body)["item_status"]["code"], without["item_status"]["code"]) == (200, 800, 800)
    assert item(body)["side_effects"]["effect"][0]["validation_code"] == ""
    assert balance() == 650


def test_an_org_requiring_validation_refuses_an_empty_code_with_824(redeem: Redeem) -> None:
    # When: the fixture's org requires validation (the default)
    status, body = redeem(one(100, validation_code=""))

    # Then
    assert (status, item(body)["item_status"]["code"]) == (200, 824)
    assert item(body)["side_effects"] == {"effect": []}
    assert balance() == 800


@pytest.mark.parametrize("required", [True, False])
def test_a_wrong_code_is_808_whether_or_not_the_org_requires_validation(
    aws: Aws, redeem: Redeem, required: bool
) -> None:
    # Given
    if not required:
        not_requiring_validation()
    assert item(redeem(one(100, validation_code="123456"))[1])["item_status"]["code"] == 808  # none issued
    request_code("100")
    code = last_code(aws)
    wrong = "111111" if code != "111111" else "222222"

    # When
    refused = item(redeem(one(100, validation_code=wrong))[1])
    redeemed = item(redeem(one(100, validation_code=code))[1])

    # Then: a given code is checked, and a valid one consumed, in both orgs
    assert (refused["item_status"]["code"], redeemed["item_status"]["code"]) == (808, 800)
    assert redeemed["side_effects"]["effect"][0]["validation_code"] == code
    assert balance() == 700


def test_no_code_is_not_a_wrong_attempt(aws: Aws, redeem: Redeem) -> None:
    # Given: a code, and more redemptions without one than the wrong attempts it survives (5)
    request_code("100")
    code = last_code(aws)
    for given in ("", "", "   ", "", None, ""):
        fields = {} if given is None else {"validation_code": given}
        assert item(redeem(one(100, **fields))[1])["item_status"]["code"] == 824

    # When
    redeemed = item(redeem(one(100, validation_code=code))[1])

    # Then
    assert redeemed["item_status"]["code"] == 800
    assert balance() == 700


def test_warm_round_trips_three_and_a_fourth_for_a_code(
    aws: Aws, redeem: Redeem, dynamodb_calls: list[str]
) -> None:
    def calls_of(body: dict[str, Any], query: dict[str, str] | None = None) -> list[str]:
        dynamodb_calls.clear()
        assert item(redeem(body, query)[1])["item_status"]["code"] == 800
        return list(dynamodb_calls)

    request_code("10")
    redeem(one(10, validation_code=last_code(aws)))
    request_code("10")
    code = last_code(aws)
    by_id = {"root": {"redeem": {"points_redeemed": 10, "customer": {"id": "1001"}}}}
    skipping = {"skip_validation": "true"}

    # A code is checked (and a wrong one counted) by its own conditional write, before the transaction that
    # consumes it: the guess limit holds however many arrive at once (test_validation_codes), for one more
    # round trip than reading the code with the wallet would cost.
    assert calls_of(one(10, validation_code=code, external_reference_number="R-9")) == [
        "GetItem",
        "BatchGetItem",
        "UpdateItem",
        "TransactWriteItems",
    ]
    assert calls_of(one(10), skipping) == ["GetItem", "BatchGetItem", "TransactWriteItems"]
    assert calls_of(by_id, skipping) == ["BatchGetItem", "TransactWriteItems"]


def test_when_the_wallet_keeps_changing_the_item_answers_521(
    redeem: Redeem, monkeypatch: pytest.MonkeyPatch
) -> None:
    from points_core.domain.errors import NotRecorded, Refusal
    from points_core.repositories.redemptions import RedemptionRepository

    def always_changed(*_: Any, **__: Any) -> None:
        raise NotRecorded({Refusal.WALLET_CHANGED})

    monkeypatch.setattr(RedemptionRepository, "record", always_changed)
    monkeypatch.setattr("points_core.services.retry.time.sleep", lambda _: None)
    assert item(redeem(one(100), {"skip_validation": "true"})[1])["item_status"]["code"] == 521
    assert balance() == 800


def keyed(redeem_body: Any, key: str) -> ApiAnswer:
    return call_api(
        "redeem",
        "POST",
        PATH,
        {"skip_validation": "true"},
        body=redeem_body,
        headers={"idempotency-key": key},
    )


def test_an_idempotency_key_replays_the_first_answer_byte_for_byte(redeem: Redeem) -> None:
    # When
    first = keyed(one(100), "key-1")
    again = keyed(one(100), "key-1")

    # Then
    assert first.status == again.status == 200
    assert again.text == first.text
    assert item(first.body)["item_status"]["code"] == 800
    assert balance() == 700
    assert keyed(one(100), "key-2").status == 200
    assert balance() == 600


def test_the_same_key_with_another_body_is_422(redeem: Redeem) -> None:
    # Given
    keyed(one(100), "key-1")

    # When
    again = keyed(one(200), "key-1")

    # Then
    assert again.status == 422
    assert again.body["response"]["status"] == {
        "success": "false",
        "code": 422,
        "message": "Idempotency-Key was used with another request body",
    }
    assert balance() == 700


def test_a_key_still_in_flight_is_409(redeem: Redeem, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: the POS retries while the first is still running
    module = function_module("redeem")
    real_process = module.process
    inner: list[ApiAnswer] = []

    def process_with_a_retry_arriving(*args: Any) -> Any:
        inner.append(keyed(one(100), "key-1"))
        return real_process(*args)

    monkeypatch.setattr(module, "process", process_with_a_retry_arriving)

    # When
    assert keyed(one(100), "key-1").status == 200

    # Then
    (retry,) = inner
    assert retry.status == 409, retry.text
    assert retry.header("Retry-After") == "1"
    assert retry.body["response"]["status"]["code"] == 409
    assert balance() == 700


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "bad\\x01key"])
def test_an_unusable_key_is_400(redeem: Redeem, key: str) -> None:
    assert keyed(one(100), key.replace("\\x01", "\x01")).status == 400


def test_a_521_is_not_kept_for_its_idempotency_key(redeem: Redeem, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing was written, and a retry may succeed: the retry with the same key runs again."""
    from points_core.domain.errors import NotRecorded, Refusal
    from points_core.repositories.redemptions import RedemptionRepository

    # Given
    def always_changed(*_: Any, **__: Any) -> None:
        raise NotRecorded({Refusal.WALLET_CHANGED})

    # When: the first attempt gives up, having written nothing
    with monkeypatch.context() as patched:
        patched.setattr(RedemptionRepository, "record", always_changed)
        patched.setattr("points_core.services.retry.time.sleep", lambda _: None)
        assert item(keyed(one(100), "busy-1").body)["item_status"]["code"] == 521

    # Then: the retry with the same key runs again
    retried = keyed(one(100), "busy-1")
    assert retried.status == 200
    assert item(retried.body)["item_status"]["code"] == 800
    assert keyed(one(100), "busy-1").text == retried.text
    assert balance() == 700


def recorded(aws: Aws, answer: dict[str, Any]) -> Redemption:
    """The redemption record an answer's redemption id names, as the Redemptions table holds it."""
    table = get_settings().redemptions_table
    key = keys.redemption(100737, item(answer)["redemption_id"])
    found = records.record(aws.dynamodb.get_item(TableName=table, Key=key)["Item"])
    assert isinstance(found, Redemption)
    return found


def with_tills(*till_ids: str, listed: bool = True) -> None:
    """The fixture's org with more tills of its own (`listed`: its configuration names them, as apply-config
    writes it), and another org whose till is `other.till`."""
    names = (TILL, *till_ids)
    seed_org(
        org_config(
            programs=(program(973, ratio="0.5", min_points=Decimal(10)),),
            allow_skip_validation=True,
            till_ids=frozenset(names) if listed else None,
        ),
        tills=dict.fromkeys(names, STORE_ID),
    )
    seed_org(org_config(org_id=200), tills={"other.till": STORE_ID})


@pytest.mark.parametrize("listed", [True, False])
def test_another_orgs_till_in_the_body_is_no_attribution(aws: Aws, redeem: Redeem, listed: bool) -> None:
    # Given another org's till, and a till of no org at all
    with_tills("demo.kiosk", listed=listed)

    # When the caller's redemptions name them as their till
    other = redeem(one(100, till_id="other.till"), {"skip_validation": "true"})[1]
    nobody = redeem(one(100, till_id="Till 7"), {"skip_validation": "true"})[1]

    # Then the till of record is the caller, and neither name is kept
    for answer in (other, nobody):
        assert item(answer)["item_status"]["code"] == 800
        assert (recorded(aws, answer).till_id, recorded(aws, answer).attributed_till_id) == (TILL, "")
    assert balance() == 600


@pytest.mark.parametrize("listed", [True, False])
def test_a_till_of_the_same_org_in_the_body_is_kept_as_an_attribution(
    aws: Aws, redeem: Redeem, listed: bool
) -> None:
    # Given a second till of the caller's org
    with_tills("demo.kiosk", listed=listed)

    # When the caller redeems on its behalf, and names itself
    kiosk = redeem(one(100, till_id="demo.kiosk"), {"skip_validation": "true"})[1]
    itself = redeem(one(100, till_id=TILL), {"skip_validation": "true"})[1]

    # Then the till of record is still the caller; the named till is kept beside it
    assert (recorded(aws, kiosk).till_id, recorded(aws, kiosk).attributed_till_id) == (TILL, "demo.kiosk")
    assert (recorded(aws, itself).till_id, recorded(aws, itself).attributed_till_id) == (TILL, TILL)


def test_without_a_till_in_the_body_the_till_of_record_is_the_caller(aws: Aws, redeem: Redeem) -> None:
    answer = redeem(one(100), {"skip_validation": "true"})[1]

    assert (recorded(aws, answer).till_id, recorded(aws, answer).attributed_till_id) == (TILL, "")


@pytest.mark.parametrize("till_id", [None, "demo.kiosk", "other.till", TILL])
def test_a_till_in_the_body_costs_no_round_trip_when_the_org_lists_its_tills(
    aws: Aws, redeem: Redeem, dynamodb_calls: list[str], till_id: str | None
) -> None:
    # Given an org whose configuration lists its tills, warm
    with_tills("demo.kiosk")
    redeem(one(10), {"skip_validation": "true"})
    fields = {} if till_id is None else {"till_id": till_id}
    dynamodb_calls.clear()

    # When
    answer = redeem(one(10, external_reference_number="R-1", **fields), {"skip_validation": "true"})[1]

    # Then
    assert item(answer)["item_status"]["code"] == 800
    assert dynamodb_calls == ["GetItem", "BatchGetItem", "TransactWriteItems"]


def test_an_org_that_does_not_list_its_tills_reads_the_named_till_once(
    aws: Aws, redeem: Redeem, dynamodb_calls: list[str]
) -> None:
    # Given an org configured before configurations listed their tills, warm
    with_tills("demo.kiosk", listed=False)
    redeem(one(10), {"skip_validation": "true"})
    dynamodb_calls.clear()

    # When a body names another till, then none, then the caller itself
    redeem(one(10, till_id="demo.kiosk"), {"skip_validation": "true"})
    named = list(dynamodb_calls)
    dynamodb_calls.clear()
    redeem(one(10), {"skip_validation": "true"})
    redeem(one(10, till_id=TILL), {"skip_validation": "true"})

    # Then only the other till costs a read: the org's own record of it
    assert named == ["GetItem", "BatchGetItem", "GetItem", "TransactWriteItems"]
    assert dynamodb_calls == ["GetItem", "BatchGetItem", "TransactWriteItems"] * 2
