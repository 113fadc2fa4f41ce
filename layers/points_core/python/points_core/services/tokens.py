"""OAuth access tokens: compact JWTs (RFC 7519) signed with HMAC-SHA256 (HS256), in plain Python.

A token names the org, the OAuth client and the till it acts as, when it was issued and when it expires. It
is verified strictly: exactly three base64url parts without padding, a header whose `alg` is `HS256` (so
never `none`, never another algorithm chosen by whoever wrote the token) and that asks nothing else of us
(`crit`), the signature compared in constant time before the claims are read, then every claim we write
present with its type, the issuer ours, and the time between `iat` and `exp` (at most an hour) containing
now. What the token names must still be so (`names`): the client exists, is enabled, and belongs to the org
and till the token says.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from points_core.domain.errors import Unauthenticated
from points_core.domain.models import OAuthClient

ALGORITHM = "HS256"
ISSUER = "points-redemption"
TOKEN_USE = "access"  # noqa: S105 - a claim value, not a password
MAX_LIFETIME = timedelta(minutes=60)
# A token issued by a function whose clock runs a little ahead is still good.
CLOCK_SKEW = timedelta(seconds=60)
MAX_TOKEN_LENGTH = 2048
MIN_KEY_BYTES = 32
_HEADER = {"alg": ALGORITHM, "typ": "JWT"}
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class AccessClaims:
    org_id: int
    client_id: str
    till_id: str
    issued_at: int
    """Epoch seconds, as `iat`."""
    expires_at: int
    """Epoch seconds, as `exp`."""
    token_id: str

    @property
    def lifetime_seconds(self) -> int:
        return self.expires_at - self.issued_at


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(part: str) -> bytes:
    """Strict base64url without padding: any other spelling of the same bytes is refused."""
    if not _BASE64URL.match(part) or len(part) % 4 == 1:
        raise Unauthenticated("token is not base64url")
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise Unauthenticated("token is not base64url") from None
    if _encode(data) != part:
        raise Unauthenticated("token is not canonical base64url")
    return data


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def _object(part: str) -> dict[str, Any]:
    try:
        value = json.loads(_decode(part))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Unauthenticated("token part is not JSON") from None
    if not isinstance(value, dict):
        raise Unauthenticated("token part is not a JSON object")
    return value


def _mac(signing_input: str, key: bytes) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the signing key must have at least {MIN_KEY_BYTES} bytes")
    return hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()


def sign(claims: AccessClaims, key: bytes) -> str:
    payload = {
        "iss": ISSUER,
        "sub": claims.till_id,
        "org_id": claims.org_id,
        "client_id": claims.client_id,
        "till_id": claims.till_id,
        "iat": claims.issued_at,
        "exp": claims.expires_at,
        "jti": claims.token_id,
        "token_use": TOKEN_USE,
    }
    signing_input = f"{_encode(_json(_HEADER))}.{_encode(_json(payload))}"
    return f"{signing_input}.{_encode(_mac(signing_input, key))}"


def issue(client: OAuthClient, key: bytes, now: datetime) -> tuple[str, AccessClaims]:
    """A fresh token for `client`, valid for its lifetime from now."""
    issued = int(now.timestamp())
    claims = AccessClaims(
        org_id=client.org_id,
        client_id=client.key,
        till_id=client.till_id,
        issued_at=issued,
        expires_at=issued + client.token_minutes * 60,
        token_id=secrets.token_urlsafe(16),
    )
    return sign(claims, key), claims


def _integer(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Unauthenticated(f"token claim {name} is not an integer")
    return value


def _text(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise Unauthenticated(f"token claim {name} is not a text")
    return value


def verify(token: str, key: bytes, now: datetime) -> AccessClaims:
    """The claims of a token we signed that is valid now; `Unauthenticated` (with the reason) otherwise."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise Unauthenticated("token malformed")
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthenticated("token malformed")
    header_part, payload_part, signature_part = parts
    header = _object(header_part)
    if header.get("alg") != ALGORITHM or set(header) - {"alg", "typ"} or header.get("typ", "JWT") != "JWT":
        raise Unauthenticated("token algorithm or header refused")
    if not hmac.compare_digest(_mac(f"{header_part}.{payload_part}", key), _decode(signature_part)):
        raise Unauthenticated("token signature wrong")
    payload = _object(payload_part)
    if payload.get("iss") != ISSUER or payload.get("token_use") != TOKEN_USE:
        raise Unauthenticated("token not ours")
    claims = AccessClaims(
        org_id=_integer(payload, "org_id"),
        client_id=_text(payload, "client_id"),
        till_id=_text(payload, "till_id"),
        issued_at=_integer(payload, "iat"),
        expires_at=_integer(payload, "exp"),
        token_id=_text(payload, "jti"),
    )
    if claims.org_id <= 0 or payload.get("sub") != claims.till_id:
        raise Unauthenticated("token claims inconsistent")
    if not 0 < claims.lifetime_seconds <= MAX_LIFETIME.total_seconds():
        raise Unauthenticated("token lifetime refused")
    moment = now.timestamp()
    if claims.issued_at > moment + CLOCK_SKEW.total_seconds():
        raise Unauthenticated("token issued in the future")
    if moment >= claims.expires_at:
        raise Unauthenticated("token expired")
    return claims


def names(claims: AccessClaims, client: OAuthClient | None) -> bool:
    """Whether what a valid token says is still so: its client exists, is enabled, and acts as the same till
    of the same org (a client disabled, removed, moved to another till or re-created in another org refuses
    every token issued before)."""
    return (
        client is not None
        and client.enabled
        and client.key == claims.client_id
        and client.org_id == claims.org_id
        and client.till_id == claims.till_id
    )
