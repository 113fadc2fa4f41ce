"""UserGroup2 groups in the Customers table: a group's partition holds its header and one item per member;
an external id names a group through an item of its own; a customer's partition names the customer's default
group and the group they are the primary member of (one item each, so one of each at most).

Header `GROUP`: `external_id`, `primary_customer_id`, `cross_member_redemption`, `redemption_program_ids`.
Member `MEMBER#<customer>`: `customer_id`. External id `UG2EXT`: `group_id`. `UG2DEFAULT` and `UG2PRIMARY` in
the customer's partition: `group_id`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from points_core.aws.observability import tracer
from points_core.domain.models import UserGroup
from points_core.repositories import keys
from points_core.repositories.batch import batch_get, batch_write
from points_core.repositories.codec import from_item, serialize, to_item


def load_group(group_id: str, items: list[dict[str, Any]]) -> UserGroup | None:
    """A group from the items of its partition (None without a header: no such group)."""
    header: dict[str, Any] | None = None
    members: list[str] = []
    for item in items:
        values = from_item(item)
        if item["sk"]["S"] == "GROUP":
            header = values
        elif item["sk"]["S"].startswith(keys.GROUP_MEMBER_PREFIX):
            members.append(str(values["customer_id"]))
    if header is None:
        return None
    return UserGroup(
        group_id=group_id,
        external_id=str(header.get("external_id", "")),
        primary_customer_id=str(header["primary_customer_id"]),
        member_ids=tuple(sorted(set(members), key=int)),
        cross_member_redemption=bool(header.get("cross_member_redemption", True)),
        redemption_program_ids=tuple(int(p) for p in header.get("redemption_program_ids", [])),
    )


@dataclass(frozen=True, slots=True)
class StoredGroup:
    """A group's partition as stored: the group (None without a header) and every member item's customer."""

    group: UserGroup | None
    member_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class CustomerGroups:
    """The groups a customer's partition names."""

    default: str | None = None
    """`UG2DEFAULT`: the customer's default group."""
    primary: str | None = None
    """`UG2PRIMARY`: the group the customer is the primary member of."""


@dataclass(slots=True)
class GroupChanges:
    """What the operator tool's import writes, each item at most once. Written in two rounds: memberships and
    the pointers to a group before the headers, so that a header never names a primary member whose member
    item is not written yet (an interrupted write leaves at most member items of a group with no header,
    which is no group: running the import again completes it)."""

    members: list[tuple[str, str]] = field(default_factory=list)
    """(group id, customer id) of each member item to put."""
    defaults: dict[str, str] = field(default_factory=dict)
    """Customer id → the group their `UG2DEFAULT` is to name."""
    primaries: dict[str, str] = field(default_factory=dict)
    """Customer id → the group their `UG2PRIMARY` is to name."""
    headers: list[UserGroup] = field(default_factory=list)
    """Groups whose header to put (their `member_ids` are not written: members are items of their own)."""
    external_ids: dict[str, str] = field(default_factory=dict)
    """External id → the group its `UG2EXT` is to name."""
    released_external_ids: list[str] = field(default_factory=list)
    """External ids that name no group any more: their `UG2EXT` is deleted."""
    released_primaries: list[str] = field(default_factory=list)
    """Customers who are no longer a group's primary member: their `UG2PRIMARY` is deleted."""

    def __bool__(self) -> bool:
        return any(
            (
                self.members,
                self.defaults,
                self.primaries,
                self.headers,
                self.external_ids,
                self.released_external_ids,
                self.released_primaries,
            )
        )


def header_values(group: UserGroup) -> dict[str, Any]:
    """A group's `GROUP` item's attributes."""
    return {
        "external_id": group.external_id,
        "primary_customer_id": group.primary_customer_id,
        "cross_member_redemption": group.cross_member_redemption,
        "redemption_program_ids": list(group.redemption_program_ids),
    }


def _put(values: dict[str, Any], key: dict[str, Any]) -> dict[str, Any]:
    return {"PutRequest": {"Item": to_item(values, key)}}


def _group_id(item: dict[str, Any]) -> str:
    """The `group_id` an item names (stored as text; a number is read the same)."""
    value = item["group_id"]
    return str(value.get("S") or int(value["N"]))


class GroupRepository:
    def __init__(self, client: Any, customers_table: str) -> None:
        self._client = client
        self._customers = customers_table

    @property
    def table(self) -> str:
        return self._customers

    @tracer.capture_method(capture_response=False)
    def group(self, org_id: int, group_id: str, *, consistent: bool = False) -> UserGroup | None:
        """The group with its members: one Query of its partition (at most 51 small items, one page)."""
        return load_group(group_id, self._partition(org_id, group_id, consistent=consistent))

    @tracer.capture_method(capture_response=False)
    def stored_group(self, org_id: int, group_id: str, *, consistent: bool = True) -> StoredGroup:
        """The group, and its member items even without a header (an interrupted import's): one Query."""
        items = self._partition(org_id, group_id, consistent=consistent)
        members = frozenset(
            str(item["customer_id"]["S"])
            for item in items
            if item["sk"]["S"].startswith(keys.GROUP_MEMBER_PREFIX)
        )
        return StoredGroup(load_group(group_id, items), members)

    def _partition(self, org_id: int, group_id: str, *, consistent: bool) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._customers,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": serialize(keys.group_partition(org_id, group_id))},
            "ConsistentRead": consistent,
        }
        items: list[dict[str, Any]] = []
        while True:
            response = self._client.query(**request)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @tracer.capture_method(capture_response=False)
    def group_id_by_external_id(self, org_id: int, external_id: str) -> str | None:
        response = self._client.get_item(
            TableName=self._customers,
            Key=keys.group_external_id(org_id, external_id),
            ProjectionExpression="group_id",
        )
        item = response.get("Item")
        return _group_id(item) if item else None

    @tracer.capture_method(capture_response=False)
    def pointer(self, key: dict[str, Any]) -> str | None:
        """The group a customer's `UG2DEFAULT` or `UG2PRIMARY` item names."""
        response = self._client.get_item(TableName=self._customers, Key=key, ProjectionExpression="group_id")
        item = response.get("Item")
        return _group_id(item) if item else None

    # Reads and writes of the operator tool's import.

    @tracer.capture_method(capture_response=False)
    def customer_groups(self, org_id: int, customer_ids: Iterable[str]) -> dict[str, CustomerGroups]:
        """Each customer's `UG2DEFAULT` and `UG2PRIMARY` (BatchGetItem, consistent); a customer whose
        partition names no group is left out."""
        wanted = [
            key
            for customer_id in dict.fromkeys(customer_ids)
            for key in (keys.default_group(org_id, customer_id), keys.primary_of(org_id, customer_id))
        ]
        found: dict[str, dict[str, str]] = {}
        for item in batch_get(self._client, self._customers, wanted, consistent=True):
            customer_id = item["pk"]["S"].removeprefix(keys.customer_partition(org_id, ""))
            found.setdefault(customer_id, {})[item["sk"]["S"]] = _group_id(item)
        return {
            customer_id: CustomerGroups(default=names.get("UG2DEFAULT"), primary=names.get("UG2PRIMARY"))
            for customer_id, names in found.items()
        }

    @tracer.capture_method(capture_response=False)
    def groups_by_external_ids(self, org_id: int, external_ids: Iterable[str]) -> dict[str, str]:
        """External id → the group its `UG2EXT` names (BatchGetItem, consistent); unknown ones left out."""
        by_pk = {
            keys.group_external_id(org_id, external_id)["pk"]["S"]: external_id
            for external_id in external_ids
        }
        wanted = [keys.key(pk, "UG2EXT") for pk in by_pk]
        return {
            by_pk[item["pk"]["S"]]: _group_id(item)
            for item in batch_get(self._client, self._customers, wanted, consistent=True)
        }

    @tracer.capture_method(capture_response=False)
    def write(self, org_id: int, changes: GroupChanges) -> None:
        """BatchWriteItem, in the two rounds `GroupChanges` describes (neither is atomic: a failure leaves
        what was written, and writing the same changes again completes them)."""
        first = [
            _put({"customer_id": customer_id}, keys.group_member(org_id, group_id, customer_id))
            for group_id, customer_id in changes.members
        ]
        first += [
            _put({"group_id": group_id}, keys.default_group(org_id, customer_id))
            for customer_id, group_id in changes.defaults.items()
        ]
        first += [
            _put({"group_id": group_id}, keys.primary_of(org_id, customer_id))
            for customer_id, group_id in changes.primaries.items()
        ]
        second = [
            _put(header_values(group), keys.group_header(org_id, group.group_id)) for group in changes.headers
        ]
        second += [
            _put({"group_id": group_id}, keys.group_external_id(org_id, external_id))
            for external_id, group_id in changes.external_ids.items()
        ]
        second += [
            {"DeleteRequest": {"Key": keys.group_external_id(org_id, external_id)}}
            for external_id in changes.released_external_ids
        ]
        second += [
            {"DeleteRequest": {"Key": keys.primary_of(org_id, customer_id)}}
            for customer_id in changes.released_primaries
        ]
        for requests in (first, second):
            if requests:
                batch_write(self._client, self._customers, requests)
