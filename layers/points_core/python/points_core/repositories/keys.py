"""Every DynamoDB key of every table, in one place. Each starts with the org, except the login items, which
a request reaches before any org is known: the till login (Basic auth), a till's lockout, and an OAuth client
(a token request names only its key)."""

from __future__ import annotations

import hashlib
from typing import Any

from points_core.domain.identifiers import Identifier, IdentifierType


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def org_config(org_id: int) -> dict[str, Any]:
    return key(f"ORG#{org_id}", "CONFIG")


def org_till(org_id: int, username: str) -> dict[str, Any]:
    return key(f"ORG#{org_id}", f"TILL#{username}")


ORG_TILL_PREFIX = "TILL#"


def org_partition(org_id: int) -> str:
    return f"ORG#{org_id}"


def till_login(username: str) -> dict[str, Any]:
    return key(f"LOGIN#{username}", "TILL")


LOCKOUT_PREFIX = "LOCKOUT#"


def lockout(subject: str) -> dict[str, Any]:
    """Failed logins of a till (`subject` its username), or of an unknown OAuth key (`oauth_subject`): in a
    partition of its own, so the authorizer may write these and nothing else."""
    return key(f"{LOCKOUT_PREFIX}{subject}", "LOCKOUT")


def oauth_subject(client_key: str) -> str:
    """The lockout subject of an OAuth key that names no client (`#` is never in a till username)."""
    return f"OAUTH#{client_key}"


def oauth_client(client_key: str) -> dict[str, Any]:
    return key(f"OAUTH#{client_key}", "CLIENT")


ORG_OAUTH_PREFIX = "OAUTH#"


def org_oauth_client(org_id: int, client_key: str) -> dict[str, Any]:
    """The org's own record of one of its OAuth clients (so that applying its file can remove the others)."""
    return key(f"ORG#{org_id}", f"{ORG_OAUTH_PREFIX}{client_key}")


def identifier(org_id: int, ident: Identifier) -> dict[str, Any]:
    return key(f"ORG#{org_id}#IDENT#{ident.type.value}#{ident.value}", "IDENT")


def customer_by(org_id: int, ident: Identifier) -> dict[str, Any]:
    """The item that names the customer an identifier belongs to, with their contact details: the profile
    for `id`, else the identifier item."""
    if ident.type is IdentifierType.ID:
        return profile(org_id, ident.value)
    return identifier(org_id, ident)


def customer_partition(org_id: int, customer_id: str) -> str:
    return f"ORG#{org_id}#CUST#{customer_id}"


def profile(org_id: int, customer_id: str) -> dict[str, Any]:
    return key(customer_partition(org_id, customer_id), "PROFILE")


def wallet(org_id: int, customer_id: str, program_id: int) -> dict[str, Any]:
    return key(customer_partition(org_id, customer_id), f"WALLET#{program_id}")


def wallet_page(org_id: int, customer_id: str, program_id: int, bound: str) -> dict[str, Any]:
    """One page of a wallet's buckets, by its bound (`ledger.upper_key`; "" gives what every page's key
    starts with)."""
    return key(customer_partition(org_id, customer_id), f"PAGE#{program_id}#{bound}")


def award_entry(org_id: int, customer_id: str, program_id: int, allocation_id: str) -> dict[str, Any]:
    return key(customer_partition(org_id, customer_id), f"P#{program_id}#AWARD#{allocation_id}")


def otp_state(org_id: int, customer_id: str) -> dict[str, Any]:
    """A customer's validation codes (one per program) and send counters, in the Otp table."""
    return key(f"ORG#{org_id}#OTP#{customer_id}", "STATE")


def otp_state_owner(item_key: dict[str, Any]) -> tuple[int, str]:
    """The org and customer an Otp table key belongs to (the inverse of `otp_state`)."""
    _, org_id, _, customer_id = item_key["pk"]["S"].split("#", 3)
    return int(org_id), customer_id


def _digest(text: str) -> str:
    """Caller-chosen text in a key: fixed length whatever its size (references have no length limit)."""
    return hashlib.sha256(text.encode()).hexdigest()


def redemption(org_id: int, redemption_id: str) -> dict[str, Any]:
    """A redemption, or a reversal (`kind`): one namespace of ids, as Capillary's redemption summaries."""
    return key(f"ORG#{org_id}#RED#{redemption_id}", "REDEMPTION")


def reference(org_id: int, external_reference_number: str) -> dict[str, Any]:
    """Marks an `external_reference_number` as used in the org, forever."""
    return key(f"ORG#{org_id}#REF#{_digest(external_reference_number)}", "REF")


def bill_partition(org_id: int, transaction_number: str) -> str:
    return f"ORG#{org_id}#BILL#{_digest(transaction_number)}"


def bill_redemption(org_id: int, transaction_number: str, redemption_id: str) -> dict[str, Any]:
    """One redemption on a bill: all of a bill's redemptions share the partition."""
    return key(bill_partition(org_id, transaction_number), f"RED#{redemption_id}")


def redemption_entry(org_id: int, customer_id: str, program_id: int, redemption_id: str) -> dict[str, Any]:
    return key(customer_partition(org_id, customer_id), f"P#{program_id}#REDEEM#{redemption_id}")


def reversal_entry(org_id: int, customer_id: str, program_id: int, reversal_id: str) -> dict[str, Any]:
    return key(customer_partition(org_id, customer_id), f"P#{program_id}#REVERSE#{reversal_id}")


def group_partition(org_id: int, group_id: str) -> str:
    """A UserGroup2 group: its header (`GROUP`) and one item per member (`MEMBER#<customer>`)."""
    return f"ORG#{org_id}#UG2#{group_id}"


GROUP_MEMBER_PREFIX = "MEMBER#"


def group_header(org_id: int, group_id: str) -> dict[str, Any]:
    return key(group_partition(org_id, group_id), "GROUP")


def group_member(org_id: int, group_id: str, customer_id: str) -> dict[str, Any]:
    return key(group_partition(org_id, group_id), f"{GROUP_MEMBER_PREFIX}{customer_id}")


def group_external_id(org_id: int, external_id: str) -> dict[str, Any]:
    """The group an external id names."""
    return key(f"ORG#{org_id}#UG2EXT#{_digest(external_id)}", "UG2EXT")


def default_group(org_id: int, customer_id: str) -> dict[str, Any]:
    """The customer's default group (`use_default_user_group2`): one item, so a customer has one at most."""
    return key(customer_partition(org_id, customer_id), "UG2DEFAULT")


def primary_of(org_id: int, customer_id: str) -> dict[str, Any]:
    """The group the customer is the primary member of (`user_group2_primary_user_*`): one at most."""
    return key(customer_partition(org_id, customer_id), "UG2PRIMARY")
