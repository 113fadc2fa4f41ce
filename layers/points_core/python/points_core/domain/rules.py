"""The redemption rules, pure: no boto3, no environment, no clock (time is passed in).

Order (product contract): customer (816/802) → enrolment (686/881) → fraud (809) → program (1101/895) →
points format (801/878) → multiples-of (807) → minimum (821) → maximum per redemption (819) → current
balance of that program (818) → lifetime points (805) → lifetime purchases (806). The first failing rule
answers. Validation (808/822/823/824) and redemption time (859) follow in the services that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from points_core.domain.codes import Item, Status
from points_core.domain.models import CustomerProfile, Enrolment, OrgConfig, Program, Wallet

POINTS_DECIMAL_PLACES = 3
MAX_POINTS = Decimal(10) ** 12
_POINTS_QUANTUM = Decimal(1).scaleb(-POINTS_DECIMAL_PLACES)


class RuleFailure(Exception):
    def __init__(self, status: Status) -> None:
        super().__init__(status.message)
        self.status = status


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


def resolve_program(org: OrgConfig, program_id_text: str | None, store_id: str | None) -> Program:
    """`program_id` when given (1101 when it is not one of the org's), else the till's store mapping, else
    the org's default, else the org's only program (895 when none applies)."""
    if program_id_text is not None and program_id_text.strip():
        text = program_id_text.strip()
        program = org.program(int(text)) if text.isdigit() and len(text) <= 19 else None
        if program is None:
            raise RuleFailure(Item.INVALID_PROGRAM_ID)
        return program
    store = org.store(store_id) if store_id else None
    for candidate in (store.program_id if store else None, org.default_program_id):
        if candidate is not None and (program := org.program(candidate)) is not None:
            return program
    if len(org.programs) == 1:
        return org.programs[0]
    raise RuleFailure(Item.PROGRAM_NOT_CONFIGURED)


@dataclass(frozen=True, slots=True)
class Quote:
    """What the request asks for, in points and money."""

    points: Decimal
    value: Decimal
    local_value: Decimal
    ratio: Decimal
    input_type: str


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    redeemable: bool
    quote: Quote | None = None


@dataclass(frozen=True, slots=True)
class RedemptionCheck:
    """Everything the rules look at. `customer_failure` is 802/816 when no customer was found;
    `program_failure` is 1101/895 when no program applies."""

    org: OrgConfig
    now: datetime
    amount_text: str | None
    currency_input: bool = False
    customer: CustomerProfile | None = None
    customer_failure: Status | None = None
    program: Program | None = None
    program_failure: Status | None = None
    wallet: Wallet | None = None


def _money(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def quote(org: OrgConfig, program: Program, amount_text: str | None, *, currency_input: bool) -> Quote:
    amount = parse_amount(amount_text)
    ratio = program.points_currency_ratio
    points = points_for_currency(amount, ratio) if currency_input else amount
    value = _money(points * ratio, org.currency_decimals)
    return Quote(
        points=points,
        value=value,
        local_value=_money(value * org.local_currency_ratio, org.currency_decimals),
        ratio=ratio,
        input_type="currency" if currency_input else "points",
    )


def _customer_rules(check: RedemptionCheck) -> tuple[CustomerProfile, Program]:
    if check.customer is None:
        raise RuleFailure(check.customer_failure or Item.CUSTOMER_NOT_FOUND)
    if check.customer.enrolment is Enrolment.CAMPAIGN:
        raise RuleFailure(Item.CAMPAIGN_CUSTOMER)
    if check.customer.enrolment is Enrolment.UNREGISTERED:
        raise RuleFailure(Item.NOT_REGISTERED)
    if check.customer.fraud_status in check.org.blocking_fraud_statuses:
        raise RuleFailure(Item.FRAUD_CUSTOMER)
    if check.program is None:
        raise RuleFailure(check.program_failure or Item.PROGRAM_NOT_CONFIGURED)
    return check.customer, check.program


def _points_rules(
    check: RedemptionCheck, customer: CustomerProfile, program: Program, points: Decimal
) -> None:
    wallet = check.wallet
    rules = program.rules_for(wallet.tier if wallet else None)
    if rules.multiples_of is not None and points % rules.multiples_of != 0:
        raise RuleFailure(Item.NOT_MULTIPLE)
    if points < rules.min_points:
        raise RuleFailure(Item.BELOW_MINIMUM)
    if rules.max_points_per_redemption is not None and points > rules.max_points_per_redemption:
        raise RuleFailure(Item.ABOVE_MAXIMUM)
    if points > (wallet.balance(check.now) if wallet else Decimal(0)):
        raise RuleFailure(Item.INSUFFICIENT_BALANCE)
    if (wallet.lifetime_points if wallet else Decimal(0)) < rules.min_lifetime_points:
        raise RuleFailure(Item.INSUFFICIENT_LIFETIME_POINTS)
    if customer.lifetime_purchases < rules.min_lifetime_purchases:
        raise RuleFailure(Item.INSUFFICIENT_LIFETIME_PURCHASES)


def evaluate(check: RedemptionCheck, *, success: Status = Item.REDEEMABLE) -> Decision:
    """Apply the rules in the contract's order; the first failing one decides."""
    requested: Quote | None = None
    try:
        customer, program = _customer_rules(check)
        requested = quote(check.org, program, check.amount_text, currency_input=check.currency_input)
        _points_rules(check, customer, program, requested.points)
    except RuleFailure as failure:
        return Decision(status=failure.status, redeemable=False, quote=requested)
    return Decision(status=success, redeemable=True, quote=requested)


REDEMPTION_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
FUTURE_TOLERANCE = timedelta(minutes=5)


def redemption_time(text: str | None, zone: tzinfo, now: datetime, backdating_days: int) -> datetime:
    """`YYYY-MM-DD HH:MM:SS` in the org's zone; absent is now. More than five minutes ahead, or older than the
    org's back-dating window, is 859, as is anything else."""
    if text is None or not text.strip():
        return now
    try:
        local = datetime.strptime(text.strip(), REDEMPTION_TIME_FORMAT).replace(tzinfo=zone)
    except ValueError:
        raise RuleFailure(Item.INVALID_REDEMPTION_TIME) from None
    if local > now + FUTURE_TOLERANCE or local < now - timedelta(days=backdating_days):
        raise RuleFailure(Item.INVALID_REDEMPTION_TIME)
    return local
