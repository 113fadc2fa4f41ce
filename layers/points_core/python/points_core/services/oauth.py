"""`POST /v3/oauth/token/generate`: an access token for an OAuth client's key and secret.

The client's secret is checked against its slow hash, after the lockout of the till it acts as: a locked
till gets no token and costs no hash, and a wrong secret counts toward the till's lockout as a wrong password
does. A key that names no client costs the same calls (its failures are counted under the key), so timing
does not tell whether a key exists. A disabled client gets no token, and its right secret counts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from points_core.aws.observability import tracer
from points_core.aws.secrets import oauth_signing_key
from points_core.aws.settings import get_settings
from points_core.domain.errors import Unauthenticated
from points_core.domain.models import OAuthClient
from points_core.domain.passwords import verify_secret
from points_core.repositories import login_repository
from points_core.services import tokens


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    ttl_seconds: int
    client: OAuthClient


@tracer.capture_method(capture_response=False)
def generate_token(key: str, secret: str, now: datetime) -> IssuedToken:
    logins = login_repository()
    client, subject, lockout = logins.oauth_login(key)
    if lockout.locked(now):
        raise Unauthenticated("locked out")
    if not verify_secret(secret, client.secret_hash if client else None) or client is None:
        logins.count_failure(subject, now, get_settings().lockout_policy)
        raise Unauthenticated("wrong key or secret")
    if not client.enabled:
        raise Unauthenticated("client disabled")
    token, claims = tokens.issue(client, oauth_signing_key(), now)
    return IssuedToken(token, claims.lifetime_seconds, client)
