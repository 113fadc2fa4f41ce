"""The authorizer's view of a request: its credential, HTTP Basic (`authentication.authenticate`) or an OAuth
access token in `X-CAP-API-OAUTH-TOKEN` (when both are sent, the token), and the till it names.

API Gateway calls the authorizer for every request: its own result cache is keyed by identity sources that
must all be present, and a request carries one of two alternative headers, so the template sets no identity
source and no API Gateway caching (README, "OAuth"). Instead each authorizer container keeps the tills it
verified, by a keyed digest of the credential (never the credential itself), for `AUTHORIZER_CACHE_SECONDS`
(and a token's never past its expiry): a warm container answers a known credential without the slow hash or a
read. Only successes are kept, so every failure is checked, and counted toward the lockout.

A token is valid when its signature and claims are (`tokens.verify`) and, read on each uncached check, its
client still exists, is enabled and acts as the same till of the same org, and that till still exists
(`tokens.names`). Disabling or removing a client, or its till, therefore refuses its tokens within the cache
time; a token's till is never subject to the lockout (the lockout stops guessing; a token is not a guess).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime
from functools import cache

from points_core.aws.observability import tracer
from points_core.aws.secrets import oauth_signing_key
from points_core.aws.settings import get_settings
from points_core.domain.errors import Unauthenticated
from points_core.domain.models import Caller, TillLogin
from points_core.repositories import login_repository
from points_core.services import tokens
from points_core.services.authentication import authenticate

OAUTH_TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"  # noqa: S105 - a header name
MAX_CACHED = 10_000


def caller_of(login: TillLogin) -> Caller:
    """The till as the functions see it: its username as `till_id`, and every field of `Caller` the login
    has under the same name (its org and store, and whatever is added to both)."""
    shared = {name: getattr(login, name) for name in Caller.model_fields if name in TillLogin.model_fields}
    return Caller(till_id=login.username, **shared)


@tracer.capture_method(capture_response=False)
def authenticate_token(token: str, now: datetime) -> tuple[Caller, int]:
    """The till a valid, unrevoked token acts as, and when the token expires (epoch seconds)."""
    claims = tokens.verify(token, oauth_signing_key(), now)
    client, login = login_repository().client_and_till(claims.client_id, claims.till_id)
    if not tokens.names(claims, client) or login is None or login.org_id != claims.org_id:
        raise Unauthenticated("token revoked")
    return caller_of(login), claims.expires_at


class VerifiedCredentials:
    """Tills verified in this container, by a digest of their credential keyed with a key of the process's
    own: what is kept cannot be replayed, nor the credential be guessed from it offline."""

    def __init__(self, seconds: int) -> None:
        self._seconds = seconds
        self._key = secrets.token_bytes(32)
        self._entries: dict[bytes, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def _digest(self, kind: str, credential: str) -> bytes:
        return hmac.new(self._key, f"{kind}\0{credential}".encode(), hashlib.sha256).digest()

    def get(self, kind: str, credential: str, now: datetime) -> Caller | None:
        digest = self._digest(kind, credential)
        with self._lock:
            entry = self._entries.get(digest)
        if entry is None or entry[0] <= now.timestamp():
            return None
        return entry[1]

    def put(
        self, kind: str, credential: str, caller: Caller, now: datetime, until: int | None = None
    ) -> None:
        if self._seconds <= 0:
            return
        expires = now.timestamp() + self._seconds
        expires = min(expires, until) if until is not None else expires
        digest = self._digest(kind, credential)
        with self._lock:
            if len(self._entries) >= MAX_CACHED:
                moment = now.timestamp()
                self._entries = {key: entry for key, entry in self._entries.items() if entry[0] > moment}
                if len(self._entries) >= MAX_CACHED:
                    self._entries.clear()
            self._entries[digest] = (expires, caller)


@cache
def verified_credentials() -> VerifiedCredentials:
    return VerifiedCredentials(get_settings().authorizer_cache_seconds)


def authenticate_request(headers: Mapping[str, str], now: datetime) -> Caller:
    """The till a request's credential names; `Unauthenticated` otherwise. `headers` by lowercase name."""
    token = (headers.get(OAUTH_TOKEN_HEADER.lower()) or "").strip()
    kind, credential = ("token", token) if token else ("basic", headers.get("authorization") or "")
    verified = verified_credentials()
    caller = verified.get(kind, credential, now)
    if caller is not None:
        return caller
    if token:
        caller, expires_at = authenticate_token(token, now)
        verified.put(kind, credential, caller, now, expires_at)
    else:
        caller = authenticate(credential, now)
        verified.put(kind, credential, caller, now)
    return caller
