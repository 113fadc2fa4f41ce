"""Every refusal rule, pure: no boto3, no environment, no clock (time is passed in). A rule raises
`RuleFailure` with the code it answers; services read, ask these, then write.

Redemption, in order (product contract): customer (816/802) → enrolment (686/881) → fraud (809) → program
(1101/895) → group (3316, 1632, 828) → points format (801/878) → multiples-of (807) → minimum (821) → maximum
per redemption (819) → current balance of that program (818) → lifetime points (805) → lifetime purchases
(806). The first failing rule answers. A group redemption's balance and lifetime points are its pool's; the
customer rules and lifetime purchases are the redeeming member's. Validation (808/822/823/824) and
redemption time (859) follow in the services that need them.

Reverse (v2): reversal enabled (4101), the identifier (802), the customer (8015), the redemption named (3803,
3804), the amount (4102, 878), what is left (3802, 3801). Revert (v1.1), per item: reversal enabled (905),
the transaction number (811), the identifier (802), the points given (801, 878), the customer (816), the
bill (811, 814, 815, 810, 812).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from points_core.domain.amounts import parse_amount, points_for_currency
from points_core.domain.codes import Item, Status
from points_core.domain.codes import Reversal as ReversalCodes
from points_core.domain.digits import ascii_digits
from points_core.domain.errors import MalformedIdentifier, RuleFailure
from points_core.domain.identifiers import Identifier, normalize, pick_identifier
from points_core.domain.models import (
    BillEntry,
    CustomerProfile,
    Enrolment,
    OrgConfig,
    Program,
    Redemption,
    ReversalRecord,
    UsedReference,
    Wallet,
)
from points_core.domain.pool import Source, pooled_balance, pooled_lifetime_points
from points_core.domain.validation_codes import ValidationType


def identify(org: OrgConfig, given: Mapping[str, str | None] | Identifier) -> Identifier:
    """The customer identifier a request names (the first given by precedence, or the one named), normalized
    with the org's mobile rules; 802 when it names none that can be valid."""
    try:
        if isinstance(given, Identifier):
            value = normalize(given.type, given.value, org.country_code, org.mobile_national_digits)
            return Identifier(given.type, value)
        return pick_identifier(dict(given), org.country_code, org.mobile_national_digits)
    except MalformedIdentifier:
        raise RuleFailure(Item.INVALID_IDENTIFIER) from None


def resolve_program(org: OrgConfig, program_id_text: str | None, store_id: str | None) -> Program:
    """`program_id` when given (1101 when it is not one of the org's), else the till's store mapping, else
    the org's default, else the org's only program (895 when none applies)."""
    if program_id_text is not None and program_id_text.strip():
        text = program_id_text.strip()
        program = org.program(int(text)) if ascii_digits(text) and len(text) <= 19 else None
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
    pool: Mapping[Source, Wallet] | None = None
    """A group redemption's wallets (the customer's own among them): their points are pooled."""
    group_failure: Status | None = None
    """3316, 1632 or 828 when the group a request names cannot redeem here."""


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
    if check.group_failure is not None:
        raise RuleFailure(check.group_failure)
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
    if check.pool is not None:  # a group redemption: the rules apply to the group's pooled points
        balance, lifetime = pooled_balance(check.pool, check.now), pooled_lifetime_points(check.pool)
    else:
        balance = wallet.balance(check.now) if wallet else Decimal(0)
        lifetime = wallet.lifetime_points if wallet else Decimal(0)
    if points > balance:
        raise RuleFailure(Item.INSUFFICIENT_BALANCE)
    if lifetime < rules.min_lifetime_points:
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


def missed_call_validation(validation_type: ValidationType, skip_validation: bool) -> None:
    """823: validation by missed call is not offered (unless the request skips validation anyway)."""
    if validation_type is ValidationType.MISSED_CALL and not skip_validation:
        raise RuleFailure(Item.MISSED_CALL_DISABLED)


def code_to_check(
    org: OrgConfig, validation_type: ValidationType, skip_validation: bool, given: str | None
) -> str | None:
    """The validation code a redemption must check and consume, or None when it consumes none. 823 as above.
    A request that skips validation (`skip_validation=true` or `validation_type=INVALID`) is 824 unless the
    org allows skipping or does not require validation; its code, if any, is not checked. Otherwise a code
    that is given is always the one to check (the caller answers 808 for a wrong one), and no code (absent,
    empty or blanks) is 824 when the org requires validation and passes without one when it does not."""
    missed_call_validation(validation_type, skip_validation)
    if skip_validation or validation_type is ValidationType.INVALID:
        if org.allow_skip_validation or not org.validation_required:
            return None
        raise RuleFailure(Item.VALIDATION_MANDATORY)
    code = (given or "").strip()
    if code:
        return code
    if org.validation_required:
        raise RuleFailure(Item.VALIDATION_MANDATORY)
    return None


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


# Reverse (v2) and revert (v1.1)

MAX_REDEMPTIONS_PER_REVERT = 25
"""A revert is one transaction (100 items at most): three items per redemption, plus its wallets."""


def reversal_enabled(org: OrgConfig, disabled: Status) -> None:
    """4101 on v2, 905 on v1.1, when the org has turned reversals off."""
    if not org.reversal_enabled:
        raise RuleFailure(disabled)


def named_redemption(
    record: Redemption | ReversalRecord | None,
    marker: UsedReference | None,
    customer_id: str,
    redemption_id: str,
    reference: str,
) -> Redemption | None:
    """The redemption a reverse names by id and/or reference, when the first read already holds it; 3803 when
    it names nothing of this customer's (or the id and the reference disagree), 3804 for a reversal's id.
    None: named by reference only, still to be read."""
    if redemption_id:
        if record is None or record.customer_id != customer_id:
            raise RuleFailure(ReversalCodes.REDEMPTION_NOT_FOUND)
        if isinstance(record, ReversalRecord):
            raise RuleFailure(ReversalCodes.REVERSAL_OF_REVERSAL)
    if reference:
        if marker is None or marker.customer_id != customer_id:
            raise RuleFailure(ReversalCodes.REDEMPTION_NOT_FOUND)
        if redemption_id and marker.redemption_id != redemption_id:
            raise RuleFailure(ReversalCodes.REDEMPTION_NOT_FOUND)
    return record if isinstance(record, Redemption) else None


def reversal_amount(redemption: Redemption, points_text: str | None) -> Decimal:
    """What a reverse gives back: the points asked (4102, 878), or everything left when none are; 3802 when
    nothing is left, 3801 when less is left than asked."""
    if points_text is None:
        points = redemption.outstanding
    else:
        points = parse_amount(points_text, invalid=ReversalCodes.INVALID_POINTS)
    if redemption.outstanding == 0:
        raise RuleFailure(ReversalCodes.ALREADY_REVERSED)
    if points > redemption.outstanding:
        raise RuleFailure(ReversalCodes.MORE_THAN_REMAINING)
    return points


def transaction_number(text: str) -> str:
    """A revert names its bill: 811 when it is blank."""
    if not text.strip():
        raise RuleFailure(Item.INVALID_TRANSACTION_NUMBER)
    return text.strip()


def redemptions_to_revert(
    on_bill: Sequence[BillEntry],
    customer_id: str,
    given: Decimal | None,
    redemptions: Mapping[str, Redemption],
) -> list[Redemption]:
    """The customer's redemptions on the bill that are not fully reversed yet, oldest first. 811 when no
    redemption in the org carries the bill, 814 when none of them is the customer's, 815 when they are more
    than one transaction holds, 810 when `given` is not what the customer redeemed on it, 812 when all of it
    is reversed already."""
    if not on_bill:
        raise RuleFailure(Item.INVALID_TRANSACTION_NUMBER)
    mine = [entry for entry in on_bill if entry.customer_id == customer_id]
    if not mine:
        raise RuleFailure(Item.NOTHING_REDEEMED_ON_TRANSACTION)
    if len(mine) > MAX_REDEMPTIONS_PER_REVERT:
        raise RuleFailure(Item.UNABLE_TO_PROCESS)
    if given is not None and given != sum((entry.points for entry in mine), Decimal(0)):
        raise RuleFailure(Item.REVERT_POINTS_MISMATCH)
    ordered = sorted((redemptions[entry.redemption_id] for entry in mine), key=lambda r: r.recorded_at)
    open_ones = [redemption for redemption in ordered if redemption.outstanding > 0]
    if not open_ones:
        raise RuleFailure(Item.ALREADY_REVERTED)
    return open_ones
