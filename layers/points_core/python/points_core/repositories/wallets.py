"""A wallet as stored: the head item and its pages, in the customer's partition of the Customers table.

The head (`WALLET#<program>`) and each page (`PAGE#<program>#<bound>`, the bound in fixed-width UTC so that
pages sort by it, `~` for the last) keep their buckets as one compact string, `<expiry>=<points>;...`, the
expiry in epoch seconds (`-` for never): about 14 bytes a bucket, where a list of maps takes about 50, so a
full head stays near 1 KB. A head stored before buckets, with its allocations inline, is read as buckets
(`Wallet`), and its next write stores the new shape.

Reads: the head comes with the customer's other items (one BatchGetItem, elsewhere). Pages are read only when
a change or an answer needs them: the first pages, in order, with one Query (`first_pages`); or the page
holding one expiry, with one Query (`page_holding`). Writes: `layout_writes` turns a `Layout` into transaction
items, the head at the version read and each page at its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from points_core.aws.observability import tracer
from points_core.domain.errors import NotRecorded, Refusal
from points_core.domain.ledger import Layout, upper_key
from points_core.domain.models import Bucket, Page, Wallet
from points_core.repositories import keys
from points_core.repositories.codec import from_item, serialize, to_item
from points_core.repositories.transactions import WriteItem

NEVER = "-"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAGE_READ_LIMIT = 2
"""Pages the first Query call of a read returns at most (a few, so a read for one more page does not read
them all); each further call of the same read asks for twice as many as the one before, up to
`PAGE_READ_MAX`, so reading n pages takes about log2(n) calls and reads at most twice what it needs."""
PAGE_READ_MAX = 64


def encode_buckets(buckets: Iterable[Bucket]) -> str:
    return ";".join(f"{_epoch(bucket.expires_at)}={bucket.points}" for bucket in buckets)


def decode_buckets(text: str) -> tuple[Bucket, ...]:
    if not text:
        return ()
    buckets = []
    for part in text.split(";"):
        expiry, points = part.split("=")
        buckets.append(Bucket(expires_at=_moment(expiry), points=Decimal(points)))
    return tuple(buckets)


def _moment(expiry: str) -> datetime | None:
    """Epoch seconds, with a fraction down to the microsecond, read exactly (not through a float)."""
    if expiry == NEVER:
        return None
    seconds, _, fraction = expiry.partition(".")
    return _EPOCH + timedelta(seconds=int(seconds), microseconds=int((fraction + "000000")[:6]))


def _epoch(moment: datetime | None) -> str:
    if moment is None:
        return NEVER
    delta = moment - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    if not delta.microseconds:
        return str(seconds)
    return f"{seconds}.{delta.microseconds:06d}".rstrip("0")


def head_values(wallet: Wallet) -> dict[str, Any]:
    values: dict[str, Any] = {
        "program_id": wallet.program_id,
        "version": wallet.version,
        "lifetime_points": wallet.lifetime_points,
        "buckets": encode_buckets(wallet.buckets),
    }
    if wallet.tier is not None:
        values["tier"] = wallet.tier
    if wallet.has_pages:
        values["paged_points"] = wallet.paged_points
        values["paged_from"] = wallet.paged_from
    return values


def load_wallet(item: Mapping[str, Any]) -> Wallet:
    """The head, in either shape (buckets, or the allocations inline of before)."""
    values = from_item(item)
    fields = {name: values[name] for name in Wallet.model_fields if name in values}
    if "allocations" in values:
        fields["allocations"] = values["allocations"]
    if isinstance(fields.get("buckets"), str):
        fields["buckets"] = decode_buckets(fields["buckets"])
    return Wallet.model_validate(fields)


def load_page(item: Mapping[str, Any]) -> Page:
    values = from_item(item)
    return Page(
        program_id=int(values["program_id"]),
        upper=values.get("upper"),
        version=int(values["version"]),
        buckets=decode_buckets(values.get("buckets", "")),
    )


def page_key(org_id: int, customer_id: str, page: Page) -> dict[str, Any]:
    return keys.wallet_page(org_id, customer_id, page.program_id, upper_key(page))


@dataclass(frozen=True, slots=True)
class WalletChange:
    """One wallet a transaction writes: whose, the version it was read at, and its layout after."""

    customer_id: str
    previous_version: int
    layout: Layout


def layout_writes(
    table: str, org_id: int, customer_id: str, layout: Layout, previous_version: int | None
) -> list[WriteItem]:
    """The transaction items of a layout: the head only if it is still at `previous_version` (None: only if
    it does not exist yet), each changed page only if it is still at the version read (a new one only if its
    key is free), each emptied page deleted only if unchanged. Any refusal is `WALLET_CHANGED`."""
    wallet = layout.wallet
    head: dict[str, Any] = {
        "TableName": table,
        "Item": to_item(head_values(wallet), keys.wallet(org_id, customer_id, wallet.program_id)),
    }
    if previous_version is None:
        head["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        head["ConditionExpression"] = "version = :version"
        head["ExpressionAttributeValues"] = {":version": serialize(previous_version)}
    items: list[WriteItem] = [(Refusal.WALLET_CHANGED, {"Put": head})]
    for page in layout.puts:
        values: dict[str, Any] = {
            "program_id": page.program_id,
            "version": page.version,
            "buckets": encode_buckets(page.buckets),
        }
        if page.upper is not None:
            values["upper"] = page.upper
        put: dict[str, Any] = {
            "TableName": table,
            "Item": to_item(values, page_key(org_id, customer_id, page)),
        }
        read_version = layout.read_versions.get(upper_key(page))
        if read_version is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :version"
            put["ExpressionAttributeValues"] = {":version": serialize(read_version)}
        items.append((Refusal.WALLET_CHANGED, {"Put": put}))
    for page in layout.deletes:
        delete = {
            "TableName": table,
            "Key": page_key(org_id, customer_id, page),
            "ConditionExpression": "version = :version",
            "ExpressionAttributeValues": {":version": serialize(page.version)},
        }
        items.append((Refusal.WALLET_CHANGED, {"Delete": delete}))
    return items


class WalletPages:
    """Reading a wallet's pages (always strongly consistent: they must match the head that was read)."""

    def __init__(self, client: Any, customers_table: str) -> None:
        self._client = client
        self._table = customers_table

    @tracer.capture_method(capture_response=False)
    def first_pages(
        self, org_id: int, customer_id: str, wallet: Wallet, now: datetime, need: Decimal = Decimal(0)
    ) -> Wallet:
        """`wallet` with its first pages read, in order: as many as make the balance exact at `now` and give
        the head and them `need` expiring points (or every page). One Query, paged (`PAGE_READ_LIMIT`)."""
        read: list[Page] = list(wallet.page_prefix())
        start = keys.wallet_page(org_id, customer_id, wallet.program_id, "")
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": start["pk"],
                ":first": serialize(start["sk"]["S"] + " "),
                ":last": serialize(start["sk"]["S"] + "~"),
            },
            "ConsistentRead": True,
            "Limit": PAGE_READ_LIMIT,
        }
        if read:
            request["ExclusiveStartKey"] = page_key(org_id, customer_id, read[-1])
        while not _enough(wallet, read, now, need):
            response = self._client.query(**request)
            read.extend(load_page(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                # Every page read: they must hold what the head says they hold. If not, the head was read
                # before a write that changed them (or after one the pages do not show yet): read both again.
                held = sum((page.points for page in read), Decimal(0))
                if held != wallet.paged_points:
                    raise NotRecorded({Refusal.WALLET_CHANGED})
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            request["Limit"] = min(2 * request["Limit"], PAGE_READ_MAX)
        others = [page for page in wallet.pages[wallet.prefix :] if upper_key(page) not in _keys(read)]
        pages = sorted([*read, *others], key=lambda page: page.order)
        return wallet.model_copy(update={"pages": tuple(pages), "prefix": len(read)})

    @tracer.capture_method(capture_response=False)
    def all_pages(self, org_id: int, customer_id: str, wallet: Wallet) -> Wallet:
        """`wallet` with every page read, in order (the operator's view; the request path reads only what it
        needs)."""
        everything = wallet.model_copy(update={"pages": (), "prefix": 0})
        far = datetime.max.replace(tzinfo=UTC)
        return self.first_pages(org_id, customer_id, everything, far, wallet.paged_points + 1)

    @tracer.capture_method(capture_response=False)
    def holding(self, org_id: int, customer_id: str, wallet: Wallet, expiries: Iterable[datetime]) -> Wallet:
        """`wallet` with the page holding each of `expiries` read too (the first page bounded after it): one
        Query each, soonest first; a page read already is not read again."""
        for expires_at in sorted(expiries):
            held = next((page for page in wallet.pages if page.holds(expires_at)), None)
            if held is not None:
                continue
            base = keys.wallet_page(org_id, customer_id, wallet.program_id, "")["sk"]["S"]
            bound = Page(program_id=wallet.program_id, upper=expires_at)
            response = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :after AND :last",
                ExpressionAttributeValues={
                    ":pk": keys.wallet(org_id, customer_id, wallet.program_id)["pk"],
                    ":after": serialize(base + upper_key(bound) + " "),
                    ":last": serialize(base + "~"),
                },
                ConsistentRead=True,
                Limit=1,
            )
            items = response.get("Items", [])
            if not items:
                continue
            page = load_page(items[0])
            pages = list(wallet.pages)
            same = next((i for i, p in enumerate(pages) if upper_key(p) == upper_key(page)), None)
            if same is not None:  # read before, from a later expiry: its range is known from this one on
                pages[same] = pages[same].model_copy(update={"known_from": expires_at})
            else:
                pages.append(page.model_copy(update={"known_from": expires_at}))
            wallet = wallet.model_copy(update={"pages": tuple(sorted(pages, key=lambda p: p.order))})
        return wallet


def _keys(pages: Iterable[Page]) -> set[str]:
    return {upper_key(page) for page in pages}


def _enough(wallet: Wallet, read: list[Page], now: datetime, need: Decimal) -> bool:
    known = wallet.model_copy(update={"pages": tuple(read), "prefix": len(read)})
    if not known.known_balance_is_exact(now):
        return False
    if known.unread_points() <= 0 or need <= 0:
        return True
    finite = [bucket for bucket in known.live_buckets(now) if bucket.expires_at is not None]
    return sum((bucket.points for bucket in finite), Decimal(0)) >= need
