"""Test data: orgs, customers and wallets, and API Gateway events, built the way the service receives them."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from points_core.domain.models import (
    Allocation,
    Caller,
    CustomerProfile,
    OrgConfig,
    Program,
    RedemptionRules,
    Store,
    TillLogin,
    UserGroup,
    Wallet,
)
from points_core.domain.passwords import client_password, hash_password
from points_core.repositories import config_repository
from points_core.services.loading import Award, award_points, upsert_customers

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ORG_ID = 100737
PROGRAM_ID = 973
STORE_ID = "501"
TILL = "demo.till"
TILL_PASSWORD = "demo-till-password"


def program(program_id: int = PROGRAM_ID, ratio: str = "0.5", **rules: Any) -> Program:
    return Program(
        program_id=program_id,
        name=f"Program {program_id}",
        points_currency_ratio=Decimal(ratio),
        rules=RedemptionRules(**rules),
    )


def org_config(
    org_id: int = ORG_ID, programs: tuple[Program, ...] | None = None, **overrides: Any
) -> OrgConfig:
    values: dict[str, Any] = {
        "org_id": org_id,
        "name": f"Org {org_id}",
        "timezone": "Asia/Kolkata",
        "country_code": "91",
        "programs": programs if programs is not None else (program(),),
        "stores": (Store(store_id=STORE_ID, name="Store", program_id=PROGRAM_ID),)
        if programs is None
        else (),
        "default_program_id": None,
    }
    values.update(overrides)
    return OrgConfig(**values)


def profile(customer_id: str = "1001", mobile: str = "919000000001", **overrides: Any) -> CustomerProfile:
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "mobile": mobile,
        "email": f"customer{customer_id}@example.com",
        "external_id": f"EXT-{customer_id}",
    }
    values.update(overrides)
    return CustomerProfile(**values)


def allocation(
    points: str,
    *,
    expires_in_days: int | None = 365,
    awarded_days_ago: int = 30,
    allocation_id: str | None = None,
) -> Allocation:
    return Allocation(
        allocation_id=allocation_id or uuid.uuid4().hex[:12],
        points=Decimal(points),
        remaining=Decimal(points),
        awarded_at=NOW - timedelta(days=awarded_days_ago),
        expires_at=None if expires_in_days is None else NOW + timedelta(days=expires_in_days),
    )


def wallet(*allocations: Allocation, lifetime_points: str | None = None, tier: str | None = None) -> Wallet:
    lifetime = (
        Decimal(lifetime_points)
        if lifetime_points is not None
        else sum((a.points for a in allocations), Decimal(0))
    )
    return Wallet(
        program_id=PROGRAM_ID, version=1, tier=tier, lifetime_points=lifetime, allocations=allocations
    )


def caller(org_id: int = ORG_ID, store_id: str = STORE_ID, till_id: str = TILL) -> Caller:
    return Caller(org_id=org_id, till_id=till_id, store_id=store_id)


def seed_org(config: OrgConfig | None = None, tills: dict[str, str] | None = None) -> OrgConfig:
    """Save an org and its tills (username → store) with the demo password."""
    config = config or org_config()
    repository = config_repository()
    repository.save_org(config)
    for username, store_id in (tills if tills is not None else {TILL: STORE_ID}).items():
        login = TillLogin(
            username=username,
            org_id=config.org_id,
            store_id=store_id,
            password_hash=hash_password(client_password(TILL_PASSWORD)),
        )
        repository.save_till(login)
    return config


def seed_customer(
    customer: CustomerProfile,
    *allocations: Allocation,
    org_id: int = ORG_ID,
    program_id: int = PROGRAM_ID,
    tier: str | None = None,
) -> CustomerProfile:
    assert upsert_customers(org_id, [customer]) == {}
    if allocations or tier:
        awards = [Award(a.allocation_id, a.points, a.awarded_at, a.expires_at) for a in allocations]
        award_points(org_id, customer.customer_id, program_id, awards, NOW, tier=tier)
    return customer


JANE = "919000000001"


def seed_jane(*more: Allocation, **fields: Any) -> CustomerProfile:
    """Jane Doe, customer 1001: 500 points expiring in 900 days ("late"), 300 in 30 ("soon"), then `more`."""
    return seed_customer(
        profile("1001", JANE, email="jane.doe@example.com", **fields),
        allocation("500", expires_in_days=900, allocation_id="late"),
        allocation("300", expires_in_days=30, allocation_id="soon"),
        *more,
    )


def seed_ravi() -> CustomerProfile:
    """Customer 1002 with 1000 points ("ravi")."""
    return seed_customer(profile("1002", "919000000002"), allocation("1000", allocation_id="ravi"))


def basic_auth(username: str = TILL, password: str = TILL_PASSWORD) -> str:
    credentials = f"{username}:{client_password(password)}".encode()
    return "Basic " + base64.b64encode(credentials).decode()


def api_event(
    method: str,
    path: str,
    query: Mapping[str, str | list[str]] | None = None,
    *,
    body: str | None = None,
    authorizer: dict[str, str] | None = None,
    headers: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event as it reaches a function behind the till authorizer. A query value
    that is a list is a parameter given more than once (queryStringParameters keeps the last, as API Gateway
    does)."""
    context = (
        authorizer
        if authorizer is not None
        else {"org_id": str(ORG_ID), "till_id": TILL, "store_id": STORE_ID}
    )
    multi_query = {k: v if isinstance(v, list) else [v] for k, v in (query or {}).items()}
    request_id = str(uuid.uuid4())
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        # A JSON client's Accept unless the test says otherwise (None: no such header).
        "headers": {
            name: value
            for name, value in {"Accept": "application/json", **(headers or {})}.items()
            if value is not None
        },
        "multiValueHeaders": {},
        "queryStringParameters": {k: values[-1] for k, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "localapi",
            "stage": "prod",
            "requestId": request_id,
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/prod{path}?{urlencode(multi_query, doseq=True)}",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"principalId": context.get("till_id", ""), **context} if context else None,
        },
        "body": body,
        "isBase64Encoded": False,
    }


# What an EventBridge rule with a schedule expression (and no Input) sends: its keys.
SCHEDULED_EVENT_KEYS = {
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
}


def seed_group(group: UserGroup, *, defaults: tuple[str, ...] = (), org_id: int = ORG_ID) -> UserGroup:
    """Store a UserGroup2 group as the operator tool's import does (the layout of repositories/groups.py):
    its header, a member item each, its external id, the primary's pointer, and `defaults` (customer ids)
    pointing at it as their default group."""
    from points_core.aws.clients import dynamodb_client
    from points_core.aws.settings import get_settings
    from points_core.repositories import keys
    from points_core.repositories.codec import to_item

    client, table = dynamodb_client(), get_settings().customers_table
    header = {
        "group_id": group.group_id,
        "external_id": group.external_id,
        "primary_customer_id": group.primary_customer_id,
        "cross_member_redemption": group.cross_member_redemption,
        "redemption_program_ids": list(group.redemption_program_ids),
    }
    items = [to_item(header, keys.group_header(org_id, group.group_id))]
    items += [
        to_item({"customer_id": member}, keys.group_member(org_id, group.group_id, member))
        for member in group.member_ids
    ]
    pointer = {"group_id": group.group_id}
    if group.external_id:
        items.append(to_item(pointer, keys.group_external_id(org_id, group.external_id)))
    items.append(to_item(pointer, keys.primary_of(org_id, group.primary_customer_id)))
    items += [to_item(pointer, keys.default_group(org_id, member)) for member in defaults]
    for item in items:
        client.put_item(TableName=table, Item=item)
    return group


def family(*members: str, group_id: str = "5001", primary: str | None = None, **fields: Any) -> UserGroup:
    """A group of `members` (the first is the primary unless named), redeeming in program 973."""
    values: dict[str, Any] = {
        "group_id": group_id,
        "external_id": f"FAM-{group_id}",
        "primary_customer_id": primary or members[0],
        "member_ids": tuple(sorted(members, key=int)),
        "redemption_program_ids": (PROGRAM_ID,),
    }
    values.update(fields)
    return UserGroup(**values)
