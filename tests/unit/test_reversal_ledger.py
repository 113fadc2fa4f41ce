"""The credit, pure: draws go back last drawn first, to their allocations with their original expiry; what
has expired since is reported, not credited; a partial reversal leaves what redeeming the rest would have."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from points_core.domain.errors import StaleRead
from points_core.domain.ledger import credit, debit, undo_order
from points_core.domain.models import Redemption, Wallet
from tests.factories import NOW, allocation, wallet


def redeemed(holding: Wallet, points: str) -> tuple[Wallet, Redemption]:
    after, draws = debit(holding, Decimal(points), NOW)
    return after, Redemption(
        redemption_id="abc123",
        customer_id="1001",
        program_id=holding.program_id,
        points=Decimal(points),
        value=Decimal(0),
        local_value=Decimal(0),
        balance_after=after.balance(NOW),
        draws=draws,
        redeemed_at=NOW,
        recorded_at=NOW,
        till_id="till",
        validated=False,
    )


def remaining(holding: Wallet) -> dict[str, Decimal]:
    return {a.allocation_id: a.remaining for a in holding.allocations if a.remaining > 0}


HOLDING = wallet(
    allocation("100", expires_in_days=10, allocation_id="soon"),
    allocation("100", expires_in_days=90, allocation_id="late"),
    allocation("100", expires_in_days=None, allocation_id="never"),
)


def test_a_full_reversal_restores_every_allocation_with_its_expiry() -> None:
    after, redemption = redeemed(HOLDING, "250")
    assert remaining(after) == {"never": Decimal(50)}  # spent allocations were pruned
    restored, credits = credit(after, redemption, Decimal(250), NOW)
    assert [(c.allocation_id, c.points, c.expired) for c in credits] == [
        ("never", Decimal(50), False),
        ("late", Decimal(100), False),
        ("soon", Decimal(100), False),
    ]
    assert remaining(restored) == {"soon": Decimal(100), "late": Decimal(100), "never": Decimal(100)}
    by_id = {a.allocation_id: a for a in restored.allocations}
    for original in HOLDING.allocations:
        recreated = by_id[original.allocation_id]
        assert (recreated.points, recreated.awarded_at, recreated.expires_at) == (
            original.points,
            original.awarded_at,
            original.expires_at,
        )
    assert restored.balance(NOW) == HOLDING.balance(NOW)
    assert restored.version == after.version + 1
    assert restored.lifetime_points == HOLDING.lifetime_points


def test_a_partial_reversal_gives_back_the_last_drawn_first() -> None:
    after, redemption = redeemed(HOLDING, "250")
    partly, credits = credit(after, redemption, Decimal(80), NOW)
    assert [(c.allocation_id, c.points) for c in credits] == [("never", Decimal(50)), ("late", Decimal(30))]
    assert remaining(partly) == {"never": Decimal(100), "late": Decimal(30)}


def test_what_is_left_to_reverse_follows_from_the_total_reversed() -> None:
    _, redemption = redeemed(HOLDING, "250")
    partly = redemption.model_copy(update={"reversed_points": Decimal(80)})
    assert [(draw.allocation_id, left) for draw, left in undo_order(partly)] == [
        ("late", Decimal(70)),
        ("soon", Decimal(100)),
    ]
    assert partly.outstanding == 170


def test_points_whose_allocation_expired_since_are_reported_not_credited() -> None:
    after, redemption = redeemed(HOLDING, "250")
    later = NOW + timedelta(days=30)  # "soon" has expired since
    restored, credits = credit(after, redemption, Decimal(250), later)
    assert [(c.allocation_id, c.points, c.expired) for c in credits] == [
        ("never", Decimal(50), False),
        ("late", Decimal(100), False),
        ("soon", Decimal(100), True),
    ]
    assert "soon" not in remaining(restored)
    assert restored.balance(later) == 200


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
        st.decimals(min_value=Decimal("0.001"), max_value=Decimal(300), places=3), min_size=1, max_size=6
    ),
    st.data(),
)
def test_reversing_part_leaves_what_redeeming_the_rest_would_have(
    awards: list[Decimal], data: st.DataObject
) -> None:
    holding = wallet(
        *(
            allocation(str(points), expires_in_days=5 + index, allocation_id=f"a{index}")
            for index, points in enumerate(awards)
        )
    )
    total = holding.balance(NOW)
    points = data.draw(st.decimals(min_value=Decimal("0.001"), max_value=total, places=3))
    back = data.draw(st.decimals(min_value=Decimal("0.001"), max_value=points, places=3))
    after, redemption = redeemed(holding, str(points))
    partly, _ = credit(after, redemption, back, NOW)
    if back == points:
        assert remaining(partly) == remaining(holding)
    else:
        less, _ = debit(holding, points - back, NOW)
        assert remaining(partly) == remaining(less)
    assert partly.balance(NOW) == total - points + back


def test_a_wallet_read_after_the_reversal_its_redemption_missed_is_a_stale_read() -> None:
    after, redemption = redeemed(HOLDING, "250")
    restored, _ = credit(after, redemption, Decimal(250), NOW)
    with pytest.raises(StaleRead):
        credit(restored, redemption, Decimal(250), NOW)  # the redemption as read before that reversal
