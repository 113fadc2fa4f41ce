"""`apply-config FILE`: an org's whole configuration, and its tills, from a YAML or JSON file.

The file holds the fields of `points_core.domain.models.OrgConfig` (see demo/README.md) plus `tills`, a list
of `{username, password | password_md5, store_id}` (`tills: []` for an org without tills: the list is required
so that forgetting it cannot remove every till). The file is the org's desired state: applying it saves the
configuration and each till, and removes the org's tills that the file no longer lists. Nothing is written
unless the whole file is valid, and applying the same file twice changes nothing the second time.
Each till gets its own API key in the stack's usage plan (`points_admin.api_keys`), kept in its login item
for the authorizer; a removed till's key is deleted.
Numbers are read as decimals, never as binary floats. Passwords are stored only as a salted hash of the
MD5 a till sends, and are never printed. OAuth clients (`oauth_clients`, optional: without it the org's
clients are left as they are) are read and applied by `points_admin.oauth_clients`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from points_admin import oauth_clients
from points_admin.api_keys import TillKeys
from points_admin.connection import Backend
from points_admin.errors import CommandError
from points_core.domain.models import OrgConfig, TillLogin
from points_core.domain.passwords import client_password, hash_password, verify_password
from points_core.domain.timezones import zone_rules
from points_core.repositories import ConfigRepository, LoginRepository

_MD5_HEX = re.compile(r"^[0-9a-fA-F]{32}$")
# pydantic's "Input should be greater than 0" reads "must be greater than 0" after the field's path.
_SHOULD = re.compile(r"^(Input|String|Value|List|Tuple|Dictionary|Set) should ")


class _DecimalLoader(yaml.SafeLoader):
    """YAML with its floats read as `Decimal`: `0.1` must stay exactly one tenth."""


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a decimal number", node.start_mark
        ) from None


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number here")


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
    return " ".join(str(error).split())


def load_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise CommandError(f"{path}: not UTF-8 text") from error
    as_json = path.suffix.lower() == ".json" or (
        path.suffix.lower() not in (".yaml", ".yml") and text.lstrip().startswith("{")
    )
    try:
        if as_json:
            document = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        else:
            document = yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - a SafeLoader subclass
    except json.JSONDecodeError as error:
        raise CommandError(f"{path}: line {error.lineno}: {error.msg}") from error
    except yaml.YAMLError as error:
        raise CommandError(f"{path}: {_yaml_problem(error)}") from error
    except ValueError as error:
        raise CommandError(f"{path}: {error}") from error
    if not isinstance(document, dict):
        raise CommandError(f"{path}: the top level must be a mapping of configuration fields")
    return document


class TillEntry(BaseModel):
    """A till as the file gives it: the plain password (hashed on the way in) or its lowercase hex MD5."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    username: Annotated[str, TillLogin.model_fields["username"]]
    password: Annotated[str, Field(min_length=1)] | None = None
    password_md5: str | None = None
    store_id: str

    @field_validator("password_md5")
    @classmethod
    def _md5_hex(cls, value: str | None) -> str | None:
        if value is not None and not _MD5_HEX.match(value):
            raise ValueError("must be the 32 hexadecimal digits of the password's MD5")
        return value

    @model_validator(mode="after")
    def _one_password(self) -> TillEntry:
        if (self.password is None) == (self.password_md5 is None):
            raise ValueError("give either password or password_md5")
        return self

    @property
    def md5(self) -> str:
        return self.password_md5.lower() if self.password_md5 else client_password(self.password or "")


def _path(location: Sequence[int | str]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


_MESSAGES = {"missing": "required", "extra_forbidden": "unknown field"}


def _problem(prefix: Sequence[int | str], error: ErrorDetails) -> str:
    message = _MESSAGES.get(error["type"]) or error["msg"].removeprefix("Value error, ")
    message = _SHOULD.sub("must ", message)
    path = _path([*prefix, *error["loc"]])
    return f"{path}: {message}" if path else message


class InvalidConfig(CommandError):
    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(
            f"{len(problems)} problem(s), nothing was written:\n" + "\n".join(f"  {p}" for p in problems)
        )


@dataclass(frozen=True, slots=True)
class Plan:
    org: OrgConfig
    tills: list[TillEntry]
    clients: list[oauth_clients.ClientEntry] | None = None
    """The file's OAuth clients; None when it has no `oauth_clients` (the org's are left as they are)."""


def validate(document: dict[str, Any]) -> Plan:
    """The org and its tills, or `InvalidConfig` with every problem found, each with its path in the file."""
    fields = dict(document)
    raw_tills = fields.pop("tills", None)
    raw_clients = fields.pop(oauth_clients.FIELD, None)
    problems: list[str] = []
    if "till_ids" in fields:
        del fields["till_ids"]
        problems.append("till_ids: not written in the file: it is the usernames of `tills`")
    org: OrgConfig | None = None
    try:
        org = OrgConfig.model_validate(fields)
    except ValidationError as error:
        problems.extend(_problem([], detail) for detail in error.errors(include_url=False))
    timezone = fields.get("timezone")
    if isinstance(timezone, str):
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"timezone: unknown time zone {timezone!r} (e.g. Asia/Kolkata)")
    if raw_tills is None:
        problems.append("tills: required (write `tills: []` for an org without tills)")
        raw_tills = []
    elif not isinstance(raw_tills, list):
        problems.append("tills: must be a list")
        raw_tills = []
    tills: list[TillEntry] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_tills):
        try:
            entry = TillEntry.model_validate(raw)
        except ValidationError as error:
            problems.extend(_problem(["tills", index], detail) for detail in error.errors(include_url=False))
            continue
        if entry.username in seen:
            problems.append(f"tills[{index}].username: {entry.username} is listed twice")
        seen.add(entry.username)
        if org is None:
            continue
        if org.store(entry.store_id) is None:
            stores = ", ".join(store.store_id for store in org.stores) or "none"
            problems.append(f"tills[{index}].store_id: not one of the org's stores ({stores})")
            continue
        tills.append(entry)
    clients, client_problems = oauth_clients.validate(raw_clients, sorted(seen), _problem)
    problems.extend(client_problems)
    if problems or org is None:
        raise InvalidConfig(problems)
    # The configuration lists its tills: a redemption tells the org's tills from other names without a read.
    listed = frozenset(entry.username for entry in tills)
    return Plan(
        org.model_copy(update={"timezone_rules": zone_rules(org.timezone), "till_ids": listed}),
        tills,
        clients,
    )


def _names(names: Sequence[str]) -> str:
    return f" ({', '.join(sorted(names))})" if names else ""


def apply(
    plan: Plan, repository: ConfigRepository, logins: LoginRepository, till_keys: Callable[[], TillKeys]
) -> None:
    """`till_keys` gives the stack's usage plan, asked for only when the org has tills (before any write)."""
    org = plan.org
    existing = {entry.username: repository.till_login(entry.username) for entry in plan.tills}
    taken = [
        f"tills[{index}].username: {entry.username} belongs to another org"
        for index, entry in enumerate(plan.tills)
        if (login := existing[entry.username]) is not None and login.org_id != org.org_id
    ]
    taken += oauth_clients.taken(plan.clients or [], org.org_id, logins)
    if taken:
        raise InvalidConfig(taken)
    listed = {entry.username for entry in plan.tills}
    removed = [username for username in repository.till_usernames(org.org_id) if username not in listed]
    keys = till_keys() if plan.tills or removed else None

    previous = repository.org(org.org_id)
    if previous != org:
        repository.save_org(org)
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for entry in plan.tills:
        assert keys is not None  # asked for above: the org has tills
        current = existing[entry.username]
        # The key is in the usage plan before the login names it: a login never has a key API Gateway refuses.
        api_key = keys.ensure(entry.username, org.org_id, current.api_key if current else None)
        same_password = current is not None and verify_password(entry.md5, current.password_hash)
        if current is None:
            added.append(entry.username)
        elif same_password and (current.store_id, current.api_key) == (entry.store_id, api_key):
            # Same store, password and key: a new salt would be the only change.
            unchanged.append(entry.username)
            continue
        else:
            updated.append(entry.username)
        login = TillLogin(
            username=entry.username,
            org_id=org.org_id,
            store_id=entry.store_id,
            password_hash=current.password_hash
            if current is not None and same_password
            else hash_password(entry.md5),
            api_key=api_key,
        )
        repository.save_till(login)
    for username in removed:
        repository.delete_till(org.org_id, username)
        if keys is not None:
            keys.remove(username)

    state = "created" if previous is None else "unchanged" if previous == org else "updated"
    print(f"org {org.org_id} ({org.name}): {state}")
    print(f"programs: {', '.join(str(p.program_id) for p in org.programs) or 'none'}")
    print(f"stores: {', '.join(store.store_id for store in org.stores) or 'none'}")
    print(
        f"tills: {len(added)} added{_names(added)}, {len(updated)} updated{_names(updated)}, "
        f"{len(unchanged)} unchanged, {len(removed)} removed{_names(removed)}"
    )
    if plan.clients is not None:
        clients = oauth_clients.apply(plan.clients, org.org_id, logins)
        print(
            f"oauth clients: {len(clients.added)} added{_names(clients.added)}, {len(clients.updated)} "
            f"updated{_names(clients.updated)}, {len(clients.unchanged)} unchanged, {len(clients.removed)} "
            f"removed{_names(clients.removed)}"
        )


def run(path: Path, backend: Backend) -> int:
    try:
        apply(validate(load_document(path)), backend.config, backend.logins, lambda: backend.till_keys)
    except InvalidConfig as error:
        raise CommandError(f"{path}: {error}") from None
    return 0
