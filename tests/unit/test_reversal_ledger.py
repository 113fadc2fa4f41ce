"""The credit, pure: draws go back last drawn first, each to the bucket of its expiry; what has expired since
is reported, not credited; a partial reversal leaves what redeeming the rest would have."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from points_core.domain.ledger import credit, debit, undo_order
from points_core.domain.models import Bucket, Draw, Redemption, Wallet
from tests.factories import NOW, allocation, wallet

SOON = NOW + timedelta(days=10)
LATE = NOW + timedelta(days=90)
NEVER = None


def redeemed(holding: Wallet, points: str) -> tuple[Wallet, Redemption]:
    layout, draws = debit(holding, Decimal(points), NOW)
    return layout.wallet, recorded(holding, Decimal(points), draws, layout.wallet.balance(NOW))


def recorded(holding: Wallet, points: Decimal, draws: tuple[Draw, ...], balance_after: Decimal) -> Redemption:
    return Redemption(
        redemption_id="abc123",
        customer_id="1001",
        program_id=holding.program_id,
        points=points,
        value=Decimal(0),
        local_value=Decimal(0),
        balance_after=balance_after,
        draws=draws,
        redeemed_at=NOW,
        recorded_at=NOW,
        till_id="till",
        validated=False,
    )


def held(holding: Wallet) -> dict[datetime | None, Decimal]:
    """The wallet's points by expiry (None: never), from its buckets: one bucket per expiry, no pages."""
    assert not holding.has_pages
    by_expiry = {bucket.expires_at: bucket.points for bucket in holding.buckets}
    assert len(by_expiry) == len(holding.buckets), "two buckets of one expiry"
    return by_expiry


HOLDING = wallet(
    allocation("100", expires_in_days=10),
    allocation("100", expires_in_days=90),
    allocation("100", expires_in_days=None),
)


def test_a_full_reversal_restores_every_bucket_with_its_expiry() -> None:
    after, redemption = redeemed(HOLDING, "250")
    assert held(after) == {NEVER: Decimal(50)}  # the spent buckets are gone from the wallet
    restored, credits = credit(after, redemption, Decimal(250), NOW)
    assert [(c.expires_at, c.points, c.expired, c.allocation_id) for c in credits] == [
        (NEVER, Decimal(50), False, ""),
        (LATE, Decimal(100), False, ""),
        (SOON, Decimal(100), False, ""),
    ]
    # The buckets the debit removed are re-created with their own expiry, in expiry order, never last.
    assert restored.wallet.buckets == (
        Bucket(expires_at=SOON, points=Decimal(100)),
        Bucket(expires_at=LATE, points=Decimal(100)),
        Bucket(expires_at=NEVER, points=Decimal(100)),
    )
    assert restored.wallet.balance(NOW) == HOLDING.balance(NOW)
    assert restored.wallet.version == after.version + 1
    assert restored.wallet.lifetime_points == HOLDING.lifetime_points


def test_a_partial_reversal_gives_back_the_last_drawn_first() -> None:
    after, redemption = redeemed(HOLDING, "250")
    partly, credits = credit(after, redemption, Decimal(80), NOW)
    assert [(c.expires_at, c.points) for c in credits] == [(NEVER, Decimal(50)), (LATE, Decimal(30))]
    assert held(partly.wallet) == {NEVER: Decimal(100), LATE: Decimal(30)}


def test_what_is_left_to_reverse_follows_from_the_total_reversed() -> None:
    _, redemption = redeemed(HOLDING, "250")
    partly = redemption.model_copy(update={"reversed_points": Decimal(80)})
    assert [(draw.expires_at, left) for draw, left in undo_order(partly)] == [
        (LATE, Decimal(70)),
        (SOON, Decimal(100)),
    ]
    assert partly.outstanding == 170


def test_points_whose_bucket_expired_since_are_reported_not_credited() -> None:
    after, redemption = redeemed(HOLDING, "250")
    later = NOW + timedelta(days=30)  # SOON has passed since
    restored, credits = credit(after, redemption, Decimal(250), later)
    assert [(c.expires_at, c.points, c.expired) for c in credits] == [
        (NEVER, Decimal(50), False),
        (LATE, Decimal(100), False),
        (SOON, Decimal(100), True),
    ]
    assert held(restored.wallet) == {LATE: Decimal(100), NEVER: Decimal(100)}
    assert restored.wallet.balance(later) == 200


def test_draws_recorded_per_allocation_go_back_to_the_bucket_of_their_expiry() -> None:
    """A redemption made before wallets held buckets drew from two allocations of one expiry: reversing it
    credits each draw (its allocation named) into the one bucket of that expiry, re-created."""
    old = (
        Draw(
            allocation_id="soon-old",
            points=Decimal(50),
            expires_at=SOON,
            awarded_at=NOW - timedelta(days=50),
            allocation_points=Decimal(50),
        ),
        Draw(
            allocation_id="soon-new",
            points=Decimal(30),
            expires_at=SOON,
            awarded_at=NOW - timedelta(days=5),
            allocation_points=Decimal(30),
        ),
        Draw(
            allocation_id="late",
            points=Decimal(40),
            expires_at=LATE,
            awarded_at=NOW - timedelta(days=30),
            allocation_points=Decimal(100),
        ),
    )
    after = wallet(allocation("60", expires_in_days=90), allocation("100", expires_in_days=None))
    redemption = recorded(after, Decimal(120), old, after.balance(NOW))
    partly, credits = credit(after, redemption, Decimal(60), NOW)
    assert [(c.allocation_id, c.expires_at, c.points) for c in credits] == [
        ("late", LATE, Decimal(40)),
        ("soon-new", SOON, Decimal(20)),
    ]
    assert held(partly.wallet) == {SOON: Decimal(20), LATE: Decimal(100), NEVER: Decimal(100)}
    rest = redemption.model_copy(update={"reversed_points": Decimal(60)})
    restored, credits = credit(partly.wallet, rest, Decimal(60), NOW)
    assert [(c.allocation_id, c.points) for c in credits] == [
        ("soon-new", Decimal(10)),
        ("soon-old", Decimal(50)),
    ]
    assert held(restored.wallet) == {SOON: Decimal(80), LATE: Decimal(100), NEVER: Decimal(100)}


@pytest.mark.parametrize("points", ["0", "250.001", "-1"])
def test_more_than_is_left_or_nothing_is_refused(points: str) -> None:
    after, redemption = redeemed(HOLDING, "250")
    with pytest.raises(ValueError, match="not within"):
        credit(after, redemption, Decimal(points), NOW)


def test_a_wallet_of_another_program_is_refused() -> None:
    after, redemption = redeemed(HOLDING, "10")
    with pytest.raises(ValueError, match="program"):
        credit(after.model_copy(update={"program_id": 974}), redemption, Decimal(10), NOW)


@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=Decimal("0.001"), max_value=Decimal(300), places=3),
            st.one_of(st.none(), st.integers(min_value=5, max_value=8)),
        ),
        min_size=1,
        max_size=6,
    ),
    st.data(),
)
def test_reversing_part_leaves_what_redeeming_the_rest_would_have(
    awards: list[tuple[Decimal, int | None]], data: st.DataObject
) -> None:
    # Few expiries for up to six awards: awards share buckets, and the never-expiring one is drawn last.
    holding = wallet(*(allocation(str(points), expires_in_days=days) for points, days in awards))
    total = holding.balance(NOW)
    points = data.draw(st.decimals(min_value=Decimal("0.001"), max_value=total, places=3))
    back = data.draw(st.decimals(min_value=Decimal("0.001"), max_value=points, places=3))
    after, redemption = redeemed(holding, str(points))
    partly, _ = credit(after, redemption, back, NOW)
    if back == points:
        assert held(partly.wallet) == held(holding)
    else:
        less, _ = debit(holding, points - back, NOW)
        assert held(partly.wallet) == held(less.wallet)
    assert partly.wallet.balance(NOW) == total - points + back
