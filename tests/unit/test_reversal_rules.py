"""The refusals of reverse and revert, and of validation, as pure rules: each code from the rule that decides
it, in the order the contract gives (docs in `points_core.domain.rules`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from points_core.domain import rules
from points_core.domain.codes import Item, Reversal, Status
from points_core.domain.errors import RuleFailure
from points_core.domain.identifiers import Identifier, IdentifierType
from points_core.domain.models import BillEntry, Redemption, ReversalRecord, UsedReference
from points_core.domain.validation_codes import ValidationType
from tests.factories import NOW, org_config


def redemption(
    redemption_id: str = "abc123", points: str = "100", reversed_points: str = "0", **more: object
):
    return Redemption(
        redemption_id=redemption_id,
        customer_id=str(more.pop("customer_id", "1001")),
        program_id=973,
        points=Decimal(points),
        value=Decimal(0),
        local_value=Decimal(0),
        balance_after=Decimal(0),
        draws=(),
        redeemed_at=NOW,
        recorded_at=more.pop("recorded_at", NOW),  # type: ignore[arg-type]
        till_id="till",
        validated=False,
        reversed_points=Decimal(reversed_points),
    )


def refused(call: object, *args: object) -> Status:
    with pytest.raises(RuleFailure) as failure:
        call(*args)  # type: ignore[operator]
    return failure.value.status


def test_reversal_disabled_answers_the_code_of_the_api() -> None:
    org = org_config(reversal_enabled=False)
    assert refused(rules.reversal_enabled, org, Reversal.REVERSAL_DISABLED) == Reversal.REVERSAL_DISABLED
    assert refused(rules.reversal_enabled, org, Reversal.REVERSAL_DISABLED_WARNING).code == 905
    rules.reversal_enabled(org_config(), Reversal.REVERSAL_DISABLED)  # enabled: nothing refused


@pytest.mark.parametrize(
    ("record", "marker", "redemption_id", "reference", "code"),
    [
        (None, None, "abc123", "", 3803),  # unknown id
        (redemption(customer_id="2002"), None, "abc123", "", 3803),  # another customer's
        (ReversalRecord("abc123", "1001"), None, "abc123", "", 3804),  # a reversal's id
        (None, None, "", "REF-1", 3803),  # unknown reference
        (
            None,
            UsedReference("abc123", "2002", Decimal(0)),
            "",
            "REF-1",
            3803,
        ),  # another customer's reference
        (redemption(), UsedReference("zzz999", "1001", Decimal(0)), "abc123", "REF-1", 3803),  # they disagree
    ],
)
def test_the_redemption_named_must_be_the_customers(
    record: object, marker: UsedReference | None, redemption_id: str, reference: str, code: int
) -> None:
    assert refused(rules.named_redemption, record, marker, "1001", redemption_id, reference).code == code


def test_a_redemption_named_by_reference_only_is_still_to_be_read() -> None:
    marker = UsedReference("abc123", "1001", Decimal(0))
    assert rules.named_redemption(None, marker, "1001", "", "REF-1") is None
    assert rules.named_redemption(redemption(), marker, "1001", "abc123", "REF-1") == redemption()


@pytest.mark.parametrize(
    ("points", "reversed_points", "asked", "code"),
    [
        ("100", "0", "0", 4102),
        ("100", "0", "-1", 4102),
        ("100", "0", "ten", 4102),
        ("100", "0", "1.0001", 878),
        ("100", "100", None, 3802),
        ("100", "100", "1", 3802),
        ("100", "60", "41", 3801),
    ],
)
def test_the_amount_to_reverse(points: str, reversed_points: str, asked: str | None, code: int) -> None:
    done = redemption(points=points, reversed_points=reversed_points)
    assert refused(rules.reversal_amount, done, asked).code == code


def test_absent_points_reverse_everything_left() -> None:
    assert rules.reversal_amount(redemption(points="100", reversed_points="60"), None) == Decimal(40)
    assert rules.reversal_amount(redemption(points="100", reversed_points="60"), "40") == Decimal(40)


def test_a_blank_transaction_number_is_811() -> None:
    assert refused(rules.transaction_number, "  ").code == 811
    assert rules.transaction_number(" BILL-1 ") == "BILL-1"


def entry(redemption_id: str, customer_id: str = "1001", points: str = "100") -> BillEntry:
    return BillEntry(redemption_id, customer_id, 973, Decimal(points))


@pytest.mark.parametrize(
    ("on_bill", "given", "code"),
    [
        ([], None, 811),
        ([entry("abc123", customer_id="2002")], None, 814),
        ([entry(f"r{n:05d}") for n in range(rules.MAX_REDEMPTIONS_PER_REVERT + 1)], None, 815),
        ([entry("abc123")], Decimal(99), 810),
    ],
)
def test_what_a_revert_of_the_bill_refuses(
    on_bill: list[BillEntry], given: Decimal | None, code: int
) -> None:
    found = {e.redemption_id: redemption(e.redemption_id) for e in on_bill}
    assert refused(rules.redemptions_to_revert, on_bill, "1001", given, found).code == code


def test_a_bill_reverted_already_is_812_and_the_open_ones_come_oldest_first() -> None:
    older = redemption("old001", recorded_at=NOW - timedelta(days=1))
    newer = redemption("new001")
    done = redemption("don001", reversed_points="100")
    on_bill = [entry("new001"), entry("don001"), entry("old001"), entry("oth001", customer_id="2002")]
    found = {r.redemption_id: r for r in (older, newer, done)}
    assert rules.redemptions_to_revert(on_bill, "1001", Decimal(300), found) == [older, newer]
    assert refused(rules.redemptions_to_revert, [entry("don001")], "1001", None, found).code == 812


def test_the_identifier_is_802_when_it_cannot_be_valid() -> None:
    org = org_config()
    assert refused(rules.identify, org, {"mobile": "12"}) == Item.INVALID_IDENTIFIER
    assert refused(rules.identify, org, Identifier(IdentifierType.MOBILE, "abc")) == Item.INVALID_IDENTIFIER
    assert rules.identify(org, Identifier(IdentifierType.MOBILE, "9000000001")).value == "919000000001"


SMS, MISSED_CALL, INVALID = ValidationType.SMS, ValidationType.MISSED_CALL, ValidationType.INVALID
ALLOWS_SKIPPING = {"allow_skip_validation": True}
NOT_REQUIRED = {"validation_required": False}


@pytest.mark.parametrize(
    ("validation_type", "skip", "given", "org", "expected"),
    [
        # 823: validation by missed call is not offered, whatever the org (unless the request skips)
        (MISSED_CALL, False, "123456", {**ALLOWS_SKIPPING, **NOT_REQUIRED}, 823),
        (MISSED_CALL, True, "", ALLOWS_SKIPPING, None),
        (MISSED_CALL, True, "", {}, 824),
        # skipping (skip_validation or INVALID): 824 unless the org allows it or does not require validation
        (SMS, True, "", {}, 824),
        (INVALID, False, "", {}, 824),
        (SMS, True, "123456", {}, 824),
        (SMS, True, "", ALLOWS_SKIPPING, None),
        (INVALID, False, "", ALLOWS_SKIPPING, None),
        (SMS, True, "", NOT_REQUIRED, None),
        (INVALID, False, None, NOT_REQUIRED, None),
        (SMS, True, "123456", ALLOWS_SKIPPING, None),  # a skipping request's code is not checked
        # not skipping, no code (absent, empty or blanks): 824 when the org requires validation
        (SMS, False, None, {}, 824),
        (SMS, False, "", {}, 824),
        (SMS, False, "   ", ALLOWS_SKIPPING, 824),
        # ... and it passes without a code when the org does not
        (SMS, False, None, NOT_REQUIRED, None),
        (SMS, False, "", NOT_REQUIRED, None),
        (SMS, False, " \t", {**ALLOWS_SKIPPING, **NOT_REQUIRED}, None),
        # a code that is given is always checked (the caller answers 808 for a wrong one)
        (SMS, False, " 123456 ", {}, "123456"),
        (SMS, False, "AB12CD", ALLOWS_SKIPPING, "AB12CD"),
        (SMS, False, "123456", NOT_REQUIRED, "123456"),
    ],
)
def test_the_code_a_redemption_must_check(
    validation_type: ValidationType, skip: bool, given: str | None, org: dict[str, bool], expected: object
) -> None:
    config = org_config(**org)
    if isinstance(expected, int):
        assert refused(rules.code_to_check, config, validation_type, skip, given).code == expected
    else:
        assert rules.code_to_check(config, validation_type, skip, given) == expected


def test_by_default_an_org_requires_validation_refuses_skipping_and_answers_v2_refusals_with_200() -> None:
    org = org_config()
    assert org.validation_required and not org.allow_skip_validation
    assert org.v2_error_http_status == 200
