"""Points as text and as numbers: reading what a caller sent, exactly, and writing a Decimal as digits."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal, InvalidOperation

from points_core.domain.codes import Item, Status
from points_core.domain.digits import ascii_decimal
from points_core.domain.errors import RuleFailure

POINTS_DECIMAL_PLACES = 3
MAX_POINTS = Decimal(10) ** 12
_POINTS_QUANTUM = Decimal(1).scaleb(-POINTS_DECIMAL_PLACES)
# An echoed amount has at most 13 integer digits and 15 places: 28 digits, rendered exactly.
_ECHO_MAX_PLACES = 15


def parse_amount(text: str | None, *, invalid: Status = Item.INVALID_POINTS) -> Decimal:
    """A positive decimal in ASCII digits, at most 10^12, with at most 3 decimal places: `invalid` (801)
    when missing, not such a number, not positive or above 10^12; 878 when it has more places than that."""
    value = _read(text)
    if value is None or value <= 0 or value > MAX_POINTS:
        raise RuleFailure(invalid)
    if _places(value) > POINTS_DECIMAL_PLACES:
        raise RuleFailure(Item.INVALID_DECIMAL_PRECISION)
    return value


def echo_amount(text: str | None) -> Decimal:
    """The requested amount as a number for the response, whatever its validity: 0 when it is not a number
    or too large or too precise to echo (a 1e999999 is not answered with a million digits)."""
    value = _read(text)
    if value is None or value.copy_abs() > MAX_POINTS or _places(value) > _ECHO_MAX_PLACES:
        return Decimal(0)
    return value


def _read(text: str | None) -> Decimal | None:
    """The number `text` writes in ASCII (surrounding space aside), exactly; None when it writes none."""
    stripped = (text or "").strip()
    if not ascii_decimal(stripped):
        return None
    try:
        return Decimal(stripped)
    except InvalidOperation:  # an exponent past what Decimal holds
        return None


def _places(value: Decimal) -> int:
    """Decimal places, trailing zeros aside, counted exactly (no context rounding, whatever the size)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite: read by `_read`
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing_zeros))


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
