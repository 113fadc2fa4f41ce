"""Which wallets a group redemption draws from: the UserGroup2 group a request names (`user_group2_*`), the
program group of `group_redemption=true`, and the rules that refuse them (3316, 1632, 828).

A request names a group by `user_group2_id`, `user_group2_external_id`, its primary member
(`user_group2_primary_user_id`, or `user_group2_primary_user_identifier_type`/`_value`, with `_source` and
`_accountId` accepted) or `use_default_user_group2=true` (the named customer's default group). Everything it
names must be one and the same group, of which the customer named (if any) is a member; otherwise 1632. A
request that names a group but no customer redeems as the group's primary member.
"""

from __future__ import annotations

from dataclasses import dataclass

from points_core.aws.observability import tracer
from points_core.domain import rules
from points_core.domain.codes import Item
from points_core.domain.digits import ascii_digits
from points_core.domain.errors import RuleFailure
from points_core.domain.identifiers import Identifier, v2_identifier_type
from points_core.domain.models import OrgConfig, Program, UserGroup
from points_core.domain.models.group import MAX_GROUP_ID, GroupRequest
from points_core.domain.pool import Source
from points_core.repositories import customer_repository, group_repository, keys

SOURCES = frozenset(
    {
        "FACEBOOK",
        "WEB_ENGAGE",
        "WECHAT",
        "INSTORE",
        "MARTJACK",
        "TMALL",
        "TAOBAO",
        "JD",
        "ECOMMERCE",
        "WEBSITE",
        "LINE",
        "MOBILE_APP",
    }
)
"""`user_group2_primary_user_source`: every source names the org's one set of customers here."""


def _number(text: str, limit: int) -> str:
    value = text.strip()
    if not ascii_digits(value) or len(value) > 19 or not 0 < int(value) <= limit:
        raise RuleFailure(Item.INVALID_GROUP)
    return str(int(value))


def _primary(org: OrgConfig, request: GroupRequest) -> str | None:
    """The customer id of the primary member a request names, if it names one."""
    named: set[str] = set()
    if request.primary_user_id.strip():
        named.add(_number(request.primary_user_id, 2**63 - 1))
    if request.primary_identifier_type.strip() or request.primary_identifier_value.strip():
        kind = v2_identifier_type(request.primary_identifier_type)
        if kind is None or not request.primary_identifier_value.strip():
            raise RuleFailure(Item.INVALID_GROUP)
        try:
            identifier = rules.identify(org, Identifier(kind, request.primary_identifier_value.strip()))
        except RuleFailure:
            raise RuleFailure(Item.INVALID_GROUP) from None
        found = customer_repository().resolve(org.org_id, identifier)
        if found is None:
            raise RuleFailure(Item.INVALID_GROUP)
        named.add(found)
    if request.primary_source.strip() and request.primary_source.strip().upper() not in SOURCES:
        raise RuleFailure(Item.INVALID_GROUP)
    if len(named) > 1:
        raise RuleFailure(Item.INVALID_GROUP)
    return next(iter(named), None)


@tracer.capture_method(capture_response=False)
def find_group(org: OrgConfig, request: GroupRequest, customer_id: str | None) -> UserGroup:
    """The one group the request names (1632 when it names none, several, or one the customer is not in)."""
    groups = group_repository()
    named: set[str] = set()
    if request.group_id.strip():
        named.add(_number(request.group_id, MAX_GROUP_ID))
    if request.external_id.strip():
        found = groups.group_id_by_external_id(org.org_id, request.external_id.strip())
        if found is None:
            raise RuleFailure(Item.INVALID_GROUP)
        named.add(found)
    primary = _primary(org, request)
    if primary is not None:
        named.add(_pointer(groups.pointer(keys.primary_of(org.org_id, primary))))
    if request.use_default:
        if customer_id is None:
            raise RuleFailure(Item.INVALID_GROUP)
        named.add(_pointer(groups.pointer(keys.default_group(org.org_id, customer_id))))
    if len(named) != 1:
        raise RuleFailure(Item.INVALID_GROUP)
    group = groups.group(org.org_id, named.pop())
    if group is None:
        raise RuleFailure(Item.INVALID_GROUP)
    if primary is not None and group.primary_customer_id != primary:
        raise RuleFailure(Item.INVALID_GROUP)
    if customer_id is not None and customer_id not in group.member_ids:
        raise RuleFailure(Item.INVALID_GROUP)
    return group


def _pointer(group_id: str | None) -> str:
    if group_id is None:
        raise RuleFailure(Item.INVALID_GROUP)
    return group_id


@dataclass(frozen=True, slots=True)
class PoolPlan:
    """The wallets a redemption in `program` reads and may draw from, the acting member's first."""

    sources: tuple[Source, ...]
    program_group: str = ""


def plan_pool(
    org: OrgConfig, request: GroupRequest, group: UserGroup | None, customer_id: str, program: Program
) -> PoolPlan:
    """3316 for `group_redemption=true` in a program of no enabled program group; 828 for a group that does
    not redeem in the program. The members are the group's when it redeems across members, else the
    customer alone; the programs are the program group's, else the program alone."""
    programs = [program.program_id]
    program_group = ""
    if request.group_redemption:
        found = org.program_group(program.program_id)
        if found is None or not found.enabled:
            raise RuleFailure(Item.GROUP_REDEMPTION_MISMATCH)
        programs += [p for p in found.program_ids if p != program.program_id]
        program_group = found.name
    if group is not None and not group.redeems_in(program.program_id):
        raise RuleFailure(Item.GROUP_NOT_CONFIGURED)
    members = [customer_id]
    if group is not None and group.cross_member_redemption:
        members += [member for member in group.member_ids if member != customer_id]
    return PoolPlan(tuple(Source.of(m, p) for m in members for p in programs), program_group)
