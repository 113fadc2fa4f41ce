"""Validation codes, pure: derivation, checking in order, windows, the message template."""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from points_core.domain.models import OtpSettings
from points_core.domain.validation_codes import (
    ALPHANUMERIC,
    CodeState,
    Rejection,
    code_verifier,
    derive_code,
    message_text,
    refusal_after_uncounted_check,
    refusal_before_comparing,
    window_end,
    window_index,
)

SECRET = b"unit-test-secret-0123456789-0123456789"
NUMERIC_6 = OtpSettings()
ALPHA_10 = OtpSettings(alphabet="alphanumeric", length=10)


def code_for(state: CodeState, settings: OtpSettings = NUMERIC_6, secret: bytes = SECRET) -> str:
    return derive_code(secret, 1, "42", 973, state.nonce, settings)


STATE = CodeState(nonce="n-1", issued_at=900, expires_at=1_500, points=Decimal(100))


@given(st.text(min_size=1, max_size=30))
def test_codes_have_the_configured_shape(nonce: str) -> None:
    assert len(derive_code(SECRET, 1, "42", 973, nonce, NUMERIC_6)) == 6
    assert derive_code(SECRET, 1, "42", 973, nonce, NUMERIC_6).isdigit()
    alpha = derive_code(SECRET, 1, "42", 973, nonce, ALPHA_10)
    assert len(alpha) == 10
    assert set(alpha) <= set(ALPHANUMERIC)


def test_a_code_depends_on_secret_org_customer_program_and_nonce() -> None:
    base = derive_code(SECRET, 1, "42", 973, "n", ALPHA_10)
    assert base == derive_code(SECRET, 1, "42", 973, "n", ALPHA_10)
    others = {
        derive_code(b"another-secret-0123456789-0123456789", 1, "42", 973, "n", ALPHA_10),
        derive_code(SECRET, 2, "42", 973, "n", ALPHA_10),
        derive_code(SECRET, 1, "43", 973, "n", ALPHA_10),
        derive_code(SECRET, 1, "42", 974, "n", ALPHA_10),
        derive_code(SECRET, 1, "42", 973, "m", ALPHA_10),
    }
    assert base not in others
    assert len(others) == 5


def test_a_code_asked_for_more_points_than_issued_is_refused_without_being_compared() -> None:
    assert refusal_before_comparing(STATE, points=Decimal("100.001"), now=1_000, settings=NUMERIC_6) is (
        Rejection.MORE_POINTS
    )
    assert refusal_before_comparing(STATE, points=Decimal(100), now=1_000, settings=NUMERIC_6) is None


def verifier_of(code: str, secret: bytes = SECRET) -> str:
    return code_verifier(secret, 1, "42", 973, code)


def test_a_verifier_is_an_hmac_of_the_code_not_the_code() -> None:
    code = code_for(STATE)
    expected = hmac.new(SECRET, f"verify:1:42:973:{code}".encode(), hashlib.sha256).hexdigest()
    assert verifier_of(code) == expected
    assert code not in verifier_of(code)
    assert verifier_of(f" {code.lower()} ") == verifier_of(code)
    others = {
        verifier_of(code, b"another-secret-0123456789-0123456789"),
        code_verifier(SECRET, 2, "42", 973, code),
        code_verifier(SECRET, 1, "43", 973, code),
        code_verifier(SECRET, 1, "42", 974, code),
        verifier_of("000000" if code != "000000" else "111111"),
    }
    assert verifier_of(code) not in others
    assert len(others) == 5


def test_a_check_that_counted_nothing_is_right_only_for_a_live_code_with_its_verifier() -> None:
    code = code_for(STATE)
    checkable = CodeState(STATE.nonce, STATE.issued_at, STATE.expires_at, STATE.points, 0, verifier_of(code))

    def refusal(state: CodeState | None, given: str = code, points: str = "100", now: int = 1_000) -> Any:
        return refusal_after_uncounted_check(
            state, verifier_of(given), points=Decimal(points), now=now, settings=NUMERIC_6
        )

    assert refusal(checkable) is None
    assert refusal(checkable, f" {code} ", points="99.999") is None
    assert refusal(None) is Rejection.NONE_ISSUED
    assert refusal(checkable, now=1_500) is Rejection.EXPIRED
    dead = CodeState(checkable.nonce, 900, 1_500, Decimal(100), attempts=5, verifier=checkable.verifier)
    assert refusal(dead) is Rejection.TOO_MANY_ATTEMPTS
    assert refusal(checkable, points="100.001") is Rejection.MORE_POINTS
    assert refusal(STATE) is Rejection.UNVERIFIABLE
    assert refusal(checkable, "000000" if code != "000000" else "111111") is Rejection.WRONG


def test_usable_means_unexpired_and_alive() -> None:
    assert STATE.usable(1_499, max_attempts=5)
    assert not STATE.usable(1_500, max_attempts=5)
    assert not CodeState("n", 0, 2_000, Decimal(1), attempts=5).usable(1_000, max_attempts=5)


@given(st.integers(min_value=0, max_value=4_000_000_000))
def test_windows_are_fixed_and_contiguous(now: int) -> None:
    settings = OtpSettings(window_minutes=60)
    assert window_end(now, settings) - now <= 3600
    assert window_end(now, settings) > now
    assert window_index(window_end(now, settings), settings) == window_index(now, settings) + 1


def test_the_message_template() -> None:
    assert message_text("123456", Decimal("100.50"), NUMERIC_6) == (
        "123456 is your validation code to redeem 100.5 points. It is valid for 10 minutes."
    )
    custom = OtpSettings(message="Code {code} (valid {minutes} min)")
    assert message_text("XY", Decimal(1), custom) == "Code XY (valid 10 min)"


@pytest.mark.parametrize("template", ["no code here", "{code} {balance}", "{code} {0}", "{code"])
def test_a_template_without_the_code_or_with_unknown_fields_is_refused(template: str) -> None:
    with pytest.raises(ValidationError):
        OtpSettings(message=template)
