"""`import-groups FILE --org ORG_ID`: UserGroup2 groups (a family, a fleet: members who redeem from their
pooled points) from a CSV file with a header, one row per membership.

Columns (any order; the header must have all of them, an unknown one stops the import before any row is read):

    group_id                 required: the group's id, a whole number from 1 to 2147483647 (leading zeros
                             dropped)
    external_id              the group's id in another system, at most 128 characters, unique in the org;
                             empty: the group has none
    customer_id              required: an existing customer of the org
    role                     required: primary or member (the primary member is a member too)
    default_group            true, or false / empty: true makes this group the customer's default group (a
                             later row, or import, for another group replaces it; false leaves it as it is)
    cross_member_redemption  true / empty, or false: whether a redemption draws from every member's points
    redemption_program_ids   the org's programs the group redeems in, separated by `;`; empty: none (a valid
                             group without a redemption config: the API answers 828)

A group's external_id, cross_member_redemption and redemption_program_ids are given on each of its rows, the
same on every one (a row that differs from the group's first row is rejected): the file is the group's truth
for them, and its header is written from them (a changed external_id frees the old one). A group has one
primary member: its `primary` row's customer (a second primary row for the group is rejected), who takes the
place of a primary stored before (that one stays a member); with no primary row in the file, the one stored
already. A new group with neither is rejected whole. A customer is the primary member of one group at most,
and a group has at most 50 members, those stored included (a row past that is rejected). The import adds
members and updates groups: it never removes a member, a group or a default group.

The whole file is checked before anything is written: each row against the table and the rows before it, and
a new group's rows against its primary row wherever that is in the file. Importing the same file again
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from points_admin import values
from points_admin.csv_import import Outcome, Rejected, Row, RowError, Summary, run_import, scan_rows
from points_admin.errors import CommandError
from points_core.domain.digits import ascii_digits
from points_core.domain.errors import UnprocessedItemsError
from points_core.domain.models import MAX_GROUP_MEMBERS, OrgConfig, UserGroup
from points_core.domain.models.group import MAX_GROUP_ID
from points_core.repositories import CustomerRepository, GroupRepository
from points_core.repositories.groups import CustomerGroups, GroupChanges, StoredGroup, header_values

COLUMNS: tuple[str, ...] = (
    "group_id",
    "external_id",
    "customer_id",
    "role",
    "default_group",
    "cross_member_redemption",
    "redemption_program_ids",
)
# Every column, so that a file cannot leave a group attribute out by mistake: the file is the group's truth.
REQUIRED = frozenset(COLUMNS)
EXTERNAL_ID_MAX_LENGTH = 128
PRIMARY = "primary"
MEMBER = "member"
PROGRAM_SEPARATOR = ";"
_ATTRIBUTES = ("external_id", "cross_member_redemption", "redemption_program_ids")


def group_id(text: str) -> str:
    """The canonical group id (no leading zeros)."""
    value = text.strip()
    # A length bound before int(): int() of a long enough string of digits is slow, then refused.
    if not ascii_digits(value) or len(value.lstrip("0")) > len(str(MAX_GROUP_ID)):
        raise ValueError(f"a whole number from 1 to {MAX_GROUP_ID:,}")
    number = int(value)
    if not 0 < number <= MAX_GROUP_ID:
        raise ValueError(f"a whole number from 1 to {MAX_GROUP_ID:,}")
    return str(number)


def _flag(*, default: bool) -> Callable[[str], bool]:
    def parse(text: str) -> bool:
        if not text:
            return default
        match text.lower():
            case "true":
                return True
            case "false":
                return False
        raise ValueError(f"true, false or empty ({str(default).lower()})")

    return parse


_DEFAULT_GROUP = _flag(default=False)
_CROSS_MEMBER = _flag(default=True)


@dataclass(frozen=True, slots=True)
class Attributes:
    """What every row of a group repeats."""

    external_id: str
    cross_member_redemption: bool
    redemption_program_ids: tuple[int, ...]
    """Ascending, each once."""


@dataclass(frozen=True, slots=True)
class Membership:
    group_id: str
    customer_id: str
    primary: bool
    default: bool
    attributes: Attributes


def _external_id(text: str) -> str:
    if len(text) > EXTERNAL_ID_MAX_LENGTH or any(ord(char) < 32 for char in text):
        raise ValueError(f"at most {EXTERNAL_ID_MAX_LENGTH} printable characters")
    return text


def _role(text: str) -> bool:
    """Whether the role is the primary member's."""
    role = text.lower()
    if role not in (PRIMARY, MEMBER):
        raise ValueError(f"{PRIMARY} or {MEMBER}")
    return role == PRIMARY


def parse_membership(org: OrgConfig, row: Row) -> Membership:
    """A row's values, each checked on its own (`RowError`)."""
    parsed_group = row.parsed("group_id", group_id)
    external_id = row.parsed("external_id", _external_id)
    customer_id = row.parsed("customer_id", values.customer_id)
    primary = row.parsed("role", _role)
    default = row.parsed("default_group", _DEFAULT_GROUP)
    cross_member = row.parsed("cross_member_redemption", _CROSS_MEMBER)
    programs = row.parsed("redemption_program_ids", lambda text: _programs(org, text))
    return Membership(
        parsed_group, customer_id, primary, default, Attributes(external_id, cross_member, programs)
    )


def _programs(org: OrgConfig, text: str) -> tuple[int, ...]:
    if not text:
        return ()
    found: set[int] = set()
    for part in (piece.strip() for piece in text.split(PROGRAM_SEPARATOR)):
        if not part:
            raise ValueError(f"program ids separated by {PROGRAM_SEPARATOR}, none of them empty")
        program_id = int(part) if ascii_digits(part) and len(part) <= 19 else None
        if program_id is None or org.program(program_id) is None:
            programs = ", ".join(str(program.program_id) for program in org.programs)
            raise ValueError(f"{part} is not a program of org {org.org_id} (programs: {programs})")
        found.add(program_id)
    return tuple(sorted(found))


# Who holds an external id, or whose primary member a customer is: the group, and the line of the file that
# gave it (None: as stored).
_Holder = tuple[str, int | None]


@dataclass(slots=True)
class _Group:
    """One group the file names, as the check has it so far."""

    group_id: str
    stored: StoredGroup
    attributes: Attributes
    lines: list[int] = field(default_factory=list)
    """The group's accepted rows, in file order."""
    added: dict[str, int] = field(default_factory=dict)
    """Customers not stored as members yet → the line adding them."""
    primary: tuple[str, int] | None = None
    """The primary member the file gives, and its line."""
    external_id_before: tuple[str, _Holder | None] | None = None
    """The external id this group claimed, and who held it before (given back if the group is rejected)."""

    @property
    def stored_primary(self) -> str | None:
        return self.stored.group.primary_customer_id if self.stored.group is not None else None

    @property
    def stored_external_id(self) -> str:
        return self.stored.group.external_id if self.stored.group is not None else ""

    @property
    def member_count(self) -> int:
        return len(self.stored.member_ids) + len(self.added)

    @property
    def header_line(self) -> int:
        """Where the header is written: with the primary row when the file gives one (so that it never names
        a primary member whose member item is not written yet), else with the group's first row."""
        return self.primary[1] if self.primary is not None else self.lines[0]

    def final(self) -> UserGroup:
        primary = self.primary[0] if self.primary is not None else self.stored_primary
        assert primary is not None
        return UserGroup(
            group_id=self.group_id,
            external_id=self.attributes.external_id,
            primary_customer_id=primary,
            member_ids=tuple(sorted(self.stored.member_ids | set(self.added), key=int)),
            cross_member_redemption=self.attributes.cross_member_redemption,
            redemption_program_ids=self.attributes.redemption_program_ids,
        )


@dataclass(frozen=True, slots=True)
class LinePlan:
    """What pass two does with one accepted row."""

    group_id: str
    customer_id: str
    outcome: Outcome
    changes: GroupChanges | None


class GroupCheck:
    """Pass one: every row decided, in file order, against the table as this file would leave it; nothing
    written. The table is read a chunk of rows at a time: customers' profiles and group pointers and external
    ids in batches, each group's partition once."""

    columns = COLUMNS
    required = REQUIRED

    def __init__(
        self, org: OrgConfig, customers: CustomerRepository, groups: GroupRepository, chunk_size: int
    ) -> None:
        self._org = org
        self._customers = customers
        self._groups = groups
        self._chunk_size = chunk_size
        self.verdicts: dict[int, str] = {}
        """Line → why the row is rejected."""
        self._seen: dict[tuple[str, str], int] = {}
        self._first: dict[str, tuple[Attributes, int]] = {}
        self._group: dict[str, _Group] = {}
        self._known: dict[str, bool] = {}
        self._pointers: dict[str, CustomerGroups] = {}
        self._primary_of: dict[str, _Holder | None] = {}
        self._stored_external: dict[str, str | None] = {}
        self._external_owner: dict[str, _Holder | None] = {}
        self._accepted: dict[int, Membership] = {}

    def check(self, path: Path) -> dict[int, LinePlan]:
        chunk: list[tuple[int, Membership]] = []
        for row in scan_rows(path, self):
            try:
                chunk.append((row.line, self._parse(row)))
            except RowError as error:
                self.verdicts[row.line] = str(error)
                continue
            if len(chunk) >= self._chunk_size:
                self._decide_chunk(chunk)
                chunk = []
        self._decide_chunk(chunk)
        self._reject_groups_without_primary()
        return self._plan()

    # Each row on its own, then against the rows before it.

    def _parse(self, row: Row) -> Membership:
        membership = parse_membership(self._org, row)
        key = (membership.group_id, membership.customer_id)
        earlier = self._seen.get(key)
        if earlier is not None:
            raise RowError(f"customer {key[1]} is already in group {key[0]} on line {earlier}")
        first = self._first.get(membership.group_id)
        if first is not None and first[0] != membership.attributes:
            attributes, line = first
            differing = [
                name
                for name in _ATTRIBUTES
                if getattr(attributes, name) != getattr(membership.attributes, name)
            ]
            verb = "differs" if len(differing) == 1 else "differ"
            raise RowError(
                f"{', '.join(differing)} of group {membership.group_id} {verb} from line {line}, the "
                "group's first row (a group's rows give the same)"
            )
        self._seen[key] = row.line
        self._first.setdefault(membership.group_id, (membership.attributes, row.line))
        return membership

    # Against the table, a chunk at a time.

    def _decide_chunk(self, chunk: Sequence[tuple[int, Membership]]) -> None:
        if not chunk:
            return
        try:
            self._read(chunk)
        except (BotoCoreError, ClientError, UnprocessedItemsError) as error:
            raise CommandError(
                f"checking the rows from line {chunk[0][0]}: {error}. Nothing was written; running the same "
                "import again is safe."
            ) from error
        for line, membership in chunk:
            reason = self._decide(line, membership)
            if reason is not None:
                self.verdicts[line] = reason

    def _read(self, chunk: Sequence[tuple[int, Membership]]) -> None:
        org_id = self._org.org_id
        for _, membership in chunk:
            group_id = membership.group_id
            if group_id not in self._group:
                stored = self._groups.stored_group(org_id, group_id)
                self._group[group_id] = _Group(group_id, stored, self._first[group_id][0])
        groups = [self._group[membership.group_id] for _, membership in chunk]
        external_ids = {
            external_id
            for group in groups
            for external_id in (group.attributes.external_id, group.stored_external_id)
            if external_id and external_id not in self._stored_external
        }
        owners = self._groups.groups_by_external_ids(org_id, external_ids)
        for external_id in external_ids:
            owner = owners.get(external_id)
            self._stored_external[external_id] = owner
            self._external_owner[external_id] = None if owner is None else (owner, None)
        customer_ids = {membership.customer_id for _, membership in chunk}
        customer_ids |= {primary for group in groups if (primary := group.stored_primary) is not None}
        customer_ids -= self._known.keys()
        profiles = self._customers.profiles(org_id, customer_ids)
        pointers = self._groups.customer_groups(org_id, customer_ids)
        for customer_id in customer_ids:
            self._known[customer_id] = customer_id in profiles
            self._pointers[customer_id] = pointers.get(customer_id, CustomerGroups())
            primary_of = self._pointers[customer_id].primary
            self._primary_of[customer_id] = None if primary_of is None else (primary_of, None)

    def _refusal(self, group: _Group, membership: Membership) -> str | None:
        customer_id = membership.customer_id
        if not self._known[customer_id]:
            return f"unknown customer {customer_id}: not a customer of org {self._org.org_id}"
        external_id = group.attributes.external_id
        holder = self._external_owner.get(external_id) if external_id else None
        if holder is not None and holder[0] != group.group_id:
            where = "" if holder[1] is None else f" on line {holder[1]}"
            return f"external_id {external_id} names group {holder[0]}{where} already"
        new_member = customer_id not in group.stored.member_ids
        if new_member and group.member_count >= MAX_GROUP_MEMBERS:
            return (
                f"group {group.group_id} has {MAX_GROUP_MEMBERS} members already, the most a group may have"
            )
        if membership.primary:
            if group.primary is not None:
                return (
                    f"group {group.group_id} has its primary member on line {group.primary[1]} (customer "
                    f"{group.primary[0]}): a group has one"
                )
            primary_of = self._primary_of[customer_id]
            if primary_of is not None and primary_of[0] != group.group_id:
                where = "" if primary_of[1] is None else f" on line {primary_of[1]}"
                return f"customer {customer_id} is the primary member of group {primary_of[0]}{where} already"
        return None

    def _decide(self, line: int, membership: Membership) -> str | None:
        group = self._group[membership.group_id]
        reason = self._refusal(group, membership)
        if reason is not None:
            return reason
        if not group.lines:
            self._claim_external_id(group, line)
        group.lines.append(line)
        customer_id = membership.customer_id
        if customer_id not in group.stored.member_ids:
            group.added[customer_id] = line
        if membership.primary:
            group.primary = (customer_id, line)
            self._primary_of[customer_id] = (group.group_id, line)
            before = group.stored_primary
            if before is not None and before != customer_id:
                holder = self._primary_of.get(before)
                if holder is not None and holder[0] == group.group_id:
                    self._primary_of[before] = None
        self._accepted[line] = membership
        return None

    def _claim_external_id(self, group: _Group, line: int) -> None:
        """A group's first accepted row: its external id is the file's (the old one, if another, is freed)."""
        external_id = group.attributes.external_id
        old = group.stored_external_id
        if old and old != external_id:
            holder = self._external_owner.get(old)
            if holder is not None and holder[0] == group.group_id:
                self._external_owner[old] = None
        if external_id:
            previous = self._external_owner.get(external_id)
            group.external_id_before = (external_id, previous)
            if previous is None:
                self._external_owner[external_id] = (group.group_id, line)

    def _reject_groups_without_primary(self) -> None:
        for group in self._group.values():
            if group.stored.group is not None or group.primary is not None or not group.lines:
                continue
            for line in group.lines:
                self.verdicts[line] = (
                    f"group {group.group_id} has no primary member: no primary row in the file, none stored"
                )
                del self._accepted[line]
            if group.external_id_before is not None:
                external_id, previous = group.external_id_before
                self._external_owner[external_id] = previous
            group.lines.clear()
            group.added.clear()

    # What pass two writes, row by row.

    def _plan(self) -> dict[int, LinePlan]:
        changes: dict[int, GroupChanges] = {}

        def at(line: int) -> GroupChanges:
            return changes.setdefault(line, GroupChanges())

        for group in self._group.values():
            if group.lines:
                self._plan_group(group, at)
        # Primary pointers: a customer made primary here, or no longer the primary of a group.
        for customer_id, holder in self._primary_of.items():
            stored = self._pointers[customer_id].primary
            final = None if holder is None else holder[0]
            if final == stored:
                continue
            if holder is not None and holder[1] is not None:
                at(holder[1]).primaries[customer_id] = holder[0]
            elif holder is None and stored is not None:
                at(self._group[stored].header_line).released_primaries.append(customer_id)
        # Default groups: the last accepted row saying so wins.
        defaults: dict[str, tuple[int, str]] = {}
        for line, membership in self._accepted.items():
            if membership.default:
                defaults[membership.customer_id] = (line, membership.group_id)
        for customer_id, (line, group_id) in defaults.items():
            if self._pointers[customer_id].default != group_id:
                at(line).defaults[customer_id] = group_id

        plans: dict[int, LinePlan] = {}
        for line, membership in self._accepted.items():
            group = self._group[membership.group_id]
            line_changes = changes.get(line)
            if group.added.get(membership.customer_id) == line:
                line_changes = at(line)
                line_changes.members.append((membership.group_id, membership.customer_id))
                outcome = Outcome.CREATED
            else:
                outcome = Outcome.UNCHANGED if line_changes is None else Outcome.UPDATED
            plans[line] = LinePlan(membership.group_id, membership.customer_id, outcome, line_changes)
        return plans

    def _plan_group(self, group: _Group, at: Callable[[int], GroupChanges]) -> None:
        """The header and the external id, with the row `_Group.header_line` names."""
        final = group.final()
        stored = group.stored.group
        if stored is None or header_values(stored) != header_values(final):
            at(group.header_line).headers.append(final)
        external_id = final.external_id
        if external_id and self._stored_external.get(external_id) != group.group_id:
            at(group.header_line).external_ids[external_id] = group.group_id
        old = group.stored_external_id
        if (
            old
            and old != external_id
            and self._external_owner.get(old) is None
            and self._stored_external.get(old) == group.group_id
        ):
            at(group.header_line).released_external_ids.append(old)


class GroupRows:
    """Pass two, through the shared import loop: each row as pass one decided it; a batch's writes at once."""

    columns = COLUMNS
    required = REQUIRED

    def __init__(
        self,
        org: OrgConfig,
        groups: GroupRepository,
        path: Path,
        verdicts: dict[int, str],
        plans: dict[int, LinePlan],
    ) -> None:
        self._org = org
        self._groups = groups
        self._path = path
        self._verdicts = verdicts
        self._plans = plans

    def parse(self, row: Row) -> LinePlan:
        reason = self._verdicts.get(row.line)
        if reason is not None:
            raise RowError(reason)
        plan = self._plans.get(row.line)
        try:
            same = plan is not None and (plan.group_id, plan.customer_id) == (
                group_id(row.get("group_id")),
                values.customer_id(row.get("customer_id")),
            )
        except ValueError:
            same = False
        if not same:
            raise CommandError(
                f"line {row.line}: {self._path.name} changed while it was being imported: stopped there; "
                "running the import again is safe"
            )
        assert plan is not None
        return plan

    def write(self, batch: Sequence[tuple[Row, LinePlan]]) -> list[Outcome | Rejected]:
        changes = GroupChanges()
        for _, plan in batch:
            if plan.changes is None:
                continue
            changes.members += plan.changes.members
            changes.defaults.update(plan.changes.defaults)
            changes.primaries.update(plan.changes.primaries)
            changes.headers += plan.changes.headers
            changes.external_ids.update(plan.changes.external_ids)
            changes.released_external_ids += plan.changes.released_external_ids
            changes.released_primaries += plan.changes.released_primaries
        if changes:
            try:
                self._groups.write(self._org.org_id, changes)
            except UnprocessedItemsError as error:
                # The shared loop words AWS's own errors so; this one is the layer's, after its retries.
                raise CommandError(
                    f"writing the rows from line {batch[0][0].line}: {error}. The rows before it are "
                    "imported; running the same import again is safe."
                ) from error
        return [plan.outcome for _, plan in batch]


def run(
    path: Path,
    org: OrgConfig,
    customers: CustomerRepository,
    groups: GroupRepository,
    *,
    batch_size: int,
    rejects_path: Path | None,
) -> Summary:
    """Check the whole file (nothing written), then import it: each bad row reported, the good rows written
    in batches."""
    check = GroupCheck(org, customers, groups, batch_size)
    plans = check.check(path)
    handler = GroupRows(org, groups, path, check.verdicts, plans)
    return run_import(path, handler, batch_size=batch_size, rejects_path=rejects_path)
