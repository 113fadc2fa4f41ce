"""Numbers as text: ASCII digits only (points, identifiers, program ids); points at most 10^12 with at most 3
places, and an echo that stays small whatever was sent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from points_core.domain.amounts import MAX_POINTS, echo_amount, parse_amount
from points_core.domain.codes import Item
from points_core.domain.digits import ascii_decimal, ascii_digits
from points_core.domain.errors import MalformedIdentifier, RuleFailure
from points_core.domain.identifiers import IdentifierType, normalize
from points_core.domain.rules import resolve_program
from tests.factories import org_config, program

# Every character Python reads as a digit (int(), Decimal() or str.isdigit()) that is not 0-9.
OTHER_DIGITS = st.characters(categories=["Nd", "No"]).filter(lambda c: not "0" <= c <= "9")


def refusal(text: str | None) -> int:
    with pytest.raises(RuleFailure) as refused:
        parse_amount(text)
    return refused.value.status.code


@given(st.text(OTHER_DIGITS, min_size=1, max_size=6), st.text("0123456789", max_size=3))
def test_other_digits_are_never_digits(other: str, ascii: str) -> None:
    for text in (other, ascii + other, other + ascii):
        assert not ascii_digits(text)
        assert not ascii_decimal(text)
        assert echo_amount(text) == 0
        assert refusal(text) == 801


@pytest.mark.parametrize(
    "text",
    [
        "1_000",
        "1 000",
        "\u0661\u0660\u0660",
        "\uff11\uff10\uff10",
        "²",
        "Infinity",
        "NaN",
        "1e",
        "0x10",
        "1,5",
    ],
)
def test_not_an_ascii_decimal_is_801(text: str) -> None:
    assert refusal(text) == Item.INVALID_POINTS.code
    assert echo_amount(text) == 0


@pytest.mark.parametrize(
    ("text", "value"),
    [("100", 100), (" 100 ", 100), ("+5", 5), ("1e3", 1000), ("1E+3", 1000), (".5", "0.5"), ("5.", 5)],
)
def test_ascii_decimals_are_read_exactly(text: str, value: object) -> None:
    assert parse_amount(text) == Decimal(str(value))


@pytest.mark.parametrize("text", ["1e12", "1000000000000", "999999999999.999"])
def test_up_to_10_to_the_12_is_in_bounds(text: str) -> None:
    assert parse_amount(text) <= MAX_POINTS


@pytest.mark.parametrize(
    "text", ["1000000000000.001", "1e13", "1e1000000", "1e999999", "1E+999999999999999999", "9" * 5000]
)
def test_above_10_to_the_12_is_801_and_echoed_as_0(text: str) -> None:
    assert refusal(text) == 801
    assert echo_amount(text) == 0


@pytest.mark.parametrize("text", ["1.0001", "1." + "0" * 30 + "1", "1e-999999", "1" * 5000 + "e-4996"])
def test_more_than_3_places_is_878_counted_exactly(text: str) -> None:
    assert refusal(text) == Item.INVALID_DECIMAL_PRECISION.code


def test_the_echo_is_the_number_sent_while_it_is_small() -> None:
    assert echo_amount("1.0001") == Decimal("1.0001")
    assert echo_amount("-1") == Decimal(-1)
    assert echo_amount("1e12") == MAX_POINTS
    assert echo_amount("1e-999999") == 0
    assert echo_amount("1." + "0" * 30 + "1") == 0


@given(st.text(OTHER_DIGITS, min_size=1, max_size=12))
def test_a_customer_id_or_mobile_of_other_digits_is_malformed(other: str) -> None:
    for identifier_type, text in ((IdentifierType.ID, other), (IdentifierType.MOBILE, "9" * 9 + other)):
        with pytest.raises(MalformedIdentifier):
            normalize(identifier_type, text, "91")


@pytest.mark.parametrize("text", ["²", "\u0669\u0667\u0663", "\uff19\uff17\uff13", "9_73"])
def test_a_program_id_of_other_digits_is_1101(text: str) -> None:
    org = org_config(programs=(program(973),))
    with pytest.raises(RuleFailure) as refused:
        resolve_program(org, text, None)
    assert refused.value.status == Item.INVALID_PROGRAM_ID
