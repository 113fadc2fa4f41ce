"""Input bounds (product.md), through the functions' handlers against moto: numbers are ASCII digits only,
points above 10^12 are 801, bodies and free text are bounded, a repeated parameter is 400, an echoed string
that UTF-8 cannot carry is still answered. Bad input is a clear code, never a 5xx."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from points_core.domain.models import OtpSettings
from points_core.repositories import customer_repository
from tests.conftest import Aws
from tests.factories import JANE, NOW, org_config, program, seed_jane, seed_org
from tests.invoke import ApiAnswer, call_api

IS_REDEEMABLE = "/v1.1/points/isredeemable"
CODE = "/v1.1/points/validationcode"
REDEEM = "/v1.1/points/redeem"
REVERT = "/v1.1/points/revert"
REVERSE = "/v2/points/reverse"
SKIP = {"skip_validation": "true"}

# Characters str.isdigit() (or Decimal) takes for digits that are not ASCII digits, and an underscore.
ARABIC_INDIC_100 = "\u0661\u0660\u0660"
FULL_WIDTH_100 = "\uff11\uff10\uff10"
DEVANAGARI_100 = "\u0967\u0966\u0966"
NOT_ASCII_DIGITS = ["²", ARABIC_INDIC_100, FULL_WIDTH_100, "1_000", DEVANAGARI_100]


@pytest.fixture(autouse=True)
def jane(aws: Aws) -> None:
    seed_org(
        org_config(
            programs=(program(973, ratio="0.5"),),
            allow_skip_validation=True,
            otp=OtpSettings(channels="sms"),
        )
    )
    seed_jane()


def balance() -> Decimal:
    wallet = customer_repository().wallet(100737, "1001", 973)
    assert wallet is not None
    return wallet.balance(NOW)


def get(path: str, query: dict[str, Any]) -> ApiAnswer:
    function = "validation_code" if path == CODE else "is_redeemable"
    return call_api(function, "GET", path, {"format": "json", **query})


def item_code(answer: ApiAnswer) -> int:
    assert answer.status == 200, answer.text
    response = answer.body["response"]
    item = (
        response["validation_code"]["code"]
        if "validation_code" in response
        else response["points"]["redeemable"]
        if "points" in response
        else response["responses"]["points"]
    )
    code: int = item["item_status"]["code"]
    return code


def redeem(item: dict[str, Any], query: dict[str, str] | None = None) -> ApiAnswer:
    body = {"root": {"redeem": {"points_redeemed": 100, "customer": {"mobile": JANE}, **item}}}
    return call_api("redeem", "POST", REDEEM, {**SKIP, "format": "json", **(query or {})}, body=body)


def revert(item: dict[str, Any]) -> ApiAnswer:
    body = {"root": {"revert": {"transaction_number": "BILL-1", "customer": {"mobile": JANE}, **item}}}
    return call_api("revert", "POST", REVERT, {"format": "json"}, body=body)


def reverse(body: dict[str, Any]) -> ApiAnswer:
    return call_api(
        "revert",
        "POST",
        REVERSE,
        body={"redemptionId": "ZZZZZZ", "identifier": {"type": "PHONE", "value": JANE}, **body},
    )


def v2_code(answer: ApiAnswer) -> int:
    assert answer.status == 200, answer.text
    code: int = answer.body["errors"][0]["code"]
    return code


def message(answer: ApiAnswer) -> str:
    assert answer.status == 400, answer.text
    text: str = answer.body["response"]["status"]["message"]
    return text


# 1. Numbers are ASCII digits only.
@pytest.mark.parametrize("path", [IS_REDEEMABLE, CODE])
@pytest.mark.parametrize("digits", NOT_ASCII_DIGITS)
def test_a_customer_id_of_other_digits_is_802(path: str, digits: str) -> None:
    assert item_code(get(path, {"id": digits, "points": "100"})) == 802
    assert item_code(get(path, {"user_id": digits, "points": "100"})) == 802


@pytest.mark.parametrize("path", [IS_REDEEMABLE, CODE])
def test_jane_by_full_width_id_is_not_jane(path: str) -> None:
    assert item_code(get(path, {"id": "1001", "points": "100"})) == (200 if path == CODE else 800)
    assert item_code(get(path, {"id": "\uff11\uff10\uff10\uff11", "points": "100"})) == 802


@pytest.mark.parametrize("path", [IS_REDEEMABLE, CODE])
@pytest.mark.parametrize("digits", NOT_ASCII_DIGITS)
def test_a_mobile_of_other_digits_is_802(path: str, digits: str) -> None:
    assert item_code(get(path, {"mobile": "9" + digits * 9, "points": "100"})) == 802


@pytest.mark.parametrize("path", [IS_REDEEMABLE, CODE])
@pytest.mark.parametrize("digits", [*NOT_ASCII_DIGITS, "\u0669\u0667\u0663", "\uff19\uff17\uff13"])
def test_a_program_id_of_other_digits_is_1101(path: str, digits: str) -> None:
    assert item_code(get(path, {"mobile": JANE, "points": "100", "program_id": digits})) == 1101


@pytest.mark.parametrize("path", [IS_REDEEMABLE, CODE])
@pytest.mark.parametrize("digits", NOT_ASCII_DIGITS)
def test_points_of_other_digits_are_801(path: str, digits: str) -> None:
    answer = get(path, {"mobile": JANE, "points": digits})
    assert item_code(answer) == 801
    item = answer.body["response"]
    echoed = item["validation_code"]["code"] if path == CODE else item["points"]["redeemable"]
    assert echoed["points"] == 0


@pytest.mark.parametrize("path", [IS_REDEEMABLE, CODE])
def test_a_currency_value_of_other_digits_is_801(path: str) -> None:
    query = {"mobile": JANE, "currency_input": "true", "currency_value": ARABIC_INDIC_100}
    assert item_code(get(path, query)) == 801


@pytest.mark.parametrize("digits", NOT_ASCII_DIGITS)
def test_redeem_refuses_other_digits_and_redeems_nothing(digits: str) -> None:
    assert item_code(redeem({"customer": {"id": digits}})) == 802
    assert item_code(redeem({"customer": {"user_id": digits}})) == 802
    assert item_code(redeem({"points_redeemed": digits})) == 801
    assert item_code(redeem({}, {"program_id": digits})) == 1101
    assert balance() == 800


@pytest.mark.parametrize("digits", NOT_ASCII_DIGITS)
def test_revert_refuses_other_digits(digits: str) -> None:
    assert item_code(revert({"customer": {"id": digits}})) == 802
    assert item_code(revert({"points_redeemed": digits})) == 801


@pytest.mark.parametrize("digits", NOT_ASCII_DIGITS)
def test_reverse_refuses_other_digits(digits: str) -> None:
    assert v2_code(reverse({"identifier": {"type": "ID", "value": digits}})) == 802
    redeemed = redeem({})
    assert item_code(redeemed) == 800
    redemption_id = redeemed.body["response"]["responses"]["points"]["redemption_id"]
    assert v2_code(reverse({"redemptionId": redemption_id, "pointsToBeReversed": digits})) == 4102
    assert balance() == 700


# 2. Points above 10^12 are 801, and the answer stays small.
HUGE = ["1e1000000", "1e999999", "1E+999999999999999999", "1000000000001", "-1e999999", "1e-999999"]


@pytest.mark.parametrize("path", [IS_REDEEMABLE, CODE])
@pytest.mark.parametrize("points", HUGE)
def test_points_out_of_bounds_are_refused_in_a_small_answer(path: str, points: str) -> None:
    answer = get(path, {"mobile": JANE, "points": points})
    assert item_code(answer) == (878 if points == "1e-999999" else 801)
    assert len(answer.text) < 2000


@pytest.mark.parametrize("path", [IS_REDEEMABLE, CODE])
def test_points_of_10_to_the_12_are_in_bounds(path: str) -> None:
    expected = 200 if path == CODE else 818  # a code is issued whatever the balance; isredeemable checks it
    assert item_code(get(path, {"mobile": JANE, "points": "1e12"})) == expected
    assert item_code(get(path, {"mobile": JANE, "points": "1000000000000.000"})) == expected


@pytest.mark.parametrize("path", [IS_REDEEMABLE, CODE])
def test_more_than_3_places_past_the_context_precision_is_878(path: str) -> None:
    assert item_code(get(path, {"mobile": JANE, "points": "1." + "0" * 30 + "1"})) == 878


@pytest.mark.parametrize("points", HUGE)
def test_redeem_and_reverse_refuse_points_out_of_bounds(points: str) -> None:
    expected = 878 if points == "1e-999999" else 801
    assert item_code(redeem({"points_redeemed": points})) == expected
    as_number = json.dumps({"root": {"redeem": {"points_redeemed": "N", "customer": {"mobile": JANE}}}})
    as_number = as_number.replace('"N"', points)
    answer = call_api("redeem", "POST", REDEEM, {**SKIP, "format": "json"}, body=as_number)
    assert item_code(answer) == expected  # a JSON number
    assert item_code(revert({"points_redeemed": points})) == expected
    redeemed = redeem({})
    redemption_id = redeemed.body["response"]["responses"]["points"]["redemption_id"]
    refused = reverse({"redemptionId": redemption_id, "pointsToBeReversed": points})
    assert v2_code(refused) == (878 if points == "1e-999999" else 4102)
    assert balance() == 700


# 3. JSON the parser refuses: a number of more than 4,300 digits, 1,000-deep nesting.
@pytest.mark.parametrize(
    "body",
    [
        '{"root": {"redeem": {"points_redeemed": ' + "1" * 4301 + "}}}",
        '{"root": ' + "[" * 1000 + "]" * 1000 + "}",
        '{"root": ' + '{"a":' * 1000 + "1" + "}" * 1000 + "}",
    ],
)
def test_json_too_long_or_too_deep_is_400(body: str) -> None:
    answer = call_api("redeem", "POST", REDEEM, {**SKIP, "format": "json"}, body=body)
    assert answer.status == 400
    assert answer.body["response"]["status"]["code"] == 400
    assert balance() == 800


def test_a_long_json_decimal_is_801() -> None:
    body = json.dumps({"root": {"redeem": {"points_redeemed": "N", "customer": {"mobile": JANE}}}})
    body = body.replace('"N"', "1" + "0" * 5000 + ".5")
    answer = call_api("redeem", "POST", REDEEM, {**SKIP, "format": "json"}, body=body)
    assert item_code(answer) == 801
    assert balance() == 800


# 4. A body is at most 64 KiB; free text is bounded.
@pytest.mark.parametrize("content_type", ["application/json", None])
def test_a_json_body_over_64_kib_is_400(content_type: str | None) -> None:
    body = json.dumps(
        {"root": {"redeem": {"points_redeemed": 100, "customer": {"mobile": JANE}, "x": "a" * 65536}}}
    )
    answer = call_api(
        "redeem",
        "POST",
        REDEEM,
        {**SKIP, "format": "json"},
        body=body,
        headers={"Content-Type": content_type},
    )
    assert message(answer) == "Invalid input: the body is larger than 64 KiB"
    assert balance() == 800


def test_a_json_body_of_64_kib_is_read() -> None:
    item = {"points_redeemed": 100, "customer": {"mobile": JANE}, "x": ""}
    padding = 64 * 1024 - len(json.dumps({"root": {"redeem": item}}).encode())
    item["x"] = "a" * padding
    assert len(json.dumps({"root": {"redeem": item}}).encode()) == 64 * 1024
    assert item_code(redeem(item)) == 800


def test_a_v2_body_over_64_kib_is_400_in_the_v2_envelope() -> None:
    answer = reverse({"padding": "a" * 65536})
    assert answer.status == 400
    assert answer.body["errors"][0]["message"] == "Invalid input: the body is larger than 64 KiB"


@pytest.mark.parametrize(
    ("field", "bound"),
    [
        ("notes", 1000),
        ("redemption_purpose", 1000),
        ("transaction_number", 100),
        ("external_reference_number", 100),
        ("till_id", 100),
    ],
)
def test_free_text_beyond_its_bound_is_400_naming_the_field(field: str, bound: int) -> None:
    assert item_code(redeem({field: "é" * bound})) == 800
    refused = redeem({field: "é" * (bound + 1)})
    assert message(refused) == (f"Invalid input: invalid root.redeem.{field}: at most {bound:,} characters")
    assert balance() == 700


def test_free_text_in_a_list_item_is_bounded_too() -> None:
    body = {"root": {"redeem": [{"points_redeemed": 1, "customer": {"mobile": JANE}, "notes": "n" * 1001}]}}
    answer = call_api("redeem", "POST", REDEEM, {**SKIP, "format": "json"}, body=body)
    assert message(answer) == "Invalid input: invalid root.redeem.0.notes: at most 1,000 characters"


def test_half_a_megabyte_of_notes_is_400_not_500() -> None:
    answer = redeem({"notes": "n" * 500_000})
    assert message(answer) == "Invalid input: the body is larger than 64 KiB"
    assert balance() == 800


def test_a_revert_transaction_number_is_bounded() -> None:
    refused = revert({"transaction_number": "B" * 101})
    assert message(refused) == "Invalid input: invalid root.revert.transaction_number: at most 100 characters"


def custom_fields(count: int, name: str = "f", value: str = "v") -> dict[str, Any]:
    return {"custom_fields": {"field": [{"name": f"{name}{n}", "value": value} for n in range(count)]}}


def test_at_most_20_custom_fields() -> None:
    assert item_code(redeem(custom_fields(20))) == 800
    assert message(redeem(custom_fields(21))) == (
        "Invalid input: invalid root.redeem.custom_fields.field: at most 20 items"
    )
    assert message(redeem(custom_fields(5000))) == "Invalid input: the body is larger than 64 KiB"
    assert balance() == 700


def test_a_custom_field_name_and_value_are_bounded() -> None:
    assert item_code(redeem(custom_fields(1, name="n" * 99, value="v" * 1000))) == 800
    too_long_name = message(redeem(custom_fields(1, name="n" * 100)))
    assert (
        too_long_name
        == "Invalid input: invalid root.redeem.custom_fields.field.0.name: at most 100 characters"
    )
    too_long_value = message(redeem(custom_fields(1, value="v" * 1001)))
    assert too_long_value == (
        "Invalid input: invalid root.redeem.custom_fields.field.0.value: at most 1,000 characters"
    )


# 5. A repeated parameter is 400, whichever it is.
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"mobile": [JANE, "919000000002"], "points": "100"}, "mobile"),
        ({"id": ["1001", "1002"], "points": "100"}, "id"),
        ({"mobile": JANE, "points": ["100", "200"]}, "points"),
        ({"mobile": JANE, "points": "100", "format": ["json", "json"]}, "format"),
        ({"mobile": JANE, "points": "100", "unknown": ["1", "2"]}, "unknown"),
    ],
)
@pytest.mark.parametrize("path", [IS_REDEEMABLE, CODE])
def test_a_repeated_query_parameter_is_400_naming_it(path: str, query: dict[str, Any], name: str) -> None:
    function = "validation_code" if path == CODE else "is_redeemable"
    answer = call_api(function, "GET", path, query)
    assert answer.status == 400
    assert answer.body["response"]["status"] == {
        "success": "false",
        "code": 400,
        "message": f"Invalid input: {name} is given more than once",
    }


def test_a_repeated_parameter_on_redeem_is_400_and_redeems_nothing() -> None:
    body = {"root": {"redeem": {"points_redeemed": 100, "customer": {"mobile": JANE}}}}
    answer = call_api("redeem", "POST", REDEEM, {"skip_validation": ["true", "true"]}, body=body)
    assert message(answer) == "Invalid input: skip_validation is given more than once"
    assert balance() == 800


def test_a_repeated_parameter_on_v2_is_400_in_the_v2_envelope() -> None:
    answer = call_api(
        "revert",
        "POST",
        REVERSE,
        {"a": ["1", "2"]},
        body={"redemptionId": "ZZZZZZ", "identifier": {"type": "PHONE", "value": JANE}},
    )
    assert answer.status == 400
    assert answer.body["errors"][0]["message"] == "Invalid input: a is given more than once"


# 6. An echoed string UTF-8 cannot carry.
@pytest.mark.parametrize("content_type", ["application/json"])
def test_a_lone_surrogate_echoed_in_json_is_answered_with_a_replacement(content_type: str) -> None:
    body = json.dumps(
        {"root": {"redeem": {"points_redeemed": 100, "customer": {"mobile": "\ud800", "email": "a\udfffb"}}}}
    )
    answer = call_api(
        "redeem",
        "POST",
        REDEEM,
        {**SKIP, "format": "json"},
        body=body,
        headers={"Content-Type": content_type},
    )
    assert answer.status == 200
    answer.text.encode("utf-8")  # what UTF-8 cannot carry is not in the answer
    points = answer.body["response"]["responses"]["points"]
    assert (points["mobile"], points["email"]) == ("\ufffd", "a\ufffdb")
    assert points["item_status"]["code"] == 802


def test_a_lone_surrogate_in_the_v2_identifier_is_answered() -> None:
    answer = reverse({"identifier": {"type": "PHONE", "value": "\ud800"}})
    answer.text.encode("utf-8")
    assert v2_code(answer) == 802
