"""The wire shapes of each endpoint's response, to the key (see the reference's examples)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from points_core.codes import Status
from points_core.envelope import decimal_text, flag, request_status, status_block, v11
from points_core.services.redeemability import RedeemableOutcome

_ECHOED_IDENTIFIERS = ("mobile", "email", "external_id")


def _redeemable_item(
    identifiers: dict[str, str], points: Decimal, status: Status, *, redeemable: bool, **values: Any
) -> dict[str, Any]:
    return {
        **{name: identifiers.get(name, "") for name in _ECHOED_IDENTIFIERS},
        "points": points,
        "is_redeemable": flag(redeemable),
        "points_redeem_value": values.get("value", Decimal(0)),
        "points_redeem_local_value": values.get("local_value", Decimal(0)),
        "input_type": values.get("input_type", "points"),
        "points_currency_ratio": values.get("ratio", "0"),
        "item_status": status_block(status, success=redeemable),
    }


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
    item = _redeemable_item(
        identifiers, outcome.requested, decision.status, redeemable=decision.redeemable, **values
    )
    return v11(
        request_status([decision.redeemable]), success=decision.redeemable, points={"redeemable": item}
    )


def is_redeemable_failure(status: Status) -> dict[str, Any]:
    """An unexpected failure, in the endpoint's own shape."""
    item = _redeemable_item({}, Decimal(0), status, redeemable=False)
    return v11(request_status([False]), success=False, points={"redeemable": item})
