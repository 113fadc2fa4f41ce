"""Each endpoint's response, built from the wire models (see the reference's examples)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from points_core.codes import Status
from points_core.envelope import decimal_text, flag, request_status, status_block
from points_core.services.redeemability import RedeemableOutcome
from points_core.wire import IsRedeemableEnvelope

_ECHOED_IDENTIFIERS = ("mobile", "email", "external_id")


def _is_redeemable(
    identifiers: dict[str, str], points: Decimal, status: Status, *, redeemable: bool, **values: Any
) -> dict[str, Any]:
    envelope = IsRedeemableEnvelope.model_validate(
        {
            "response": {
                "status": status_block(request_status([redeemable]), success=redeemable),
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
                    }
                },
            }
        }
    )
    return envelope.model_dump()


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
    return _is_redeemable(
        identifiers, outcome.requested, decision.status, redeemable=decision.redeemable, **values
    )


def is_redeemable_failure(status: Status) -> dict[str, Any]:
    """An unexpected failure, in the endpoint's own shape."""
    return _is_redeemable({}, Decimal(0), status, redeemable=False)
