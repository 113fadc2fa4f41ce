"""Each endpoint's response, built from the wire models (see the reference's examples)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from points_core.capillary.envelope import flag, request_status, status_block, v2_errors
from points_core.capillary.responses import (
    IsRedeemableEnvelope,
    RedeemEnvelope,
    ReverseResponse,
    RevertEnvelope,
    V2ErrorEnvelope,
    ValidationCodeEnvelope,
)
from points_core.domain.amounts import decimal_text
from points_core.domain.codes import Otp, RequestStatus, Status
from points_core.domain.models import Reversal
from points_core.services.redeemability import RedeemableOutcome
from points_core.services.redemption import RedeemOutcome
from points_core.services.reversal import ReverseOutcome, RevertItem, RevertOutcome
from points_core.services.validation_codes import ValidationCodeOutcome

_ECHOED_IDENTIFIERS = ("mobile", "email", "external_id")


def _request_status(item: Status, success: bool) -> Status:
    """A send limit is a request-level 429 too (with HTTP 429); otherwise 200/500 by the item."""
    return RequestStatus.RATE_LIMITED if item == Otp.RATE_LIMITED else request_status([success])


def _is_redeemable(
    identifiers: dict[str, str], points: Decimal, status: Status, *, redeemable: bool, **values: Any
) -> dict[str, Any]:
    envelope = IsRedeemableEnvelope.model_validate(
        {
            "response": {
                "status": status_block(_request_status(status, redeemable), success=redeemable),
                "points": {
                    "redeemable": {
                        **{name: identifiers.get(name, "") for name in _ECHOED_IDENTIFIERS},
                        "points": points,
                        "is_redeemable": flag(redeemable),
                        "points_redeem_value": values.get("value", Decimal(0)),
                        "points_redeem_local_value": values.get("local_value", Decimal(0)),
                        "input_type": values.get("input_type", "points"),
                        "points_currency_ratio": values.get("ratio", "0"),
                        "item_status": status_block(status, success=redeemable),
                        "is_group_redemption": values.get("is_group_redemption"),
                    }
                },
            }
        }
    )
    return envelope.model_dump(exclude_none=True)


def is_redeemable(outcome: RedeemableOutcome) -> dict[str, Any]:
    decision = outcome.decision
    if outcome.profile is not None:
        identifiers = {name: getattr(outcome.profile, name) for name in _ECHOED_IDENTIFIERS}
    else:
        identifiers = {
            name: (outcome.query.identifiers.get(name) or "").strip() for name in _ECHOED_IDENTIFIERS
        }
    values: dict[str, Any] = {"input_type": "currency" if outcome.query.currency_input else "points"}
    if outcome.program is not None:
        values["ratio"] = decimal_text(outcome.program.points_currency_ratio)
    if decision.redeemable and decision.quote is not None:
        values.update(value=decision.quote.value, local_value=decision.quote.local_value)
    if outcome.is_group_redemption:
        values["is_group_redemption"] = "true"
    return _is_redeemable(
        identifiers, outcome.requested, decision.status, redeemable=decision.redeemable, **values
    )


def is_redeemable_failure(status: Status) -> dict[str, Any]:
    """An unexpected failure, in the endpoint's own shape."""
    return _is_redeemable({}, Decimal(0), status, redeemable=False)


def validation_code(outcome: ValidationCodeOutcome) -> dict[str, Any]:
    contact = outcome.contact
    success_status = RequestStatus.OPERATION_SUCCESSFUL if outcome.success else RequestStatus.ALL_FAILED
    return _validation_code(
        {
            "user_id": contact.customer_id if contact else "",
            "mobile": contact.mobile if contact else "",
            "email": contact.email if contact else "",
            "external_id": contact.external_id if contact else "",
        },
        outcome.points,
        outcome.status,
        success=outcome.success,
        request=RequestStatus.RATE_LIMITED if outcome.status == Otp.RATE_LIMITED else success_status,
    )


def validation_code_failure(status: Status) -> dict[str, Any]:
    return _validation_code({}, Decimal(0), status, success=False, request=RequestStatus.ALL_FAILED)


def _validation_code(
    contact: dict[str, str], points: Decimal, status: Status, *, success: bool, request: Status
) -> dict[str, Any]:
    envelope = ValidationCodeEnvelope.model_validate(
        {
            "response": {
                "status": status_block(request, success=success),
                "validation_code": {
                    "code": {
                        "user_id": contact.get("user_id", ""),
                        "mobile": contact.get("mobile", ""),
                        "email": contact.get("email", ""),
                        "external_id": contact.get("external_id", ""),
                        "points": points,
                        "item_status": status_block(status, success=success),
                    }
                },
            }
        }
    )
    return envelope.model_dump()


def _redeemed(outcome: RedeemOutcome) -> dict[str, Any]:
    profile = outcome.profile
    given = outcome.item.identifiers
    item: dict[str, Any] = {
        "mobile": profile.mobile if profile else (given.get("mobile") or "").strip(),
        "email": profile.email if profile else (given.get("email") or "").strip(),
        "external_id": profile.external_id if profile else (given.get("external_id") or "").strip(),
        "user_id": profile.customer_id if profile else None,
        "points_redeemed": decimal_text(outcome.quote.points)
        if outcome.quote
        else (outcome.item.points or ""),
        "redemption_purpose": outcome.item.purpose,
        "redeemed_value": Decimal(0),
        "side_effects": {"effect": []},
        "item_status": status_block(outcome.status, success=outcome.success),
    }
    redemption = outcome.redemption
    if redemption is not None:
        item.update(
            redemption_id=redemption.redemption_id,
            redeemed_value=redemption.value,
            redeemed_local_value=redemption.local_value,
            balance=redemption.balance_after,
            **({"is_group_redemption": "true"} if redemption.cross_member else {}),
            side_effects={
                "effect": [
                    {
                        "id": redemption.summary_id,
                        "case_value": "false",
                        "num_points": redemption.points,
                        "currency_value": redemption.value,
                        "validation_code": outcome.item.validation_code if redemption.validated else "",
                        "points_redemption_summary_id": str(redemption.summary_id),
                        "redeemed_on_bill_number": redemption.transaction_number,
                        "redeemed_on_bill_id": -1,
                        "type": "points",
                    }
                ]
            },
        )
    elif outcome.original is not None:
        item.update(redemption_id=outcome.original.redemption_id, balance=outcome.original.balance_after)
    return item


def _items_envelope(
    envelope: type[RedeemEnvelope | RevertEnvelope],
    items: list[dict[str, Any]],
    successes: list[bool],
) -> dict[str, Any]:
    """A v1.1 multi-item answer: `responses.points` is an object for one item (whether the request sent an
    object or a list of one: real clients send a list of one and read an object), a list for two or more.
    Only what was set is rendered (a failed item has no balance, but says `user_id: null`)."""
    return envelope.model_validate(
        {
            "response": {
                "status": status_block(request_status(successes), success=all(successes)),
                "responses": {"points": items[0] if len(items) == 1 else items},
            }
        }
    ).model_dump(exclude_unset=True)


def redeem(outcomes: list[RedeemOutcome]) -> dict[str, Any]:
    return _items_envelope(RedeemEnvelope, [_redeemed(o) for o in outcomes], [o.success for o in outcomes])


def redeem_failure(status: Status) -> dict[str, Any]:
    item: dict[str, Any] = {
        "mobile": "",
        "email": "",
        "external_id": "",
        "user_id": None,
        "points_redeemed": "",
        "redeemed_value": Decimal(0),
        "side_effects": {"effect": []},
        "item_status": status_block(status, success=False),
    }
    return _items_envelope(RedeemEnvelope, [item], [False])


def reverse(
    outcome: ReverseOutcome, org_id: int, identifier_type: str, identifier_value: str
) -> dict[str, Any]:
    """The v2 reversal, key for key as the reference's example (`warnings` always present)."""
    reversal = outcome.reversal
    assert reversal is not None and outcome.customer_id is not None and outcome.requested is not None
    payload = ReverseResponse.model_validate(
        {
            "orgId": org_id,
            "identifier": {"type": identifier_type, "value": identifier_value},
            "customerId": int(outcome.customer_id),
            "redemptionId": reversal.redemption_id,
            "reversalId": reversal.reversal_id,
            "pointsToBeReversed": outcome.requested,
            "pointsReversed": reversal.points,
            "pointsReversedDetails": {"available": reversal.available, "expired": reversal.expired},
            "crossMemberReversalBreakup": _breakup(reversal) if outcome.cross_member else None,
            "warnings": [],
        }
    ).model_dump()
    if payload["crossMemberReversalBreakup"] is None:  # absent for a reversal of one customer's redemption
        del payload["crossMemberReversalBreakup"]
    return payload


def _breakup(reversal: Reversal) -> list[dict[str, Any]]:
    """A group redemption's reversal, per member and expiry, in the order given back."""
    entries: dict[tuple[str, datetime | None, bool], Decimal] = {}
    for credit in reversal.credits:
        key = (credit.customer_id or reversal.customer_id, credit.expires_at, credit.expired)
        entries[key] = entries.get(key, Decimal(0)) + credit.points
    return [
        {
            "memberId": int(member),
            "pointsRestored": Decimal(0) if expired else points,
            "pointsExpiredByReversal": points if expired else Decimal(0),
            "expiryBatchDate": expires_at.isoformat() if expires_at else None,
            "status": "EXPIRED" if expired else "REVERSED",
        }
        for (member, expires_at, expired), points in entries.items()
    ]


def v2_failure(status: Status) -> dict[str, Any]:
    return V2ErrorEnvelope.model_validate(v2_errors(status)).model_dump()


def _reverted(outcome: RevertOutcome) -> dict[str, Any]:
    contact = outcome.contact
    given = outcome.item.identifiers
    reversals = outcome.reversals
    item: dict[str, Any] = {
        **{
            name: getattr(contact, name) if contact else (given.get(name) or "").strip()
            for name in _ECHOED_IDENTIFIERS
        },
        "user_id": contact.customer_id if contact else None,
        "transaction_number": outcome.item.transaction_number,
        "points_reverted": decimal_text(sum((r.points for r in reversals), Decimal(0))),
        "points_reverted_details": {
            "available": sum((r.available for r in reversals), Decimal(0)),
            "expired": sum((r.expired for r in reversals), Decimal(0)),
        },
        "reversals": {
            "reversal": [
                {
                    "redemption_id": r.redemption_id,
                    "reversal_id": r.reversal_id,
                    "points_reversed": r.points,
                    "points_credited": r.available,
                    "points_expired": r.expired,
                }
                for r in reversals
            ]
        },
        "item_status": status_block(outcome.status, success=outcome.success),
    }
    if outcome.balance is not None:
        item["balance"] = outcome.balance
    return item


def revert(outcomes: list[RevertOutcome]) -> dict[str, Any]:
    return _items_envelope(RevertEnvelope, [_reverted(o) for o in outcomes], [o.success for o in outcomes])


def revert_failure(status: Status) -> dict[str, Any]:
    """An unexpected failure, in the endpoint's own shape: an item that names nobody and reverted nothing."""
    return revert([RevertOutcome(status, False, RevertItem({}, ""))])
