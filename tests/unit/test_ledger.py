"""The debit, pure: earliest expiry first, expired skipped, one bucket per expiry, the draws explain the
balance; redemption time."""

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
from points_core.domain.models import Bucket, Draw, Wallet
from points_core.domain.rules import redemption_time
from points_core.domain.timezones import org_zone, zone_rules
from tests.factories import NOW, allocation, org_config, wallet

SOON = NOW + timedelta(days=10)
LATE = NOW + timedelta(days=90)
NEVER = None


def held(holding: Wallet) -> dict[datetime | None, Decimal]:
    """The wallet's points by expiry (None: never), from its buckets: one bucket per expiry, no pages."""
    assert not holding.has_pages
    by_expiry = {bucket.expires_at: bucket.points for bucket in holding.buckets}
    assert len(by_expiry) == len(holding.buckets), "two buckets of one expiry"
    return by_expiry


def test_earliest_expiry_first_and_expired_buckets_skipped() -> None:
    holding = wallet(
        allocation("100", expires_in_days=None),
        allocation("100", expires_in_days=90),
        allocation("100", expires_in_days=-1),
        allocation("80", expires_in_days=10),
    )
    layout, draws = debit(holding, Decimal(120), NOW)
    assert draws == (Draw(points=Decimal(80), expires_at=SOON), Draw(points=Decimal(40), expires_at=LATE))
    assert all(draw.allocation_id == "" for draw in draws)
    # Spent and expired buckets are gone; what is left stays earliest expiry first, never last.
    assert layout.wallet.buckets == (
        Bucket(expires_at=LATE, points=Decimal(60)),
        Bucket(expires_at=NEVER, points=Decimal(100)),
    )
    assert layout.wallet.version == holding.version + 1
    assert layout.wallet.balance(NOW) == holding.balance(NOW) - 120


def test_allocations_with_the_same_expiry_are_one_bucket_and_one_draw() -> None:
    holding = wallet(
        allocation("30", expires_in_days=10, awarded_days_ago=5, allocation_id="soon-new"),
        allocation("100", expires_in_days=90, allocation_id="late"),
        allocation("50", expires_in_days=10, awarded_days_ago=50, allocation_id="soon-old"),
    )
    assert holding.buckets == (
        Bucket(expires_at=SOON, points=Decimal(80)),
        Bucket(expires_at=LATE, points=Decimal(100)),
    )
    layout, draws = debit(holding, Decimal(60), NOW)
    assert draws == (Draw(points=Decimal(60), expires_at=SOON),)  # neither award's id nor award date
    assert held(layout.wallet) == {SOON: Decimal(20), LATE: Decimal(100)}
    # Past what either award held: still one draw from the bucket, then the next expiry.
    layout, draws = debit(holding, Decimal(90), NOW)
    assert draws == (Draw(points=Decimal(80), expires_at=SOON), Draw(points=Decimal(10), expires_at=LATE))
    assert held(layout.wallet) == {LATE: Decimal(90)}


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
    holding = wallet(*(allocation(str(p), expires_in_days=d) for p, d in allocations))
    live: dict[datetime | None, Decimal] = {}  # what the awards left live at NOW, by expiry
    for p, d in allocations:
        if d is None or d > 0:
            expires_at = None if d is None else NOW + timedelta(days=d)
            live[expires_at] = live.get(expires_at, Decimal(0)) + p
    balance = holding.balance(NOW)
    assert balance == sum(live.values(), Decimal(0))
    if balance == 0:
        return
    points = data.draw(st.decimals(min_value=Decimal("0.001"), max_value=balance, places=3))
    layout, draws = debit(holding, points, NOW)
    assert sum(d.points for d in draws) == points
    assert layout.wallet.balance(NOW) == balance - points
    for draw in draws:
        assert draw.expires_at in live
        assert draw.points <= live[draw.expires_at]
    # One draw per bucket, earliest expiry first, never last.
    expiries = [d.expires_at or datetime.max.replace(tzinfo=UTC) for d in draws]
    assert expiries == sorted(set(expiries))
    # Each live bucket keeps exactly what was not drawn from it, and only the last draw leaves anything.
    drawn = {d.expires_at: d.points for d in draws}
    after = held(layout.wallet)
    for expires_at, points_held in live.items():
        assert after.get(expires_at, Decimal(0)) == points_held - drawn.get(expires_at, Decimal(0))
    assert set(after) <= set(live)
    assert all(after.get(d.expires_at, Decimal(0)) == 0 for d in draws[:-1])
    last = draws[-1].expires_at
    if last is not None:
        assert all(e is None or e >= last for e in after)


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
