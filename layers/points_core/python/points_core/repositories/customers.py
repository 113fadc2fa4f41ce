"""Customers, their identifiers and wallets (the Customers table), and award entries (the Ledger table)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from points_core.aws.observability import tracer
from points_core.domain.errors import Refusal
from points_core.domain.identifiers import Identifier, IdentifierType
from points_core.domain.ledger import Layout
from points_core.domain.models import AwardEntry, Contact, CustomerProfile, UsedReference, Wallet
from points_core.domain.pool import Source
from points_core.repositories import keys
from points_core.repositories.batch import batch_get, batch_get_tables, batch_write
from points_core.repositories.codec import load_model, to_item
from points_core.repositories.items import contact, used_reference
from points_core.repositories.transactions import insert, transact
from points_core.repositories.wallets import WalletPages, layout_writes, load_wallet

WALLET_PREFIX = "WALLET#"


@dataclass(slots=True)
class Snapshot:
    profile: CustomerProfile | None = None
    wallet: Wallet | None = None
    reference: UsedReference | None = None
    """The marker of the asked-for `external_reference_number`, when it has been used."""


@dataclass(slots=True)
class PoolSnapshot:
    """What a group redemption reads in one round trip: profiles by customer id, wallets by source."""

    profiles: dict[str, CustomerProfile] = field(default_factory=dict)
    wallets: dict[Source, Wallet] = field(default_factory=dict)
    reference: UsedReference | None = None


@dataclass(frozen=True, slots=True)
class CustomerUpsert:
    profile: CustomerProfile
    claim: tuple[Identifier, ...]
    """Identifiers to point at this customer."""
    release: tuple[Identifier, ...] = ()
    """Identifiers this customer no longer has."""


class CustomerRepository:
    def __init__(
        self,
        client: Any,
        customers_table: str,
        ledger_table: str,
        *,
        redemptions_table: str = "",
    ) -> None:
        self._client = client
        self._customers = customers_table
        self._ledger = ledger_table
        self._redemptions = redemptions_table

    # Reads on the request path: at most two round trips.

    @tracer.capture_method(capture_response=False)
    def resolve(self, org_id: int, identifier: Identifier) -> str | None:
        """The customer id an identifier belongs to (no round trip for `id`)."""
        if identifier.type is IdentifierType.ID:
            return identifier.value
        response = self._client.get_item(
            TableName=self._customers,
            Key=keys.identifier(org_id, identifier),
            ProjectionExpression="customer_id",
        )
        item = response.get("Item")
        return item["customer_id"]["S"] if item else None

    @tracer.capture_method(capture_response=False)
    def contact(self, org_id: int, identifier: Identifier) -> Contact | None:
        """One read: the identifier item (or the profile, for `id`), which carries the contact details."""
        response = self._client.get_item(
            TableName=self._customers,
            Key=keys.customer_by(org_id, identifier),
            ProjectionExpression="customer_id, mobile, email, external_id",
        )
        item = response.get("Item")
        return contact(item) if item else None

    @tracer.capture_method(capture_response=False)
    def profile_and_wallet(
        self,
        org_id: int,
        customer_id: str,
        program_id: int | None,
        *,
        reference: str | None = None,
        consistent: bool = False,
    ) -> Snapshot:
        """Profile, the program's wallet, and when asked the marker of an
        `external_reference_number`: one BatchGetItem."""
        wanted = {self._customers: [keys.profile(org_id, customer_id)]}
        if program_id is not None:
            wanted[self._customers].append(keys.wallet(org_id, customer_id, program_id))
        if reference:
            wanted[self._redemptions] = [keys.reference(org_id, reference)]
        snapshot = Snapshot()
        for table, items in batch_get_tables(self._client, wanted, consistent=consistent).items():
            for item in items:
                if table == self._redemptions:
                    snapshot.reference = used_reference(item)
                elif item["sk"]["S"] == "PROFILE":
                    snapshot.profile = load_model(CustomerProfile, item)
                else:
                    snapshot.wallet = load_wallet(item)
        return snapshot

    @tracer.capture_method(capture_response=False)
    def pool(
        self,
        org_id: int,
        sources: Sequence[Source],
        *,
        reference: str | None = None,
        consistent: bool = False,
    ) -> PoolSnapshot:
        """The profile of each customer of `sources` and each wallet they name (a missing one is absent), and
        when asked the marker of an `external_reference_number`: one BatchGetItem of up to 100 keys (a group
        at its largest, one program)."""
        customer_ids = list(dict.fromkeys(source.customer_id for source in sources))
        wanted = {
            self._customers: [
                *(keys.profile(org_id, customer_id) for customer_id in customer_ids),
                *(keys.wallet(org_id, s.customer_id, s.program_id) for s in dict.fromkeys(sources)),
            ]
        }
        if reference:
            wanted[self._redemptions] = [keys.reference(org_id, reference)]
        snapshot = PoolSnapshot()
        for table, items in batch_get_tables(self._client, wanted, consistent=consistent).items():
            for item in items:
                customer_id = item["pk"]["S"].rsplit("#", 1)[-1]
                if table == self._redemptions:
                    snapshot.reference = used_reference(item)
                elif item["sk"]["S"] == "PROFILE":
                    snapshot.profiles[customer_id] = load_model(CustomerProfile, item)
                else:
                    wallet = load_wallet(item)
                    snapshot.wallets[Source.of(customer_id, wallet.program_id)] = wallet
        return snapshot

    # Writes of the operator tool.

    @tracer.capture_method(capture_response=False)
    def profiles(self, org_id: int, customer_ids: Iterable[str]) -> dict[str, CustomerProfile]:
        wanted = [keys.profile(org_id, customer_id) for customer_id in dict.fromkeys(customer_ids)]
        found = (
            load_model(CustomerProfile, item) for item in batch_get(self._client, self._customers, wanted)
        )
        return {profile.customer_id: profile for profile in found}

    @tracer.capture_method(capture_response=False)
    def identifier_owners(self, org_id: int, identifiers: Iterable[Identifier]) -> dict[Identifier, str]:
        by_key = {
            keys.identifier(org_id, identifier)["pk"]["S"]: identifier
            for identifier in dict.fromkeys(identifiers)
        }
        wanted = [keys.key(pk, "IDENT") for pk in by_key]
        return {
            by_key[item["pk"]["S"]]: item["customer_id"]["S"]
            for item in batch_get(self._client, self._customers, wanted)
        }

    @tracer.capture_method(capture_response=False)
    def write_customers(self, org_id: int, upserts: Sequence[CustomerUpsert]) -> None:
        requests: list[dict[str, Any]] = []
        for upsert in upserts:
            customer_id = upsert.profile.customer_id
            requests.append(
                {
                    "PutRequest": {
                        "Item": to_item(upsert.profile.model_dump(), keys.profile(org_id, customer_id))
                    }
                }
            )
            # Each identifier item carries the contact details too: sending a validation code then needs no
            # profile read (validationcode stays at two round trips).
            contact = {
                "customer_id": customer_id,
                "mobile": upsert.profile.mobile,
                "email": upsert.profile.email,
                "external_id": upsert.profile.external_id,
            }
            for identifier in upsert.claim:
                item = to_item(contact, keys.identifier(org_id, identifier))
                requests.append({"PutRequest": {"Item": item}})
            requests.extend(
                {"DeleteRequest": {"Key": keys.identifier(org_id, identifier)}}
                for identifier in upsert.release
            )
        batch_write(self._client, self._customers, requests)

    @tracer.capture_method(capture_response=False)
    def wallet(self, org_id: int, customer_id: str, program_id: int) -> Wallet | None:
        response = self._client.get_item(
            TableName=self._customers, Key=keys.wallet(org_id, customer_id, program_id), ConsistentRead=True
        )
        item = response.get("Item")
        return load_wallet(item) if item else None

    def pages(self) -> WalletPages:
        """Reading a wallet's pages, when a change or an answer needs them."""
        return WalletPages(self._client, self._customers)

    # The conversion of wallets stored with their allocations inline (points-admin migrate-wallets): never
    # on the request path.

    def old_shape_wallets(self, org_id: int) -> Iterator[tuple[int, list[tuple[str, int]]]]:
        """One Scan of the table, strongly consistent, page by page: how many items each page read, and the
        (customer, program) of each wallet of the org in it still stored with its allocations inline. The
        filter keeps the answer small; the Scan reads the whole table."""
        partition = keys.customer_partition(org_id, "")
        request: dict[str, Any] = {
            "TableName": self._customers,
            "FilterExpression": "begins_with(pk, :pk) AND begins_with(sk, :sk) AND attribute_exists(#old)",
            "ProjectionExpression": "pk, sk",
            "ExpressionAttributeNames": {"#old": "allocations"},
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":sk": {"S": WALLET_PREFIX}},
            "ConsistentRead": True,
        }
        while True:
            response = self._client.scan(**request)
            found = [
                (item["pk"]["S"].removeprefix(partition), int(item["sk"]["S"].removeprefix(WALLET_PREFIX)))
                for item in response.get("Items", [])
            ]
            yield int(response.get("ScannedCount", 0)), found
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @tracer.capture_method(capture_response=False)
    def old_shape_wallet(self, org_id: int, customer_id: str, program_id: int) -> Wallet | None:
        """The wallet (read strongly consistent) if it is still stored with its allocations inline; None when
        it is not (a write converted it) or is gone."""
        response = self._client.get_item(
            TableName=self._customers, Key=keys.wallet(org_id, customer_id, program_id), ConsistentRead=True
        )
        item = response.get("Item")
        return load_wallet(item) if item and "allocations" in item else None

    @tracer.capture_method(capture_response=False)
    def recorded_awards(
        self, org_id: int, customer_id: str, program_id: int, allocation_ids: Iterable[str]
    ) -> dict[str, AwardEntry]:
        wanted = [
            keys.award_entry(org_id, customer_id, program_id, allocation_id)
            for allocation_id in allocation_ids
        ]
        entries = (
            load_model(AwardEntry, item)
            for item in batch_get(self._client, self._ledger, wanted, consistent=True)
        )
        return {entry.allocation_id: entry for entry in entries}

    @tracer.capture_method(capture_response=False)
    def save_awards(
        self,
        org_id: int,
        customer_id: str,
        previous_version: int | None,
        layout: Layout,
        entries: Sequence[AwardEntry],
    ) -> None:
        """The wallet and its new award entries in one transaction: the wallet (head and pages) only if it is
        still as read (`previous_version` None: it must not exist yet), each entry only if it is not recorded
        yet. `NotRecorded` otherwise."""
        items = layout_writes(self._customers, org_id, customer_id, layout, previous_version)
        items.extend(
            insert(
                self._ledger,
                keys.award_entry(org_id, customer_id, entry.program_id, entry.allocation_id),
                entry.model_dump(),
                Refusal.ALREADY_RECORDED,
            )
            for entry in entries
        )
        transact(self._client, items)
