"""POST /v2/points/reverse against moto: the credit with the original expiry, the v2 shapes, every code."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from points_core.repositories import customer_repository
from tests.conftest import Aws
from tests.factories import JANE, NOW, org_config, program, seed_jane, seed_org, seed_ravi
from tests.invoke import ApiAnswer, call_api

PATH = "/v2/points/reverse"
LATE = NOW + timedelta(days=900)
SOON = NOW + timedelta(days=30)


@pytest.fixture
def demo(aws: Aws) -> None:
    seed_org(org_config(programs=(program(973, ratio="0.5"),), allow_skip_validation=True))
    seed_jane(external_id="EXT-JANE", card_number="CARD-1")
    seed_ravi()


def redeem(points: int, customer: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    body = {
        "root": {"redeem": {"points_redeemed": points, "customer": customer or {"mobile": JANE}, **fields}}
    }
    answer = call_api("redeem", "POST", "/v1.1/points/redeem", {"skip_validation": "true"}, body=body)
    assert answer.status == 200
    item: dict[str, Any] = answer.body["response"]["responses"]["points"]
    assert item["item_status"]["code"] == 800, item
    return item


def reverse(
    redemption_id: str | None = None, points: Any = None, **fields: Any
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"identifier": {"type": "PHONE", "value": JANE}}
    if redemption_id is not None:
        body["redemptionId"] = redemption_id
    if points is not None:
        body["pointsToBeReversed"] = points
    body.update(fields)
    answer = call_api("revert", "POST", PATH, body=body)
    return answer.status, answer.body


def keyed(body: Any, key: str) -> ApiAnswer:
    """A reverse request with an Idempotency-Key."""
    return call_api("revert", "POST", PATH, body=body, headers={"Idempotency-Key": key})


def error(code: int, message: str) -> dict[str, Any]:
    return {"warnings": [], "errors": [{"status": False, "code": code, "message": message}]}


def buckets() -> dict[str, Decimal]:
    """Jane's buckets by the name of the allocation that made each ("soon", "late"; a bucket per expiry)."""
    wallet = customer_repository().wallet(100737, "1001", 973)
    assert wallet is not None
    names = {SOON: "soon", LATE: "late"}
    return {names.get(b.expires_at, str(b.expires_at)): b.points for b in wallet.buckets}


def balance(customer_id: str = "1001") -> Decimal:
    wallet = customer_repository().wallet(100737, customer_id, 973)
    assert wallet is not None
    return wallet.balance(datetime.now(UTC))


def test_a_full_reversal_answers_the_reference_shape_and_restores_expiry(demo: None) -> None:
    # Given
    redeemed = redeem(600)  # 300 of "soon" (spent, so its bucket goes), then 300 of "late"
    assert set(buckets()) == {"late"}

    # When
    status, body = reverse(redeemed["redemption_id"])

    # Then
    assert status == 200
    assert list(body) == [
        "orgId",
        "identifier",
        "customerId",
        "redemptionId",
        "reversalId",
        "pointsToBeReversed",
        "pointsReversed",
        "pointsReversedDetails",
        "warnings",
    ]
    assert body["orgId"] == 100737
    assert body["identifier"] == {"type": "PHONE", "value": JANE}
    assert body["customerId"] == 1001
    assert body["redemptionId"] == redeemed["redemption_id"]
    assert len(body["reversalId"]) == 6 and body["reversalId"] != body["redemptionId"]
    assert (body["pointsToBeReversed"], body["pointsReversed"]) == (600, 600)
    assert body["pointsReversedDetails"] == {"available": 600, "expired": 0}
    assert body["warnings"] == []
    assert buckets() == {"late": 500, "soon": 300}  # each back in the bucket of its own expiry
    assert balance() == 800


def test_partial_reversals_repeat_until_nothing_is_left(demo: None) -> None:
    redemption_id = redeem(600)["redemption_id"]
    assert reverse(redemption_id, 200)[1]["pointsReversed"] == 200
    # The last drawn goes back first: "late" (drawn last) is whole again before "soon" gets anything.
    assert buckets() == {"late": 400}
    assert balance() == 400
    assert reverse(redemption_id, "150.5")[1]["pointsReversedDetails"] == {
        "available": Decimal("150.5"),
        "expired": 0,
    }
    status, rest = reverse(redemption_id)  # absent: all that is left
    assert (status, rest["pointsToBeReversed"], rest["pointsReversed"]) == (
        200,
        Decimal("249.5"),
        Decimal("249.5"),
    )
    assert balance() == 800
    assert reverse(redemption_id) == (200, error(3802, "Points reversal redeemed points already reversed."))
    assert reverse(redemption_id, 1)[1]["errors"][0]["code"] == 3802


def test_more_than_is_left_is_3801(demo: None) -> None:
    redemption_id = redeem(600)["redemption_id"]
    reverse(redemption_id, 500)
    status, body = reverse(redemption_id, "100.001")
    assert (status, body["errors"][0]["code"]) == (200, 3801)
    assert balance() == 700


def test_by_external_reference_number_and_every_identifier_type(demo: None) -> None:
    redeem(100, external_reference_number="ORDER-1")
    for identifier in (
        {"type": "id", "value": "1001"},
        {"type": "mobile", "value": "9000000001"},
        {"type": "EMAIL", "value": "Jane.Doe@example.com"},
        {"type": "externalid", "value": "EXT-JANE"},
        {"type": "cardNumber", "value": "CARD-1"},
    ):
        status, body = reverse(None, 10, externalReferenceNumber="ORDER-1", identifier=identifier)
        assert status == 200, (identifier, body)
        assert body["identifier"] == identifier and body["customerId"] == 1001
    assert balance() == 750


@pytest.mark.parametrize(
    "fields",
    [
        {"redemptionId": "Zz9Zz9"},  # unknown
        {"redemptionId": "not-an-id-at-all"},  # cannot exist
        {"externalReferenceNumber": "NO-SUCH-ORDER"},
    ],
)
def test_an_unknown_redemption_is_3803(demo: None, fields: dict[str, str]) -> None:
    assert reverse(None, 10, **fields) == (
        200,
        error(3803, "Redemption not found for the given redemption id and customer"),
    )


def test_another_customers_redemption_is_3803(demo: None) -> None:
    ravis = redeem(100, {"id": "1002"}, external_reference_number="RAVI-1")["redemption_id"]
    assert reverse(ravis, 10)[1]["errors"][0]["code"] == 3803
    assert reverse(None, 10, externalReferenceNumber="RAVI-1")[1]["errors"][0]["code"] == 3803
    assert balance("1002") == 900


def test_an_id_and_a_reference_naming_different_redemptions_is_3803(demo: None) -> None:
    first = redeem(100, external_reference_number="ORDER-1")["redemption_id"]
    redeem(100, external_reference_number="ORDER-2")
    assert reverse(first, 10, externalReferenceNumber="ORDER-2")[1]["errors"][0]["code"] == 3803
    assert reverse(first, 10, externalReferenceNumber="ORDER-1")[0] == 200


def test_reversing_a_reversal_is_3804(demo: None) -> None:
    reversal_id = reverse(redeem(100)["redemption_id"], 10)[1]["reversalId"]
    assert reverse(reversal_id, 10) == (200, error(3804, "Redemption reversal of a reversal is not allowed"))


def test_reversal_disabled_for_the_org_is_4101(demo: None) -> None:
    redemption_id = redeem(100)["redemption_id"]
    seed_org(org_config(programs=(program(973),), reversal_enabled=False))
    assert reverse(redemption_id, 10) == (
        200,
        error(4101, "Points redemption reversal is disabled for this org"),
    )
    assert balance() == 700


@pytest.mark.parametrize(
    ("points", "code"),
    [(0, 4102), (-5, 4102), ("ten", 4102), ("", 4102), ("1.0001", 878), (Decimal("0.0001"), 878)],
)
def test_invalid_points_are_4102_and_too_many_decimals_878(demo: None, points: Any, code: int) -> None:
    redemption_id = redeem(100)["redemption_id"]
    body = {
        "redemptionId": redemption_id,
        "pointsToBeReversed": points,
        "identifier": {"type": "ID", "value": "1001"},
    }
    answer = call_api(
        "revert", "POST", PATH, body=json.dumps(body, default=str).replace('"0.0001"', "0.0001")
    )
    assert (answer.status, answer.body["errors"][0]["code"]) == (200, code)
    assert balance() == 700


@pytest.mark.parametrize(
    ("identifier", "code"),
    [
        ({"type": "PHONE", "value": "12"}, 802),
        ({"type": "EMAIL", "value": "not-an-email"}, 802),
        ({"type": "ID", "value": "abc"}, 802),
        ({"type": "PHONE", "value": "919999999999"}, 8015),
        ({"type": "ID", "value": "4242"}, 8015),
    ],
)
def test_customer_codes(demo: None, identifier: dict[str, str], code: int) -> None:
    redemption_id = redeem(100)["redemption_id"]
    status, body = reverse(redemption_id, 10, identifier=identifier)
    assert (status, body["errors"][0]["code"]) == (200, code)


def test_an_org_without_configuration_is_895(aws: Aws) -> None:
    answer = call_api(
        "revert",
        "POST",
        PATH,
        body={"redemptionId": "abc123", "identifier": {"type": "ID", "value": "1"}},
        authorizer={"org_id": "555", "till_id": "t", "store_id": "1"},
    )
    assert (answer.status, answer.body["errors"][0]["code"]) == (200, 895)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{", "the body is not JSON"),
        ({"redemptionId": "abc123"}, "identifier is required"),
        (
            {"identifier": {"type": "ID", "value": "1001"}},
            "redemptionId or externalReferenceNumber is required",
        ),
        (
            {"redemptionId": "abc123", "identifier": {"type": "passport", "value": "1"}},
            "invalid identifier.type: use ID, PHONE, mobile, EMAIL, externalId, cardnumber or cardExternalId",
        ),
        (
            {
                "redemptionId": "abc123",
                "pointsToBeReversed": True,
                "identifier": {"type": "ID", "value": "1"},
            },
            "invalid pointsToBeReversed",
        ),
    ],
)
def test_an_unusable_body_is_400_in_the_v2_envelope(demo: None, body: Any, reason: str) -> None:
    answer = call_api("revert", "POST", PATH, body=body)
    assert (answer.status, answer.body) == (400, error(400, f"Invalid input: {reason}"))


def test_warm_a_reversal_takes_three_round_trips(demo: None, dynamodb_calls: list[str]) -> None:
    redemption_id = redeem(300, external_reference_number="ORDER-1")["redemption_id"]
    reverse(redemption_id, 1)  # warm: the configuration is cached
    dynamodb_calls.clear()
    assert reverse(redemption_id, 1)[0] == 200
    assert dynamodb_calls == ["BatchGetItem", "GetItem", "TransactWriteItems"]
    dynamodb_calls.clear()
    assert reverse(None, 1, externalReferenceNumber="ORDER-1")[0] == 200
    assert dynamodb_calls == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]
    dynamodb_calls.clear()
    assert reverse("Zz9Zz9", 1)[1]["errors"][0]["code"] == 3803
    assert dynamodb_calls == ["BatchGetItem"]


def test_the_ledger_records_each_reversal_and_lifetime_points_stay(demo: None, aws: Aws) -> None:
    # Given
    before = customer_repository().wallet(100737, "1001", 973)
    assert before is not None
    redemption_id = redeem(600)["redemption_id"]

    # When
    first = reverse(redemption_id, 100)[1]["reversalId"]
    second = reverse(redemption_id)[1]["reversalId"]

    # Then
    entries = aws.dynamodb.query(
        TableName="LedgerTable",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "ORG#100737#CUST#1001"}},
    )["Items"]
    kinds = sorted((e["sk"]["S"].split("#")[2], Decimal(e["points"]["N"])) for e in entries)
    assert kinds == [("AWARD", 300), ("AWARD", 500), ("REDEEM", -600), ("REVERSE", 100), ("REVERSE", 500)]
    assert {e["sk"]["S"].rsplit("#", 1)[1] for e in entries if "#REVERSE#" in e["sk"]["S"]} == {first, second}
    assert sum(value for _, value in kinds) == balance() == 800
    after = customer_repository().wallet(100737, "1001", 973)
    assert after is not None and after.lifetime_points == before.lifetime_points
    record = aws.dynamodb.get_item(
        TableName="RedemptionsTable",
        Key={"pk": {"S": f"ORG#100737#RED#{redemption_id}"}, "sk": {"S": "REDEMPTION"}},
    )["Item"]
    assert record["reversed_points"] == {"N": "600"}
    reversal = aws.dynamodb.get_item(
        TableName="RedemptionsTable", Key={"pk": {"S": f"ORG#100737#RED#{first}"}, "sk": {"S": "REDEMPTION"}}
    )["Item"]
    assert (reversal["kind"]["S"], reversal["redemption_id"]["S"], reversal["source"]["S"]) == (
        "reversal",
        redemption_id,
        "reverse",
    )


@pytest.mark.parametrize("v2_error_http_status", [200, 400])
def test_when_the_wallet_keeps_changing_the_answer_is_521_with_http_409(
    demo: None, monkeypatch: pytest.MonkeyPatch, v2_error_http_status: int
) -> None:
    """Whichever HTTP status the org chose for v2 refusals (and it is in effect), a 521 stays HTTP 409."""
    from points_core.domain.errors import NotRecorded, Refusal
    from points_core.repositories.reversals import ReversalRepository

    # Given
    config = org_config(
        programs=(program(973, ratio="0.5"),),
        allow_skip_validation=True,
        v2_error_http_status=v2_error_http_status,
    )
    seed_org(config)
    redemption_id = redeem(100)["redemption_id"]
    refused = reverse(redemption_id, 101)
    assert (refused[0], refused[1]["errors"][0]["code"]) == (v2_error_http_status, 3801)

    def always_changed(*_: Any, **__: Any) -> None:
        raise NotRecorded({Refusal.WALLET_CHANGED})

    monkeypatch.setattr(ReversalRepository, "record", always_changed)
    monkeypatch.setattr("points_core.services.retry.time.sleep", lambda _: None)

    # When
    status, body = reverse(redemption_id, 10)

    # Then
    assert (status, body["errors"][0]["code"]) == (409, 521)
    assert balance() == 700


def test_an_unexpected_failure_is_889_in_the_v2_envelope(demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from points_core.repositories.reversals import ReversalRepository

    redemption_id = redeem(100)["redemption_id"]

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(ReversalRepository, "find", broken)
    assert reverse(redemption_id, 10) == (500, error(889, "Points processing failed, Please try again later"))


def test_an_idempotency_key_replays_the_first_answer(demo: None) -> None:
    # Given
    redemption_id = redeem(100)["redemption_id"]
    body = {
        "redemptionId": redemption_id,
        "pointsToBeReversed": 10,
        "identifier": {"type": "ID", "value": "1001"},
    }

    # When
    first = keyed(body, "return-1")
    again = keyed(body, "return-1")

    # Then
    assert (first.status, again.status) == (200, 200)
    assert again.text == first.text
    assert balance() == 710
    other = keyed({**body, "pointsToBeReversed": 20}, "return-1")
    assert (other.status, other.body) == (
        422,
        error(422, "Idempotency-Key was used with another request body"),
    )
    # The same key on another endpoint is another request too.
    redeem_body = {"root": {"redeem": {"points_redeemed": 1, "customer": {"mobile": JANE}}}}
    elsewhere = call_api(
        "redeem",
        "POST",
        "/v1.1/points/redeem",
        {"skip_validation": "true"},
        body=redeem_body,
        headers={"Idempotency-Key": "return-1"},
    )
    assert elsewhere.status == 422


def test_a_request_without_authorizer_context_is_401_in_the_v2_envelope(demo: None) -> None:
    body = {"redemptionId": "abc123", "identifier": {"type": "ID", "value": "1001"}}
    answer = call_api("revert", "POST", PATH, body=body, authorizer={})
    assert (answer.status, answer.body["errors"][0]["code"]) == (401, 401)


def test_logs_carry_no_unmasked_mobile_and_say_what_was_reversed(demo: None, logs: io.StringIO) -> None:
    # Given
    redemption_id = redeem(100)["redemption_id"]

    # When
    reversal_id = reverse(redemption_id, 10)[1]["reversalId"]

    # Then
    written = logs.getvalue()
    assert JANE not in written
    assert "91******0001" in written
    assert reversal_id in written and '"code":200' in written


def test_a_521_is_not_kept_for_its_idempotency_key(demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing was written, and a retry may succeed: the retry with the same key runs again."""
    from points_core.domain.errors import NotRecorded, Refusal
    from points_core.repositories.reversals import ReversalRepository

    # Given
    redemption_id = redeem(100)["redemption_id"]
    body = {
        "redemptionId": redemption_id,
        "pointsToBeReversed": 10,
        "identifier": {"type": "ID", "value": "1001"},
    }

    def always_changed(*_: Any, **__: Any) -> None:
        raise NotRecorded({Refusal.WALLET_CHANGED})

    # When: the first attempt gives up, having written nothing
    with monkeypatch.context() as patched:
        patched.setattr(ReversalRepository, "record", always_changed)
        patched.setattr("points_core.services.retry.time.sleep", lambda _: None)
        assert keyed(body, "busy-1").status == 409

    # Then: the retry with the same key runs again
    retried = keyed(body, "busy-1")
    assert retried.status == 200
    assert keyed(body, "busy-1").text == retried.text
    assert balance() == 710


def test_an_org_may_answer_v2_refusals_with_http_400(aws: Aws) -> None:
    # Given an org that chose HTTP 400 for v2 refusals
    seed_org(
        org_config(
            programs=(program(973, ratio="0.5"),), allow_skip_validation=True, v2_error_http_status=400
        )
    )
    seed_jane()
    redemption_id = redeem(100)["redemption_id"]

    # When a reversal is refused, and another one succeeds
    refused = reverse(redemption_id, 101)
    reversed_ = reverse(redemption_id, 100)

    # Then the refusal is HTTP 400 with errors[], the success 200, and nothing left is 400 too
    assert (refused[0], refused[1]["errors"][0]["code"]) == (400, 3801)
    assert reversed_[0] == 200
    assert reverse(redemption_id) == (400, error(3802, "Points reversal redeemed points already reversed."))
