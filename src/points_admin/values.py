"""Parsing of the values an operator types or a CSV cell holds. Each parser raises `ValueError` with a reason
that never repeats the value itself (it may be a mobile number or an email address)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from points_core.domain.amounts import POINTS_DECIMAL_PLACES, parse_amount
from points_core.domain.codes import Item
from points_core.domain.digits import ascii_decimal
from points_core.domain.errors import RuleFailure
from points_core.domain.identifiers import IdentifierType, normalize
from points_core.domain.models import OrgConfig

MAX_MONEY = Decimal(10) ** 15
# The most an org's currency_decimals allows.
MONEY_DECIMAL_PLACES = 4


def customer_id(text: str) -> str:
    """The canonical customer id (no leading zeros), as the API's `id=` identifier resolves it."""
    return normalize(IdentifierType.ID, text, country_code="")


def points(text: str) -> Decimal:
    """Points as the API accepts them (the same rule, so an imported amount can always be redeemed)."""
    try:
        return parse_amount(text)
    except RuleFailure as failure:
        if failure.status is Item.INVALID_DECIMAL_PRECISION:
            raise ValueError(f"at most {POINTS_DECIMAL_PLACES} decimal places") from None
        raise ValueError("must be a number greater than 0") from None


def money(text: str) -> Decimal:
    """An amount of money, 0 or more, within what a DynamoDB number holds exactly."""
    if not ascii_decimal(text.strip()):  # Decimal() also reads other scripts' digits and 1_000
        raise ValueError("must be a number, 0 or more")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("must be a number, 0 or more") from None
    if not value.is_finite() or value < 0:
        raise ValueError("must be a number, 0 or more")
    if value > MAX_MONEY:
        raise ValueError(f"must be at most {MAX_MONEY:,}")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_DECIMAL_PLACES:
        raise ValueError(f"at most {MONEY_DECIMAL_PLACES} decimal places")
    return value


def org_zone(org: OrgConfig) -> ZoneInfo:
    try:
        return ZoneInfo(org.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"org {org.org_id} has an unknown timezone {org.timezone!r}") from None


def _is_date_only(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def timestamp(text: str, zone: ZoneInfo) -> datetime:
    """ISO-8601 date and time; without an offset it is a wall-clock time in `zone` (the org's timezone)."""
    if _is_date_only(text):
        # A bare date is ambiguous for an expiry (start or end of that day?): ask for the time.
        raise ValueError("a date needs a time too, e.g. 2026-12-31T23:59:59")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not an ISO-8601 date and time, e.g. 2026-01-15T10:00:00+05:30") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)
