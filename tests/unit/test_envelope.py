"""JSON rendering (exact decimals, no floats) and the envelopes."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from points_core.capillary.envelope import request_status, v2_errors, v11
from points_core.capillary.json_renderer import dumps
from points_core.domain.amounts import decimal_text
from points_core.domain.codes import Item, RequestStatus


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(100), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("10.500"), "10.5"),
        (Decimal("0.000"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("0.001"), "0.001"),
        (Decimal("1234567890123.125"), "1234567890123.125"),
    ],
)
def test_decimals_render_without_exponent_or_trailing_zeros(value: Decimal, text: str) -> None:
    assert decimal_text(value) == text
    assert dumps({"n": value}) == '{"n":' + text + "}"


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15, places=6))
def test_json_numbers_round_trip_exactly(value: Decimal) -> None:
    assert json.loads(dumps([value]), parse_float=Decimal, parse_int=Decimal)[0] == value


def test_a_string_that_looks_like_a_marker_stays_a_string() -> None:
    payload = {"note": "__decimal_0000__12", "n": Decimal("1.5")}
    assert json.loads(dumps(payload), parse_float=Decimal) == {
        "note": "__decimal_0000__12",
        "n": Decimal("1.5"),
    }


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        dumps({"n": 1.5})


def test_request_status_of_items() -> None:
    assert request_status([True]) == RequestStatus.SUCCESS
    assert request_status([True, False]) == RequestStatus.SOME_FAILED
    assert request_status([False, False]) == RequestStatus.ALL_FAILED
    assert request_status([]) == RequestStatus.ALL_FAILED


def test_v11_envelope_has_string_booleans_and_a_numeric_code() -> None:
    assert v11(RequestStatus.ALL_FAILED, success=False, points={}) == {
        "response": {
            "status": {"success": "false", "code": 500, "message": "All requests have failed due to errors"},
            "points": {},
        }
    }


def test_v2_error_envelope() -> None:
    assert v2_errors(Item.INVALID_DECIMAL_PRECISION) == {
        "warnings": [],
        "errors": [{"status": False, "code": 878, "message": Item.INVALID_DECIMAL_PRECISION.message}],
    }
