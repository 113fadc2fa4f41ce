"""Validation codes: issue and deliver (validationcode, isredeemable with issue_otp), and check (isredeemable
with validation_code; redeem, which also consumes the code).

The rules: one active code per customer and program; a code's points never grow: asking again while it is
valid re-sends the same code when it asks for the same or fewer points (it stays bound to what it was issued
for), and issues a new code, bound to the new points, when it asks for more (the old one dies); either way the
send counts; at most `max_sends` sends per window (429); dead after `max_attempts` wrong attempts, counted
by the very write that compares the code's verifier (isredeemable and redeem alike; redeem's transaction
then consumes a right code only while the limit is not reached); a failed delivery does not count and leaves
the codes as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from points_core.aws.notifications import Channel, Destination, deliver
from points_core.aws.observability import logger, mask_identifier, metrics, tracer
from points_core.aws.secrets import otp_secret
from points_core.domain import rules
from points_core.domain.amounts import echo_amount, parse_amount
from points_core.domain.codes import Item, Otp, Outcome, Status
from points_core.domain.errors import DeliveryFailed, RuleFailure, SendLimitReached
from points_core.domain.models import Caller, Contact, OrgConfig, Program
from points_core.domain.validation_codes import (
    CodeState,
    Rejection,
    code_verifier,
    derive_code,
    message_text,
    new_nonce,
    refusal_after_uncounted_check,
)
from points_core.repositories import customer_repository, otp_repository
from points_core.services.orgs import load_org

_ISSUED = {
    (Channel.SMS,): Item.VALIDATION_CODE_ISSUED_SMS,
    (Channel.EMAIL,): Item.VALIDATION_CODE_ISSUED_EMAIL,
    (Channel.SMS, Channel.EMAIL): Item.VALIDATION_CODE_ISSUED_SMS_AND_EMAIL,
}


@dataclass(frozen=True, slots=True)
class Sent:
    """What issuing and delivering a code came to."""

    status: Status
    delivered: bool
    retry_after: int | None = None


@tracer.capture_method(capture_response=False)
def send_code(
    org: OrgConfig,
    customer_id: str,
    destination: Destination,
    program: Program,
    points: Decimal,
    now: datetime,
) -> Sent:
    """Issue the customer's code for `program`, bound to `points` (or re-use the valid one issued for at least
    `points`), and deliver it."""
    if not destination.reachable(org.otp.channels):
        logger.warning("no channel reaches the customer", extra={"channels": org.otp.channels})
        return Sent(Item.OTP_NOT_ISSUED, delivered=False)
    repository = otp_repository()
    epoch = int(now.timestamp())
    secret, nonce = otp_secret(), new_nonce()
    verifier = code_verifier(
        secret,
        org.org_id,
        customer_id,
        program.program_id,
        derive_code(secret, org.org_id, customer_id, program.program_id, nonce, org.otp),
    )
    try:
        issued = repository.issue(
            org.org_id, customer_id, program.program_id, points, epoch, nonce, verifier, org.otp
        )
    except SendLimitReached as limit:
        metrics.add_metric(name="OtpRateLimited", unit="Count", value=1)
        return Sent(Otp.RATE_LIMITED, delivered=False, retry_after=limit.retry_after)
    code = derive_code(secret, org.org_id, customer_id, program.program_id, issued.state.nonce, org.otp)
    try:
        channels = deliver(message_text(code, points, org.otp), destination, org.otp.channels, org.org_id)
    except DeliveryFailed:
        repository.undo_issue(org.org_id, customer_id, program.program_id, issued)
        metrics.add_metric(name="OtpFailed", unit="Count", value=1)
        return Sent(Item.OTP_NOT_ISSUED, delivered=False)
    metrics.add_metric(name="OtpSent", unit="Count", value=1)
    logger.info(
        "validation code sent",
        extra={
            "customer_id": customer_id,
            "program_id": program.program_id,
            "fresh": issued.fresh,
            "channels": channels,
        },
    )
    return Sent(_ISSUED[channels], delivered=True)


@dataclass(frozen=True, slots=True)
class CodeCheck:
    refused: Status | None
    """808, or None when the code is valid for these points."""
    state: CodeState | None


@tracer.capture_method(capture_response=False)
def check_code_counted(
    org: OrgConfig,
    customer_id: str,
    program: Program,
    points: Decimal,
    given: str,
    now: datetime,
) -> CodeCheck:
    """The check of isredeemable and redeem (nothing consumed here, nothing read before): one conditional
    write compares the given code's verifier with the stored one and counts it only if it is wrong, while
    fewer than `max_attempts` are counted, so however many guesses arrive at once no more than `max_attempts`
    wrong ones are ever answered. A right code fails that condition and counts nothing; so does one refused
    whatever was given (none, expired, dead, asked for more points than it was issued for, issued before codes
    had a verifier), and those are told apart from the right one by the state the refused write found."""
    epoch = int(now.timestamp())
    given_verifier = code_verifier(otp_secret(), org.org_id, customer_id, program.program_id, given)
    checked = otp_repository().count_unless_right(
        org.org_id, customer_id, program.program_id, given_verifier, points, epoch, org.otp.max_attempts
    )
    if checked.counted:
        return _refused(customer_id, Rejection.WRONG, None)
    rejection = refusal_after_uncounted_check(
        checked.found, given_verifier, points=points, now=epoch, settings=org.otp
    )
    if rejection is not None:
        return _refused(customer_id, rejection, checked.found)
    return CodeCheck(None, checked.found)


def _refused(customer_id: str, rejection: Rejection, state: CodeState | None) -> CodeCheck:
    metrics.add_metric(name="OtpRejected", unit="Count", value=1)
    logger.info("validation code refused", extra={"customer_id": customer_id, "reason": rejection.value})
    return CodeCheck(Item.INVALID_VALIDATION_CODE, state)


@dataclass(frozen=True, slots=True)
class ValidationCodeRequest:
    identifiers: dict[str, str | None]
    points: str | None
    program_id: str | None = None


@dataclass(frozen=True, slots=True)
class ValidationCodeOutcome(Outcome):
    points: Decimal
    contact: Contact | None = None
    retry_after: int | None = None


@tracer.capture_method(capture_response=False)
def issue_validation_code(
    caller: Caller, request: ValidationCodeRequest, now: datetime
) -> ValidationCodeOutcome:
    """validationcode: org (895) → customer (802/816) → program (1101/895) → points (801/878) → send
    (429/860)."""
    echo = echo_amount(request.points)
    contact: Contact | None = None
    try:
        org = load_org(caller)
        identifier = rules.identify(org, request.identifiers)
        contact = customer_repository().contact(org.org_id, identifier)
        if contact is None:
            raise RuleFailure(Item.CUSTOMER_NOT_FOUND)
        program = rules.resolve_program(org, request.program_id, caller.store_id)
        points = parse_amount(request.points)
    except RuleFailure as failure:
        return ValidationCodeOutcome(failure.status, success=False, points=echo, contact=contact)
    sent = send_code(
        org, contact.customer_id, Destination(contact.mobile, contact.email), program, points, now
    )
    logger.info(
        "validation code requested",
        extra={"identifier": mask_identifier(identifier.type, identifier.value), "code": sent.status.code},
    )
    return ValidationCodeOutcome(
        sent.status, success=sent.delivered, points=points, contact=contact, retry_after=sent.retry_after
    )
