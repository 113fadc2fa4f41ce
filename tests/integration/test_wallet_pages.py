"""Wallets with pages, against moto, through the handlers and services: a request reads pages only when it
needs them (one Query), redemptions draw earliest expiry first across head and pages, racing changes never
spend a bucket twice, a reversal gives points back to their own expiries wherever they are held, a check
after `paged_from` has passed answers the exact balance, and a redemption too spread out answers 819; pages
that hold only expired buckets go with any write (an award too), at most `PRUNE_MAX` a write, and none when
the transaction has no room for them, so that no change is refused for them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from points_core.domain import ledger
from points_core.domain.identifiers import IdentifierType
from points_core.domain.models import EntryKind, Page, Redemption, Wallet
from points_core.repositories import config_repository, customer_repository
from points_core.repositories.codec import from_item, load_model
from points_core.repositories.customers import CustomerRepository
from points_core.repositories.keys import customer_partition
from points_core.repositories.keys import redemption as redemption_key
from points_core.repositories.reversals import ReversalRepository
from points_core.services.loading import Award, award_points
from points_core.services.redemption import RedeemItem, RedeemOptions, RedeemOutcome, redeem_item
from points_core.services.reversal import ReverseOutcome, ReverseRequest, reverse
from tests.conftest import Aws
from tests.factories import NOW, ORG_ID, caller, org_config, profile, program, seed_customer, seed_org
from tests.invoke import call_api, function_module

PROGRAM_ID = 973
SKIP = RedeemOptions(skip_validation=True)
REDEEM_PATH = "/v1.1/points/redeem"
CHECK_PATH = "/v1.1/points/isredeemable"
BUCKETS = 500
"""Allocations of 10 points the paged customer gets, each its own expiry (days 10 to 509 from NOW): a head of
32 buckets (320 points, days 10..41) and three pages (200, 200 and 68 buckets)."""

Expiries = dict[datetime | None, Decimal]


def day(n: float) -> datetime:
    """The expiry of the allocation `n` days after NOW (whole days: the paged customer's; halves: sooner
    ones awarded later)."""
    return NOW + timedelta(days=n)


# Time, for the handlers


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock of the redeem and isredeemable handlers, at NOW until the test moves it."""
    moved = Clock()
    monkeypatch.setattr(function_module("redeem"), "utc_now", moved)
    monkeypatch.setattr(function_module("is_redeemable"), "utc_now", moved)
    return moved


@pytest.fixture
def org(aws: Aws) -> None:
    seed_org(
        org_config(programs=(program(PROGRAM_ID, min_points=Decimal("0.001")),), allow_skip_validation=True)
    )


# Customers


def seed_paged(customer_id: str, count: int = BUCKETS) -> Expiries:
    """A customer awarded `count` allocations of 10 points, each expiring a day after the previous one, in
    the award service's own chunks: the wallet gets pages. What was awarded, by expiry."""
    seed_customer(profile(customer_id, f"91900{customer_id:0>7}"))
    awards = [Award(f"A{n:04d}", Decimal(10), NOW - timedelta(days=1), day(10 + n)) for n in range(count)]
    assert award_points(ORG_ID, customer_id, PROGRAM_ID, awards, NOW).created == [
        a.allocation_id for a in awards
    ]
    return {award.expires_at: award.points for award in awards}


def award_more(customer_id: str, expiries: list[datetime], prefix: str) -> Expiries:
    awards = [Award(f"{prefix}{n:04d}", Decimal(10), NOW, at) for n, at in enumerate(expiries)]
    assert len(award_points(ORG_ID, customer_id, PROGRAM_ID, awards, NOW).created) == len(awards)
    return {award.expires_at: award.points for award in awards}


# Reading what is stored


def whole_wallet(customer_id: str) -> Wallet:
    """The head with every page read."""
    head = customer_repository().wallet(ORG_ID, customer_id, PROGRAM_ID)
    assert head is not None
    return customer_repository().pages().all_pages(ORG_ID, customer_id, head)


def held(wallet: Wallet) -> Expiries:
    """Points held by expiry, head and pages together; each expiry in one bucket only."""
    buckets = [*wallet.buckets, *(bucket for page in wallet.pages for bucket in page.buckets)]
    assert len({bucket.expires_at for bucket in buckets}) == len(buckets), "an expiry in two buckets"
    return {bucket.expires_at: bucket.points for bucket in buckets}


def where(wallet: Wallet) -> dict[datetime | None, str]:
    """Which item holds each expiry: "head" or the page's key."""
    places: dict[datetime | None, str] = {bucket.expires_at: "head" for bucket in wallet.buckets}
    for page in wallet.pages:
        places.update({bucket.expires_at: ledger.upper_key(page) for bucket in page.buckets})
    return places


def check_layout(wallet: Wallet, now: datetime = NOW) -> None:
    """A whole wallet keeps its bounds: a small head, then pages in order, each within its bounds, and totals
    that tell the balance."""
    finite = [bucket for bucket in wallet.buckets if bucket.expires_at is not None]
    assert len(finite) <= ledger.HEAD_MAX
    assert [b.expires_at for b in finite] == sorted(b.expires_at for b in finite)  # type: ignore[type-var]
    paged = sum((page.points for page in wallet.pages), Decimal(0))
    assert wallet.paged_points == paged
    if paged:
        assert wallet.paged_from is not None
        assert all(bucket.expires_at < wallet.paged_from for bucket in finite)  # type: ignore[operator]
        assert wallet.pages[0].buckets[0].expires_at >= wallet.paged_from  # type: ignore[operator]
    lower: datetime | None = None
    for page in wallet.pages:
        expiries = [bucket.expires_at for bucket in page.buckets]
        assert expiries, "an empty page is kept"
        assert expiries == sorted(expiries)  # type: ignore[type-var]
        assert all(page.upper is None or e < page.upper for e in expiries)  # type: ignore[operator]
        assert all(lower is None or e >= lower for e in expiries)  # type: ignore[operator]
        lower = page.upper
    assert sum((b.points for b in wallet.buckets), Decimal(0)) + wallet.paged_points == wallet.balance(now)


def ledger_by_expiry(aws: Aws, customer_id: str) -> Expiries:
    """What the ledger says each expiry holds: awards, less the draws of redemptions, plus the credits of
    reversals (those credited: not expired)."""
    entries: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": "LedgerTable",
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": customer_partition(ORG_ID, customer_id)}},
    }
    while True:
        response = aws.dynamodb.query(**request)
        entries.extend(from_item(item) for item in response["Items"])
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    net: dict[datetime | None, Decimal] = {}

    def change(expiry: str | None, points: Decimal) -> None:
        at = None if expiry is None else datetime.fromisoformat(expiry)
        net[at] = net.get(at, Decimal(0)) + points

    for entry in entries:
        if entry["kind"] == "redemption":
            for draw in entry["draws"]:
                change(draw.get("expires_at"), -draw["points"])
        elif entry["kind"] == "reversal":
            for credit in entry["credits"]:
                if not credit["expired"]:
                    change(credit.get("expires_at"), credit["points"])
        else:
            change(entry.get("expires_at"), entry["points"])
    return {at: points for at, points in net.items() if points != 0}


def stored_redemption(aws: Aws, redemption_id: str) -> Redemption:
    item = aws.dynamodb.get_item(TableName="RedemptionsTable", Key=redemption_key(ORG_ID, redemption_id))
    return load_model(Redemption, item["Item"])


def redemption_records(aws: Aws) -> int:
    return len(aws.dynamodb.scan(TableName="RedemptionsTable")["Items"])


def ledger_entries(aws: Aws) -> int:
    return int(aws.dynamodb.scan(TableName="LedgerTable", Select="COUNT")["Count"])


def draws_of(redemption: Redemption) -> list[tuple[datetime | None, Decimal]]:
    return [(draw.expires_at, draw.points) for draw in redemption.draws]


def latest_draw(redemption: Redemption) -> datetime:
    return max(draw.expires_at for draw in redemption.draws if draw.expires_at is not None)


def earliest_first(available: Expiries, points: Decimal) -> list[tuple[datetime | None, Decimal]]:
    """What a redemption of `points` must draw from `available` (taken from it): earliest expiry first,
    never last."""
    draws = []
    for expiry in sorted(available, key=lambda at: (at is None, at or NOW)):
        if points <= 0:
            break
        take = min(available[expiry], points)
        if take > 0:
            draws.append((expiry, take))
            available[expiry] -= take
            points -= take
    assert points == 0, "the test asked for more than it awarded"
    return draws


def minus(awarded: Expiries, *redemptions: Redemption) -> Expiries:
    left = dict(awarded)
    for redemption in redemptions:
        for draw in redemption.draws:
            left[draw.expires_at] -= draw.points
    return {at: points for at, points in left.items() if points != 0}


# Calling


def redeem_api(customer_id: str, points: str) -> dict[str, Any]:
    """POST /v1.1/points/redeem of one item, by customer id, validation skipped: the item answered."""
    body = {"root": {"redeem": {"points_redeemed": points, "customer": {"id": customer_id}}}}
    answer = call_api("redeem", "POST", REDEEM_PATH, {"skip_validation": "true"}, body=body)
    assert answer.status == 200, answer.text
    answered: dict[str, Any] = answer.body["response"]["responses"]["points"]
    return answered


def check_api(customer_id: str, points: str) -> dict[str, Any]:
    answer = call_api("is_redeemable", "GET", CHECK_PATH, {"id": customer_id, "points": points})
    assert answer.status == 200, answer.text
    checked: dict[str, Any] = answer.body["response"]["points"]["redeemable"]
    return checked


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def redeem(customer_id: str, points: str, when: datetime = NOW) -> Redemption:
    outcome = redeem_item(caller(), RedeemItem({"id": customer_id}, points), SKIP, at(when))
    assert outcome.success and outcome.redemption is not None, outcome.status
    return outcome.redemption


def give_back(customer_id: str, redemption_id: str, points: str | None = None) -> ReverseOutcome:
    request = ReverseRequest(IdentifierType.ID, customer_id, redemption_id=redemption_id, points=points)
    return reverse(caller(), request, at(NOW))


@pytest.fixture
def calls(aws: Aws, dynamodb_calls: list[str]) -> Callable[[Callable[[], Any]], tuple[Any, list[str]]]:
    """What a call returns and the DynamoDB operations it made (the configuration warm, as in a warm
    function)."""
    config_repository().org(ORG_ID)

    def run(call: Callable[[], Any]) -> tuple[Any, list[str]]:
        dynamodb_calls.clear()
        result = call()
        return result, list(dynamodb_calls)

    return run


Calls = Callable[[Callable[[], Any]], tuple[Any, list[str]]]


# 1. Pages read only when needed; earliest expiry first across head and pages


def test_a_small_redemption_reads_no_page_and_one_past_the_head_reads_them_with_one_query(
    aws: Aws, org: None, clock: Clock, calls: Calls
) -> None:
    # Given: a customer with 500 expiries (pages) and one with three (no pages)
    awarded = seed_paged("2001")
    seed_customer(profile("2002", "919000002002"))
    award_more("2002", [day(30), day(60), day(90)], "B")
    head = customer_repository().wallet(ORG_ID, "2001", PROGRAM_ID)
    assert head is not None and head.has_pages and head.paged_from == day(42)
    assert len(head.buckets) == 32 and len(whole_wallet("2001").pages) == 3

    # When: ten points each
    plain, plain_calls = calls(lambda: redeem_api("2002", "10"))
    small, paged_calls = calls(lambda: redeem_api("2001", "10"))

    # Then: the same round trips, no page read
    assert (plain["item_status"]["code"], small["item_status"]["code"]) == (800, 800)
    assert paged_calls == plain_calls == ["BatchGetItem", "TransactWriteItems"]
    available = dict(awarded)
    assert draws_of(stored_redemption(aws, small["redemption_id"])) == earliest_first(available, Decimal(10))
    assert Decimal(small["balance"]) == 4990

    # When: 25 points more than the head holds
    head = customer_repository().wallet(ORG_ID, "2001", PROGRAM_ID)
    assert head is not None
    in_head = sum((bucket.points for bucket in head.buckets), Decimal(0))
    past, past_calls = calls(lambda: redeem_api("2001", str(in_head + 25)))

    # Then: one Query more, the draws earliest first from the head into the first page, the balance exact
    assert past["item_status"]["code"] == 800
    assert past_calls == ["BatchGetItem", "Query", "TransactWriteItems"]
    recorded = stored_redemption(aws, past["redemption_id"])
    assert draws_of(recorded) == earliest_first(available, in_head + 25)
    assert head.paged_from is not None and latest_draw(recorded) >= head.paged_from
    expected_balance = 5000 - 10 - in_head - 25
    assert Decimal(past["balance"]) == recorded.balance_after == expected_balance
    wallet = whole_wallet("2001")
    assert wallet.balance(NOW) == expected_balance
    assert held(wallet) == {at: points for at, points in available.items() if points}
    check_layout(wallet)

    # And: a redemption that runs through the first page into the second still draws earliest first
    big = redeem_api("2001", "2345.5")
    assert big["item_status"]["code"] == 800
    assert draws_of(stored_redemption(aws, big["redemption_id"])) == earliest_first(
        available, Decimal("2345.5")
    )
    wallet = whole_wallet("2001")
    assert wallet.balance(NOW) == Decimal(expected_balance) - Decimal("2345.5") == Decimal(big["balance"])
    assert held(wallet) == {at: points for at, points in available.items() if points}
    check_layout(wallet)
    assert ledger_by_expiry(aws, "2001") == held(wallet)


# 2. Races


def reading_together(monkeypatch: pytest.MonkeyPatch, parties: int) -> None:
    """Every thread's first wallet read (a redemption's, a reversal's) waits until `parties` have read: they
    all decide from the same version. A retry reads without waiting."""
    barrier = threading.Barrier(parties, timeout=30)
    first_read = threading.local()

    def together(read: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            snapshot = read(self, *args, **kwargs)
            if not getattr(first_read, "done", False):
                first_read.done = True
                barrier.wait()
            return snapshot

        return wrapped

    monkeypatch.setattr(
        CustomerRepository, "profile_and_wallet", together(CustomerRepository.profile_and_wallet)
    )
    monkeypatch.setattr(ReversalRepository, "wallet", together(ReversalRepository.wallet))


def drawn_by_expiry(redemptions: list[Redemption]) -> Expiries:
    drawn: Expiries = {}
    for redemption in redemptions:
        for draw in redemption.draws:
            drawn[draw.expires_at] = drawn.get(draw.expires_at, Decimal(0)) + draw.points
    return drawn


def check_consistent(aws: Aws, customer_id: str, awarded: Expiries, redemptions: list[Redemption]) -> Wallet:
    """No bucket spent beyond what it was awarded, and the ledger explains every bucket the wallet holds."""
    drawn = drawn_by_expiry(redemptions)
    assert all(points <= awarded[at] for at, points in drawn.items()), "a bucket spent twice"
    wallet = whole_wallet(customer_id)
    check_layout(wallet)
    assert ledger_by_expiry(aws, customer_id) == held(wallet)
    return wallet


def at_once(work: Callable[[int], Any], count: int) -> tuple[list[Any], list[BaseException]]:
    """`work(0)` .. `work(count - 1)` on their own threads: what each returned, and what any raised."""

    def guarded(n: int) -> Any:
        try:
            return work(n)
        except Exception as error:  # a crash is a finding, reported after the invariants
            return error

    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(guarded, range(count)))
    return [r for r in results if not isinstance(r, BaseException)], [
        r for r in results if isinstance(r, BaseException)
    ]


def test_racing_redemptions_across_the_pages_never_spend_a_bucket_twice(
    aws: Aws, org: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: 5000 points, 320 of them in the head; eight redemptions of 705 (5640 asked) read it at once
    awarded = seed_paged("2101")
    reading_together(monkeypatch, 8)

    # When
    outcomes, crashed = at_once(
        lambda _: redeem_item(caller(), RedeemItem({"id": "2101"}, "705"), SKIP, at(NOW)), 8
    )

    # Then: at most seven fit; an 818 means seven did; the rest lost every retry (521)
    succeeded = [o.redemption for o in outcomes if o.success and o.redemption is not None]
    codes = sorted(o.status.code for o in outcomes if not o.success)
    assert set(codes) <= {818, 521}, codes
    assert 1 <= len(succeeded) <= 7
    if 818 in codes:
        assert len(succeeded) == 7
    assert all(latest_draw(r) >= day(42) for r in succeeded)  # each crossed into the pages
    redeemed = sum((r.points for r in succeeded), Decimal(0))
    assert redeemed <= 5000
    wallet = check_consistent(aws, "2101", awarded, succeeded)
    assert wallet.balance(NOW) == 5000 - redeemed
    # Each drew earliest first from what the one before left: together, the earliest points there were
    assert drawn_by_expiry(succeeded) == dict(earliest_first(dict(awarded), redeemed))
    assert redemption_records(aws) == len(succeeded)
    # And none of them failed outright (see test_a_redemption_whose_page_changed_since_its_head_was_read_...)
    assert [repr(error) for error in crashed] == []


def into_a_page(customer_id: str) -> tuple[Expiries, Redemption, Redemption]:
    """A paged customer whose first redemption's points now belong in a page: R1 (400) drew the head and
    days 42..49 of the first page, R2 (400) did so again (days 50..89; the head refilled to days 90..121 each
    time), then 40 allocations expiring on the half days 10.5..49.5 filled the head past HEAD_MAX: it kept
    the 32 soonest and spilled the rest, so `paged_from` fell to day 42.5: days 43..49 of R1 are a page's."""
    awarded = seed_paged(customer_id)
    first = redeem(customer_id, "400")
    second = redeem(customer_id, "400")
    available = dict(awarded)
    assert draws_of(first) == earliest_first(available, Decimal(400))
    assert draws_of(second) == earliest_first(available, Decimal(400))
    head = customer_repository().wallet(ORG_ID, customer_id, PROGRAM_ID)
    assert head is not None
    assert [b.expires_at for b in head.buckets] == [day(n) for n in range(90, 122)]
    assert head.paged_from == day(122)
    awarded.update(award_more(customer_id, [day(n + 0.5) for n in range(10, 50)], "S"))
    head = customer_repository().wallet(ORG_ID, customer_id, PROGRAM_ID)
    assert head is not None
    assert [b.expires_at for b in head.buckets] == [day(n + 0.5) for n in range(10, 42)]
    assert head.paged_from == day(42.5)
    return awarded, first, second


def test_redemptions_racing_a_reversal_into_a_page_stay_consistent(
    aws: Aws, org: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: R1's points belong partly in a page; seven redemptions crossing the head and R1's reversal read
    # the wallet at once
    awarded, first, second = into_a_page("2201")
    before = whole_wallet("2201").balance(NOW)
    in_head = sum((b.points for b in whole_wallet("2201").buckets), Decimal(0))
    amount = str(in_head + 55)
    reading_together(monkeypatch, 8)

    def work(n: int) -> RedeemOutcome | ReverseOutcome:
        if n == 0:
            return give_back("2201", first.redemption_id)
        return redeem_item(caller(), RedeemItem({"id": "2201"}, amount), SKIP, at(NOW))

    # When
    outcomes, crashed = at_once(work, 8)

    # Then
    reversals = [o for o in outcomes if isinstance(o, ReverseOutcome)]
    redemptions = [o for o in outcomes if isinstance(o, RedeemOutcome)]
    assert all(o.success or o.status.code == 521 for o in reversals), [o.status for o in reversals]
    reversed_points = sum((o.reversal.available for o in reversals if o.reversal), Decimal(0))
    assert reversed_points in (0, 400)
    succeeded = [o.redemption for o in redemptions if isinstance(o, RedeemOutcome) and o.redemption]
    assert {o.status.code for o in redemptions if not o.success} <= {521}
    assert succeeded
    redeemed = sum((r.points for r in succeeded), Decimal(0))
    spent = [second, *succeeded] if reversed_points else [first, second, *succeeded]
    wallet = check_consistent(aws, "2201", awarded, spent)
    assert wallet.balance(NOW) == before - redeemed + reversed_points
    assert stored_redemption(aws, first.redemption_id).reversed_points == reversed_points
    assert held(wallet) == minus(awarded, *spent)
    assert [repr(error) for error in crashed] == []


def changing_after_the_head_is_read(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[], Any], owner: type = CustomerRepository
) -> None:
    """The request's first head read (`profile_and_wallet`, or a reversal's `wallet`) is followed, before
    the request reads any page, by `change` committing: what a concurrent request does between the head read
    and the page Query of another."""
    name = "wallet" if owner is ReversalRepository else "profile_and_wallet"
    read = getattr(owner, name)
    pending = [change]

    def then_change(self: Any, *args: Any, **kwargs: Any) -> Any:
        snapshot = read(self, *args, **kwargs)
        if pending:
            pending.pop()()
        return snapshot

    monkeypatch.setattr(owner, name, then_change)


@pytest.mark.parametrize(
    ("meanwhile", "code", "balance"),
    [
        # the page read holds 400 fewer points (320 of them moved to the head) than the head read says
        ("400", 800, 2200),
        # the page is gone (its last 300 points moved to the head): the head read says 2680 are paged
        ("2700", 818, 300),
    ],
)
def test_a_redemption_whose_page_changed_since_its_head_was_read_tries_again(
    aws: Aws,
    org: None,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    meanwhile: str,
    code: int,
    balance: int,
) -> None:
    # Given: 3000 points, the head's 320 and one page (no bound) of 2680; another redemption commits
    # between this request's head read and its page read
    seed_paged("2801", 300)
    assert [page.upper for page in whole_wallet("2801").pages] == [None]
    other: list[Redemption] = []
    changing_after_the_head_is_read(monkeypatch, lambda: other.append(redeem("2801", meanwhile)))

    # When
    answered = redeem_api("2801", "400")

    # Then: the request sees the wallet changed and answers from a fresh read, as for any other change
    assert answered["item_status"]["code"] == code, answered["item_status"]
    assert len(other) == 1
    wallet = whole_wallet("2801")
    assert wallet.balance(NOW) == balance
    check_layout(wallet)


def test_a_check_whose_page_changed_since_its_head_was_read_answers_from_one_version(
    aws: Aws, org: None, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: `paged_from` has passed (the check must read the page), and a redemption commits between the
    # check's head read and its page read
    seed_paged("2901", 300)
    clock.now = day(45.5)
    changing_after_the_head_is_read(monkeypatch, lambda: redeem("2901", "100", when=day(45.5)))

    # When
    checked = check_api("2901", "100")

    # Then: the balance before (2640) or after (2540) the redemption, never a failure
    assert checked["item_status"]["code"] == 800, checked["item_status"]


def test_a_reversal_whose_page_changed_since_its_head_was_read_tries_again(
    aws: Aws, org: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: R1 drew days 10..109 (the head refilled to days 110..141, the page from day 142); at day 150.5
    # every point of R1 has expired and `paged_from` has passed, so the reversal reads the first pages; a
    # redemption then commits between the reversal's head read and its page read
    seed_paged("2951", 300)
    first = redeem("2951", "1000")
    later = day(150.5)
    changing_after_the_head_is_read(
        monkeypatch, lambda: redeem("2951", "100", when=later), owner=ReversalRepository
    )

    # When
    request = ReverseRequest(IdentifierType.ID, "2951", redemption_id=first.redemption_id)
    outcome = reverse(caller(), request, at(later))

    # Then: the expired points reported, nothing credited, from a fresh read
    assert outcome.success and outcome.reversal is not None, outcome.status
    assert (outcome.reversal.available, outcome.reversal.expired) == (0, 1000)
    assert whole_wallet("2951").balance(later) == 1590 - 100


# 3. Reversals


def test_a_reversal_after_redemptions_alone_credits_the_head_and_reads_no_page(
    aws: Aws, org: None, calls: Calls
) -> None:
    # Given: R1 and R2 each crossed the head into the pages (the head refilled after each); R1's expiries
    # are all sooner than the refilled head's
    awarded = seed_paged("2301")
    first = redeem("2301", "400")
    second = redeem("2301", "400")
    small = redeem("2301", "5")
    baseline, base_calls = calls(lambda: give_back("2301", small.redemption_id))
    assert baseline.success

    # When
    outcome, reverse_calls = calls(lambda: give_back("2301", first.redemption_id))

    # Then: every point back at its own expiry, in the head (which spilled its latest into a new page), no
    # page read
    assert outcome.success and outcome.reversal is not None
    assert (outcome.reversal.available, outcome.reversal.expired) == (400, 0)
    assert reverse_calls == base_calls
    assert "Query" not in reverse_calls
    wallet = whole_wallet("2301")
    assert held(wallet) == minus(awarded, second)
    spilled = ledger.upper_key(Page(program_id=PROGRAM_ID, upper=day(122)))
    assert [where(wallet)[draw.expires_at] for draw in first.draws] == ["head"] * 32 + [spilled] * 8
    check_layout(wallet)
    assert wallet.balance(NOW) == 5000 - 400 == outcome.reversal.balance_after
    assert ledger_by_expiry(aws, "2301") == held(wallet)


def test_a_reversal_into_a_page_reads_the_page_holding_it_with_one_query(
    aws: Aws, org: None, calls: Calls
) -> None:
    # Given: R1's days 43..49 belong in a page, its days 10..42 in the head
    awarded, first, second = into_a_page("2401")
    before = whole_wallet("2401")
    paged_from = before.paged_from
    assert paged_from == day(42.5)
    in_pages = [draw.expires_at for draw in first.draws if draw.expires_at >= paged_from]  # type: ignore[operator]
    assert in_pages == [day(n) for n in range(43, 50)]
    small = redeem("2401", "5")  # from day 10.5, in the head
    baseline, base_calls = calls(lambda: give_back("2401", small.redemption_id))
    assert baseline.success

    # When
    outcome, reverse_calls = calls(lambda: give_back("2401", first.redemption_id))

    # Then: one Query more (the page holding days 43..49), every point at its own expiry again
    assert outcome.success and outcome.reversal is not None
    assert (outcome.reversal.available, outcome.reversal.expired) == (400, 0)
    assert reverse_calls == [*base_calls[:-1], "Query", base_calls[-1]]
    wallet = whole_wallet("2401")
    assert held(wallet) == minus(awarded, second)
    places = where(wallet)
    assert all(places[at] != "head" for at in in_pages)
    check_layout(wallet)
    assert wallet.balance(NOW) == before.balance(NOW) + 400 == outcome.reversal.balance_after
    assert sum((b.points for b in wallet.buckets), Decimal(0)) + wallet.paged_points == wallet.balance(NOW)
    assert ledger_by_expiry(aws, "2401") == held(wallet)


# 4. isredeemable once the paged points have started expiring


def test_a_check_after_paged_from_answers_the_exact_balance_with_one_query_more(
    aws: Aws, org: None, clock: Clock, calls: Calls
) -> None:
    # Given: head days 10..41, pages from day 42; at NOW the head alone tells 5000
    seed_paged("2501")
    fresh, fresh_calls = calls(lambda: check_api("2501", "5000"))
    assert fresh["item_status"]["code"] == 800
    assert "Query" not in fresh_calls

    # When: half a day after day 45: the head and days 42..45 of the first page have expired
    clock.now = day(45.5)
    exact, late_calls = calls(lambda: check_api("2501", "4640"))
    over = check_api("2501", "4640.001")

    # Then: 4640 left (not the 4680 the head's total would tell), one Query more
    assert (exact["item_status"]["code"], exact["is_redeemable"]) == (800, "true")
    assert (over["item_status"]["code"], over["is_redeemable"]) == (818, "false")
    assert late_calls == [*fresh_calls, "Query"]

    # And: a redemption then (the clock given) answers the exact balance after and brings the head up to
    # date: the next check reads no page
    redeemed = redeem_api("2501", "40")
    assert redeemed["item_status"]["code"] == 800
    assert Decimal(redeemed["balance"]) == 4600
    again, again_calls = calls(lambda: check_api("2501", "4600"))
    assert again["item_status"]["code"] == 800
    assert again_calls == fresh_calls
    assert check_api("2501", "4600.001")["item_status"]["code"] == 818


def test_a_check_whose_pages_keep_disagreeing_with_the_head_answers_521(
    aws: Aws, org: None, clock: Clock, monkeypatch: pytest.MonkeyPatch, calls: Calls
) -> None:
    from points_core.domain.errors import NotRecorded, Refusal
    from points_core.repositories.wallets import WalletPages
    from points_core.services.lookup import PAGE_READ_ATTEMPTS

    # Given: a wallet whose paged points have started expiring, and pages that never match the head read
    seed_paged("2502")
    clock.now = day(45.5)

    def disagreeing(*_: Any, **__: Any) -> Wallet:
        raise NotRecorded({Refusal.WALLET_CHANGED})

    monkeypatch.setattr(WalletPages, "first_pages", disagreeing)

    # When
    answer, made = calls(lambda: check_api("2502", "10"))

    # Then: the head is read again, consistently, a bounded number of times, then 521 (never a 500)
    assert (answer["item_status"]["code"], answer["is_redeemable"]) == (521, "false")
    assert made.count("BatchGetItem") == PAGE_READ_ATTEMPTS


# 5. 819: too many expiry dates for one redemption


def nothing_written(aws: Aws, customer_id: str, before: Wallet, entries: int) -> None:
    after = whole_wallet(customer_id)
    assert after.version == before.version
    assert held(after) == held(before)
    assert [(p.upper, p.version) for p in after.pages] == [(p.upper, p.version) for p in before.pages]
    assert redemption_records(aws) == 0
    assert ledger_entries(aws) == entries


def test_a_redemption_drawing_from_more_buckets_than_max_draws_answers_819(
    aws: Aws, org: None, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given
    seed_paged("2601")
    monkeypatch.setattr("points_core.domain.ledger.MAX_DRAWS", 5)
    before = whole_wallet("2601")
    entries = ledger_entries(aws)

    # When: six buckets' worth, then a point more than five
    six = redeem_api("2601", "60")
    over_five = redeem_api("2601", "51")

    # Then
    for refused in (six, over_five):
        assert refused["item_status"] == {
            "success": "false",
            "code": 819,
            "message": "Points requested span more expiry dates than one redemption may draw from: "
            "redeem them in parts",
        }
        assert refused["side_effects"] == {"effect": []}
    nothing_written(aws, "2601", before, entries)
    assert redeem_api("2601", "50")["item_status"]["code"] == 800  # five buckets: allowed


def test_a_redemption_changing_more_pages_than_max_page_writes_answers_819(
    aws: Aws, org: None, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given
    seed_paged("2701")
    monkeypatch.setattr("points_core.domain.ledger.MAX_PAGE_WRITES", 0)
    before = whole_wallet("2701")
    entries = ledger_entries(aws)

    # When: past the head's 320 points, into the first page
    refused = redeem_api("2701", "330")

    # Then
    assert refused["item_status"] == {
        "success": "false",
        "code": 819,
        "message": "Points requested span more expiry dates than one redemption may draw from: "
        "redeem them in parts",
    }
    nothing_written(aws, "2701", before, entries)
    assert redeem_api("2701", "320")["item_status"]["code"] == 800  # the head alone: no page changed


# 6. Expired pages: pruned by any write, a bounded number at a time


def live(expiries: Expiries, now: datetime) -> Expiries:
    return {at: points for at, points in expiries.items() if points and (at is None or at > now)}


def only_expired(wallet: Wallet, now: datetime) -> int:
    """The wallet's pages that hold only expired buckets."""
    return sum(1 for page in wallet.pages if not any(bucket.is_live(now) for bucket in page.buckets))


def test_an_award_after_paged_from_prunes_the_expired_pages_so_a_check_reads_none(
    aws: Aws, org: None, clock: Clock, calls: Calls
) -> None:
    # Given: head days 10..41, pages of days 42..241, 242..441 and 442..509; at day 250.5 the head and the
    # first page have expired, and a check has to read pages to tell the balance
    seed_paged("3001")
    _, fresh_calls = calls(lambda: check_api("3001", "1"))
    clock.now = day(250.5)
    stale, stale_calls = calls(lambda: check_api("3001", "2590"))
    assert stale["item_status"]["code"] == 800
    assert stale_calls == [*fresh_calls, "Query"]
    assert only_expired(whole_wallet("3001"), clock.now) == 1

    # When: a customer who only earns gets points (a goodwill grant, expiring on day 600)
    grant = Award("G3001", Decimal(5), clock.now, day(600), EntryKind.GOODWILL, "apology")
    assert award_points(ORG_ID, "3001", PROGRAM_ID, [grant], clock.now).created == ["G3001"]

    # Then: the award's write deleted the expired page and brought the head up to date: a check reads no
    # page again, and answers the exact balance
    wallet = whole_wallet("3001")
    assert only_expired(wallet, clock.now) == 0
    assert len(wallet.pages) == 2
    checked, checked_calls = calls(lambda: check_api("3001", "2595"))
    assert checked["item_status"]["code"] == 800
    assert checked_calls == fresh_calls
    assert check_api("3001", "2595.001")["item_status"]["code"] == 818
    assert held(wallet) == live(ledger_by_expiry(aws, "3001"), clock.now)


def test_a_redemption_after_many_pages_expired_deletes_a_bounded_number_and_never_answers_819(
    aws: Aws, org: None, clock: Clock, calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: pages of two buckets (234 of them); at day 400.5 the head and about 180 pages have expired,
    # more than one transaction could delete (before, the redemption answered 819 for ever)
    monkeypatch.setattr(ledger, "PAGE_MAX", 4)
    awarded = seed_paged("3101")
    _, fresh_calls = calls(lambda: check_api("3101", "1"))
    clock.now = day(400.5)
    expired = start = only_expired(whole_wallet("3101"), clock.now)
    assert expired > ledger.MAX_PAGE_WRITES

    # When: a check, then redemptions of 10 points until no expired page is left
    checked, check_calls = calls(lambda: check_api("3101", "1090"))
    redemptions = 0
    while expired:
        redeemed, redeem_calls = calls(lambda: redeem_api("3101", "10"))
        redemptions += 1

        # Then: each redeems, draws the soonest live points, answers the exact balance and deletes
        # PRUNE_MAX of the expired pages (the last the rest), reading them in a few Query calls
        assert redeemed["item_status"]["code"] == 800
        assert Decimal(redeemed["balance"]) == 1090 - 10 * redemptions
        assert draws_of(stored_redemption(aws, redeemed["redemption_id"])) == [(day(400 + redemptions), 10)]
        wallet = whole_wallet("3101")
        assert only_expired(wallet, clock.now) == max(expired - ledger.PRUNE_MAX, 0)
        assert redeem_calls.count("Query") <= 8
        expired = only_expired(wallet, clock.now)

    # The check read about 180 pages in 7 Query calls (one per two pages before)
    assert checked["item_status"]["code"] == 800
    assert check_api("3101", "1090.001")["item_status"]["code"] == 818
    assert 1 < check_calls.count("Query") <= 8
    assert redemptions == -(-start // ledger.PRUNE_MAX)

    # And: with none left, a check reads no page; what is held is what the ledger says is live
    _, clean_calls = calls(lambda: check_api("3101", "1"))
    assert clean_calls == fresh_calls
    wallet = whole_wallet("3101")
    assert held(wallet) == live(ledger_by_expiry(aws, "3101"), clock.now)
    assert wallet.balance(clock.now) == sum(live(awarded, clock.now).values()) - 10 * redemptions


def test_a_reversal_with_no_room_to_delete_the_expired_pages_leaves_them_and_is_made(
    aws: Aws, org: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: 10 points redeemed from day 10 (the head); at day 250.5 they and the first page have expired
    seed_paged("3201")
    redemption = redeem("3201", "10")
    later = day(250.5)
    assert only_expired(whole_wallet("3201"), later) == 1

    # When: it is reversed in a transaction with no room for the page's deletion (the head, the ledger
    # entry, the redemption and the reversal: 4 items)
    monkeypatch.setattr("points_core.services.reversal.TRANSACTION_ITEMS", 4)
    request = ReverseRequest(IdentifierType.ID, "3201", redemption_id=redemption.redemption_id)
    outcome = reverse(caller(), request, at(later))

    # Then: it is made (before: 815), the 10 points reported expired, and the expired page left for a
    # later write
    assert outcome.success and outcome.reversal is not None
    assert (outcome.reversal.available, outcome.reversal.expired) == (0, 10)
    assert outcome.reversal.balance_after == 2590
    assert only_expired(whole_wallet("3201"), later) == 1
    monkeypatch.undo()
    assert redeem("3201", "10", later).balance_after == 2580
    assert only_expired(whole_wallet("3201"), later) == 0
