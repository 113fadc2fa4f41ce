"""Points as text and as numbers: reading what a caller sent, exactly, and writing a Decimal as digits."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal, InvalidOperation

from points_core.domain.codes import Item, Status
from points_core.domain.errors import RuleFailure

POINTS_DECIMAL_PLACES = 3
MAX_POINTS = Decimal(10) ** 12
_POINTS_QUANTUM = Decimal(1).scaleb(-POINTS_DECIMAL_PLACES)


def parse_amount(text: str | None, *, invalid: Status = Item.INVALID_POINTS) -> Decimal:
    """A positive decimal with at most 3 decimal places: `invalid` (801) when missing, not a number or not
    positive; 878 when it has more places than that."""
    if text is None or not text.strip():
        raise RuleFailure(invalid)
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise RuleFailure(invalid) from None
    if not value.is_finite() or value <= 0 or value > MAX_POINTS:
        raise RuleFailure(invalid)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -POINTS_DECIMAL_PLACES:
        raise RuleFailure(Item.INVALID_DECIMAL_PRECISION)
    return value


def echo_amount(text: str | None) -> Decimal:
    """The requested amount as a number for the response, whatever its validity (0 when not a number)."""
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return Decimal(0)
    return value if value.is_finite() else Decimal(0)


def points_for_currency(amount: Decimal, ratio: Decimal) -> Decimal:
    """Points needed to cover `amount` of base currency, rounded up to 3 decimals."""
    return (amount / ratio).quantize(_POINTS_QUANTUM, rounding=ROUND_CEILING)


def decimal_text(value: Decimal) -> str:
    """`Decimal` as plain digits: no exponent, no trailing zeros, no negative zero."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
