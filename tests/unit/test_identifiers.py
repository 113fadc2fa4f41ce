"""Identifier precedence and normalization (mobile numbers with the org's country code)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from points_core.domain.errors import MalformedIdentifier
from points_core.domain.identifiers import (
    Identifier,
    IdentifierType,
    normalize,
    normalize_mobile,
    pick_identifier,
)


@pytest.mark.parametrize(
    "raw",
    ["9777785205", "09777785205", "919777785205", "+919777785205", "+91 97777-85205", "0091 (977) 778 5205"],
)
def test_national_and_international_forms_are_one_customer(raw: str) -> None:
    assert normalize_mobile(raw, "91") == "919777785205"


def test_a_number_with_another_country_code_keeps_it() -> None:
    assert normalize_mobile("+447700900123", "91") == "447700900123"
    assert normalize_mobile("447700900123", "91") == "447700900123"


def test_the_national_length_is_org_configuration() -> None:
    assert normalize_mobile("91234567", "65", national_digits=8) == "6591234567"
    assert normalize_mobile("6591234567", "65", national_digits=8) == "6591234567"


@pytest.mark.parametrize(
    "raw", ["abc", "97777x5205", "12", "977778520", "+", "1234567890123456", "+0123456789"]
)
def test_malformed_mobiles(raw: str) -> None:
    with pytest.raises(MalformedIdentifier):
        normalize_mobile(raw, "91")


@given(st.text(alphabet="0123456789", min_size=10, max_size=10).filter(lambda s: not s.startswith("0")))
def test_normalization_is_idempotent(national: str) -> None:
    once = normalize_mobile(national, "91")
    assert normalize_mobile(once, "91") == once
    assert normalize_mobile("+" + once, "91") == once


@pytest.mark.parametrize(
    ("identifier_type", "raw", "expected"),
    [
        (IdentifierType.EMAIL, " Jane.Doe@Example.COM ", "jane.doe@example.com"),
        (IdentifierType.ID, "000123", "123"),
        (IdentifierType.EXTERNAL_ID, " EXT-1 ", "EXT-1"),
        (IdentifierType.CARD_NUMBER, "CARD 77", "CARD 77"),
    ],
)
def test_other_identifiers(identifier_type: IdentifierType, raw: str, expected: str) -> None:
    assert normalize(identifier_type, raw, "91") == expected


@pytest.mark.parametrize(
    ("identifier_type", "raw"),
    [
        (IdentifierType.EMAIL, "not-an-email"),
        (IdentifierType.EMAIL, "a@b"),
        (IdentifierType.ID, "12a"),
        (IdentifierType.ID, "0"),
        (IdentifierType.EXTERNAL_ID, "x" * 129),
        (IdentifierType.CARD_EXTERNAL_ID, "bad\x00value"),
    ],
)
def test_malformed_identifiers(identifier_type: IdentifierType, raw: str) -> None:
    with pytest.raises(MalformedIdentifier):
        normalize(identifier_type, raw, "91")


def test_empty_values_are_absent_and_precedence_decides() -> None:
    picked = pick_identifier(
        {"mobile": "", "email": "  ", "external_id": "EXT-9", "card_number": "C-1"}, "91"
    )
    assert picked == Identifier(IdentifierType.EXTERNAL_ID, "EXT-9")
    assert pick_identifier({"id": "7", "mobile": "9777785205"}, "91").type is IdentifierType.ID


def test_no_identifier_is_malformed() -> None:
    with pytest.raises(MalformedIdentifier):
        pick_identifier({"mobile": None, "email": ""}, "91")
