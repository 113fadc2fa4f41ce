"""isredeemable: can this customer redeem these points from this program now? Optionally checks a validation
code the customer holds (without consuming it), or issues one once every rule has passed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from points_core.aws.notifications import Destination
from points_core.aws.observability import logger, mask_identifier, tracer
from points_core.domain import rules
from points_core.domain.amounts import echo_amount
from points_core.domain.codes import Item, Otp, RequestStatus, Status
from points_core.domain.errors import GaveUp, RuleFailure
from points_core.domain.identifiers import Identifier
from points_core.domain.models import Caller, CustomerProfile, OrgConfig, Program, Wallet
from points_core.domain.models.group import NO_GROUP, GroupRequest
from points_core.domain.rules import Decision, evaluate
from points_core.domain.validation_codes import ValidationType
from points_core.services.lookup import Lookup, look_up
from points_core.services.orgs import load_org
from points_core.services.validation_codes import check_code_counted, send_code


@dataclass(frozen=True, slots=True)
class RedeemableQuery:
    identifiers: dict[str, str | None]
    points: str | None
    program_id: str | None = None
    currency_input: bool = False
    currency_value: str | None = None
    issue_otp: bool = False
    validation_code: str | None = None
    skip_validation: bool = False
    validation_type: ValidationType = ValidationType.SMS
    group: GroupRequest = NO_GROUP

    @property
    def amount_text(self) -> str | None:
        if self.currency_input and self.currency_value is not None and self.currency_value.strip():
            return self.currency_value
        return self.points

    @property
    def code_to_check(self) -> str | None:
        skipped = self.skip_validation or self.validation_type is ValidationType.INVALID
        code = (self.validation_code or "").strip()
        return code if code and not skipped else None


@dataclass(frozen=True, slots=True)
class RedeemableOutcome:
    decision: Decision
    query: RedeemableQuery
    profile: CustomerProfile | None = None
    program: Program | None = None
    wallet: Wallet | None = None
    identifier: Identifier | None = field(default=None)
    retry_after: int | None = None
    """Seconds until a code may be sent again, when the send limit refused `issue_otp`."""
    is_group_redemption: bool = False
    """Checked against a UserGroup2 group's pooled points (cross-member redemption)."""

    @property
    def status(self) -> Status:
        return self.decision.status

    @property
    def success(self) -> bool:
        return self.decision.redeemable

    @property
    def requested(self) -> Decimal:
        return self.decision.quote.points if self.decision.quote else echo_amount(self.query.amount_text)


def _after_the_rules(
    org: OrgConfig, query: RedeemableQuery, found: Lookup, decision: Decision, now: datetime
) -> tuple[Decision, int | None]:
    """Once the rules passed: validation (823, 808), then issuing (429; a failed delivery is warning 876)."""
    if not decision.redeemable or found.profile is None or found.program is None or decision.quote is None:
        return decision, None
    profile, program, points = found.profile, found.program, decision.quote.points
    try:
        rules.missed_call_validation(query.validation_type, query.skip_validation)
    except RuleFailure as refused:
        return Decision(refused.status, redeemable=False, quote=decision.quote), None
    if query.code_to_check is not None:
        checked = check_code_counted(org, profile.customer_id, program, points, query.code_to_check, now)
        if checked.refused is not None:
            return Decision(checked.refused, redeemable=False, quote=decision.quote), None
    if query.issue_otp:
        sent = send_code(
            org, profile.customer_id, Destination(profile.mobile, profile.email), program, points, now
        )
        if sent.status == Otp.RATE_LIMITED:
            return Decision(sent.status, redeemable=False, quote=decision.quote), sent.retry_after
        if not sent.delivered:
            return Decision(Item.REDEEMABLE_OTP_FAILED, redeemable=True, quote=decision.quote), None
    return decision, None


@tracer.capture_method(capture_response=False)
def check_redeemable(caller: Caller, query: RedeemableQuery, now: datetime) -> RedeemableOutcome:
    try:
        org = load_org(caller)
    except RuleFailure as failure:
        return RedeemableOutcome(Decision(failure.status, redeemable=False), query)
    # A given code is checked by one conditional write, not from a read: the code state is not read here.
    try:
        found = look_up(org, caller.store_id, query.identifiers, query.program_id, now=now, group=query.group)
    except GaveUp:
        return RedeemableOutcome(Decision(RequestStatus.CUSTOMER_LOCKED, redeemable=False), query)
    decision = evaluate(found.check(org, now, query.amount_text, currency_input=query.currency_input))
    decision, retry_after = _after_the_rules(org, query, found, decision, now)
    logger.info(
        "redeemability checked",
        extra={
            "identifier": mask_identifier(found.identifier.type, found.identifier.value)
            if found.identifier
            else None,
            "program_id": found.program.program_id if found.program else None,
            "code": decision.status.code,
        },
    )
    return RedeemableOutcome(
        decision,
        query,
        found.profile,
        found.program,
        found.wallet,
        found.identifier,
        retry_after,
        is_group_redemption=found.pool is not None
        and bool(found.group and found.group.cross_member_redemption),
    )
