"""`oauth_clients` in an org's configuration file: the OAuth clients that get access tokens
(`POST /v3/oauth/token/generate`), each acting as one of the org's tills.

An entry is `{key, secret, till, token_minutes, enabled}`. The list, when the file has it, is the org's
desired clients: applying saves each and removes the org's clients it no longer lists (`oauth_clients: []`
removes them all). A file without the list leaves the org's clients as they are. Secrets are stored only as
a salted slow hash and never printed; a client whose secret, till, lifetime and state are unchanged is not
rewritten. Keys are unique across all orgs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from points_core.domain.models import OAuthClient
from points_core.domain.models.oauth import MAX_TOKEN_MINUTES
from points_core.domain.passwords import hash_secret, verify_secret
from points_core.repositories import LoginRepository

FIELD = "oauth_clients"


class ClientEntry(BaseModel):
    """A client as the file gives it: its secret in the clear (hashed on the way in)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    key: Annotated[str, OAuthClient.model_fields["key"]]
    secret: Annotated[str, Field(min_length=16, max_length=256)]
    till: Annotated[str, OAuthClient.model_fields["till_id"]]
    token_minutes: Annotated[int, Field(ge=1, le=MAX_TOKEN_MINUTES)] = MAX_TOKEN_MINUTES
    enabled: bool = True

    def same_as(self, client: OAuthClient) -> bool:
        return (client.till_id, client.token_minutes, client.enabled) == (
            self.till,
            self.token_minutes,
            self.enabled,
        ) and verify_secret(self.secret, client.secret_hash)


Word = Callable[[Sequence[int | str], ErrorDetails], str]
"""How the file's problems are worded: a path in the file and pydantic's error (`config_file._problem`)."""


def validate(raw: Any, tills: Sequence[str], word: Word) -> tuple[list[ClientEntry] | None, list[str]]:
    """The file's clients (None when it has no `oauth_clients`), and its problems, each with its path."""
    if raw is None:
        return None, []
    if not isinstance(raw, list):
        return None, [f"{FIELD}: must be a list"]
    entries: list[ClientEntry] = []
    problems: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        try:
            entry = ClientEntry.model_validate(item)
        except ValidationError as error:
            problems.extend(word([FIELD, index], detail) for detail in error.errors(include_url=False))
            continue
        if entry.key in seen:
            problems.append(f"{FIELD}[{index}].key: {entry.key} is listed twice")
        seen.add(entry.key)
        if entry.till not in tills:
            listed = ", ".join(sorted(tills)) or "none"
            problems.append(f"{FIELD}[{index}].till: not one of the file's tills ({listed})")
            continue
        entries.append(entry)
    return entries, problems


def taken(entries: Sequence[ClientEntry], org_id: int, logins: LoginRepository) -> list[str]:
    """Keys of the file that belong to another org (checked before anything is written)."""
    problems = []
    for index, entry in enumerate(entries):
        existing = logins.oauth_client(entry.key)
        if existing is not None and existing.org_id != org_id:
            problems.append(f"{FIELD}[{index}].key: {entry.key} belongs to another org")
    return problems


@dataclass(frozen=True, slots=True)
class Applied:
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]


def apply(entries: Sequence[ClientEntry], org_id: int, logins: LoginRepository) -> Applied:
    applied = Applied([], [], [], [])
    for entry in entries:
        current = logins.oauth_client(entry.key)
        if current is not None and entry.same_as(current):
            applied.unchanged.append(entry.key)
            continue
        (applied.added if current is None else applied.updated).append(entry.key)
        logins.save_oauth_client(
            OAuthClient(
                key=entry.key,
                org_id=org_id,
                till_id=entry.till,
                secret_hash=hash_secret(entry.secret),
                token_minutes=entry.token_minutes,
                enabled=entry.enabled,
            )
        )
    listed = {entry.key for entry in entries}
    for key in logins.oauth_client_keys(org_id):
        if key not in listed:
            logins.delete_oauth_client(org_id, key)
            applied.removed.append(key)
    return applied
