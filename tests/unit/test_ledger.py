"""The debit, pure: earliest expiry first, expired skipped, the draws explain the balance; redemption time."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from points_core.domain.errors import InsufficientPoints, RuleFailure
from points_core.domain.ledger import debit
from points_core.domain.rules import redemption_time
from points_core.domain.timezones import org_zone, zone_rules
from tests.factories import NOW, allocation, org_config, wallet


def test_earliest_expiry_first_and_expired_allocations_skipped() -> None:
    holding = wallet(
        allocation("100", expires_in_days=None, allocation_id="never"),
        allocation("100", expires_in_days=90, allocation_id="late"),
        allocation("100", expires_in_days=-1, allocation_id="expired"),
        allocation("30", expires_in_days=10, awarded_days_ago=5, allocation_id="soon-new"),
        allocation("50", expires_in_days=10, awarded_days_ago=50, allocation_id="soon-old"),
    )
    after, draws = debit(holding, Decimal(120), NOW)
    assert [(d.allocation_id, d.points) for d in draws] == [
        ("soon-old", Decimal(50)),
        ("soon-new", Decimal(30)),
        ("late", Decimal(40)),
    ]
    assert [(a.allocation_id, a.remaining) for a in after.allocations] == [
        ("late", Decimal(60)),
        ("never", Decimal(100)),
    ]
    assert after.version == holding.version + 1
    assert after.balance(NOW) == holding.balance(NOW) - 120


def test_more_than_the_live_points_is_refused() -> None:
    with pytest.raises(InsufficientPoints):
        debit(wallet(allocation("10"), allocation("500", expires_in_days=-1)), Decimal("10.001"), NOW)


@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1000), places=3),
            st.one_of(st.none(), st.integers(min_value=-30, max_value=400)),
        ),
        min_size=1,
        max_size=10,
    ),
    st.data(),
)
def test_the_draws_always_explain_the_new_balance(
    allocations: list[tuple[Decimal, int | None]], data: st.DataObject
) -> None:
    holding = wallet(
        *(
            allocation(str(p), expires_in_days=d, allocation_id=f"a{i}")
            for i, (p, d) in enumerate(allocations)
        )
    )
    balance = holding.balance(NOW)
    if balance == 0:
        return
    points = data.draw(st.decimals(min_value=Decimal("0.001"), max_value=balance, places=3))
    after, draws = debit(holding, points, NOW)
    assert sum(d.points for d in draws) == points
    assert after.balance(NOW) == balance - points
    live = {a.allocation_id: a for a in holding.allocations}
    for draw in draws:
        assert draw.points <= live[draw.allocation_id].remaining
        assert draw.expires_at == live[draw.allocation_id].expires_at
    expiries = [d.expires_at or datetime.max.replace(tzinfo=UTC) for d in draws]
    assert expiries == sorted(expiries)


KOLKATA = ZoneInfo("Asia/Kolkata")


def test_redemption_time_is_in_the_orgs_zone_and_absent_is_now() -> None:
    assert redemption_time(None, KOLKATA, NOW, 7) == NOW
    assert redemption_time("2026-11-22 17:00:00", KOLKATA, NOW, 7) == datetime(
        2026, 11, 22, 11, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22 17:36:00",
        "2026-11-15 17:29:00",
        "2026-11-22T17:00:00",
        "22-11-2026 10:00:00",
        "soon",
        "2026-02-30 10:00:00",
    ],
)
def test_invalid_redemption_times_are_859(text: str) -> None:
    with pytest.raises(RuleFailure) as failure:
        redemption_time(text, KOLKATA, NOW, 7)
    assert failure.value.status.code == 859


def test_within_five_minutes_ahead_and_the_back_dating_window_are_accepted() -> None:
    assert redemption_time("2026-11-22 17:34:00", KOLKATA, NOW, 7) > NOW
    assert redemption_time("2026-11-15 17:31:00", KOLKATA, NOW, 7) < NOW - timedelta(days=6)


def test_the_zone_comes_from_the_configuration_where_the_runtime_has_no_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = zone_rules("Asia/Kolkata")
    assert base64.b64decode(rules).startswith(b"TZif")
    monkeypatch.setattr("zoneinfo.ZoneInfo", _NoDatabase)
    zone = org_zone(org_config(timezone="Asia/Kolkata", timezone_rules=rules))
    assert datetime(2026, 1, 1, tzinfo=zone).utcoffset() == timedelta(hours=5, minutes=30)


class _NoDatabase(ZoneInfo):
    """A runtime without a time zone database: only `from_file` works."""

    def __new__(cls, key: str) -> ZoneInfo:  # type: ignore[misc]
        raise ZoneInfoNotFoundError(key)
