"""Validation codes: issue and deliver (validationcode, isredeemable with issue_otp), and check (isredeemable
with validation_code; redeem, which also consumes the code).

The rules: one active code per customer and program; asking again while it is valid re-sends the same
code and counts as a send; at most `max_sends` sends per window (429); bound to the points it was issued for;
dead after `max_attempts` wrong attempts; a failed delivery does not count and leaves no code behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from points_core.aws.notifications import Channel, DeliveryFailed, Destination, deliver
from points_core.aws.observability import logger, mask_identifier, metrics
from points_core.aws.secrets import otp_secret
from points_core.domain.codes import Item, Otp, Status
from points_core.domain.identifiers import MalformedIdentifier, pick_identifier
from points_core.domain.models import Caller, OrgConfig, Program
from points_core.domain.rules import RuleFailure, echo_amount, parse_amount, resolve_program
from points_core.domain.validation_codes import (
    CodeState,
    Rejection,
    check_code,
    derive_code,
    message_text,
    new_nonce,
)
from points_core.repositories import (
    ConfigRepository,
    Contact,
    CustomerRepository,
    config_repository,
    customer_repository,
    otp_repository,
)
from points_core.repositories.otp import OtpRepository, SendLimitReached, code_state

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


def send_code(
    org: OrgConfig,
    customer_id: str,
    destination: Destination,
    program: Program,
    points: Decimal,
    now: datetime,
    otp: OtpRepository | None = None,
) -> Sent:
    """Issue (or re-use) the customer's code for `program`, bound to `points`, and deliver it."""
    if not destination.reachable(org.otp.channels):
        logger.warning("no channel reaches the customer", extra={"channels": org.otp.channels})
        return Sent(Item.OTP_NOT_ISSUED, delivered=False)
    repository = otp or otp_repository()
    epoch = int(now.timestamp())
    try:
        issued = repository.issue(
            org.org_id, customer_id, program.program_id, points, epoch, new_nonce(), org.otp
        )
    except SendLimitReached as limit:
        metrics.add_metric(name="OtpRateLimited", unit="Count", value=1)
        return Sent(Otp.RATE_LIMITED, delivered=False, retry_after=limit.retry_after)
    code = derive_code(otp_secret(), org.org_id, customer_id, program.program_id, issued.state.nonce, org.otp)
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


def check_given_code(
    org: OrgConfig,
    customer_id: str,
    program: Program,
    points: Decimal,
    given: str,
    otp_values: dict[str, Any] | None,
    now: datetime,
    otp: OtpRepository | None = None,
) -> CodeCheck:
    """Whether `given` is the customer's valid code for these points (nothing is consumed here); a wrong
    code counts as a failed attempt."""
    state = code_state(otp_values or {}, program.program_id)
    rejection = check_code(
        given,
        state,
        secret=otp_secret(),
        org_id=org.org_id,
        customer_id=customer_id,
        program_id=program.program_id,
        points=points,
        now=int(now.timestamp()),
        settings=org.otp,
    )
    if rejection is None:
        return CodeCheck(None, state)
    if rejection is Rejection.WRONG and state is not None:
        (otp or otp_repository()).record_wrong_attempt(
            org.org_id, customer_id, program.program_id, state.nonce
        )
    metrics.add_metric(name="OtpRejected", unit="Count", value=1)
    logger.info("validation code refused", extra={"customer_id": customer_id, "reason": rejection.value})
    return CodeCheck(Item.INVALID_VALIDATION_CODE, state)


@dataclass(frozen=True, slots=True)
class CodeRequest:
    identifiers: dict[str, str | None]
    points: str | None
    program_id: str | None = None


@dataclass(frozen=True, slots=True)
class CodeOutcome:
    status: Status
    success: bool
    points: Decimal
    contact: Contact | None = None
    retry_after: int | None = None


def issue_validation_code(
    caller: Caller,
    request: CodeRequest,
    now: datetime,
    *,
    configs: ConfigRepository | None = None,
    customers: CustomerRepository | None = None,
) -> CodeOutcome:
    """validationcode: customer (802/816) → program (1101/895) → points (801/878) → send (429/860)."""
    echo = echo_amount(request.points)
    org = (configs or config_repository()).org(caller.org_id)
    if org is None:
        return CodeOutcome(Item.PROGRAM_NOT_CONFIGURED, success=False, points=echo)
    try:
        identifier = pick_identifier(request.identifiers, org.country_code, org.mobile_national_digits)
    except MalformedIdentifier:
        return CodeOutcome(Item.INVALID_IDENTIFIER, success=False, points=echo)
    contact = (customers or customer_repository()).contact(org.org_id, identifier)
    if contact is None:
        return CodeOutcome(Item.CUSTOMER_NOT_FOUND, success=False, points=echo)
    try:
        program = resolve_program(org, request.program_id, caller.store_id)
        points = parse_amount(request.points)
    except RuleFailure as failure:
        return CodeOutcome(failure.status, success=False, points=echo, contact=contact)
    sent = send_code(
        org, contact.customer_id, Destination(contact.mobile, contact.email), program, points, now
    )
    logger.info(
        "validation code requested",
        extra={
            "org_id": org.org_id,
            "till_id": caller.till_id,
            "identifier": mask_identifier(identifier.type, identifier.value),
            "code": sent.status.code,
        },
    )
    return CodeOutcome(
        sent.status, success=sent.delivered, points=points, contact=contact, retry_after=sent.retry_after
    )
