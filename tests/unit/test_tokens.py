"""OAuth access tokens (HS256 JWTs): what is signed verifies, and nothing else does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from points_core.domain.errors import Unauthenticated
from points_core.domain.models import OAuthClient
from points_core.domain.passwords import hash_secret, verify_secret
from points_core.services.tokens import AccessClaims, issue, names, sign, verify

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
KEY = b"k" * 32
CLIENT = OAuthClient(
    key="pos-client-1", org_id=100737, till_id="demo.till", secret_hash="x", token_minutes=30
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], payload: dict[str, Any], key: bytes = KEY) -> str:
    """A token with any header and claims, signed with HS256 over exactly these parts."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return (
        json.loads(base64.urlsafe_b64decode(header + "==")),
        json.loads(base64.urlsafe_b64decode(payload + "==")),
    )


@pytest.fixture
def token() -> str:
    return issue(CLIENT, KEY, NOW)[0]


def test_an_issued_token_verifies_and_names_org_client_and_till(token: str) -> None:
    claims = verify(token, KEY, NOW + timedelta(minutes=29))
    assert (claims.org_id, claims.client_id, claims.till_id) == (100737, "pos-client-1", "demo.till")
    assert claims.lifetime_seconds == 30 * 60
    assert claims.issued_at == int(NOW.timestamp())
    assert names(claims, CLIENT)


def test_the_token_is_a_standard_hs256_jwt(token: str) -> None:
    header, payload = parts(token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert payload["exp"] - payload["iat"] == 1800
    assert payload["sub"] == payload["till_id"] == "demo.till"
    assert {"iss", "jti", "org_id", "client_id", "token_use"} <= set(payload)
    assert issue(CLIENT, KEY, NOW)[0] != token  # each has its own jti


def test_an_expired_token_is_refused(token: str) -> None:
    with pytest.raises(Unauthenticated, match="expired"):
        verify(token, KEY, NOW + timedelta(minutes=30))


def test_a_token_from_the_future_is_refused_beyond_a_minute_of_clock_skew(token: str) -> None:
    verify(token, KEY, NOW - timedelta(seconds=60))
    with pytest.raises(Unauthenticated, match="future"):
        verify(token, KEY, NOW - timedelta(seconds=61))


def test_another_key_refuses_it(token: str) -> None:
    with pytest.raises(Unauthenticated, match="signature"):
        verify(token, b"o" * 32, NOW)


@pytest.mark.parametrize("position", [0, 1, 2])
def test_any_changed_character_refuses_it(token: str, position: int) -> None:
    segments = token.split(".")
    segment = segments[position]
    middle = len(segment) // 2
    segments[position] = segment[:middle] + ("A" if segment[middle] != "A" else "B") + segment[middle + 1 :]
    with pytest.raises(Unauthenticated):
        verify(".".join(segments), KEY, NOW)


def test_changed_claims_with_the_old_signature_are_refused(token: str) -> None:
    header, _, signature = token.split(".")
    _, claims = parts(token)
    claims["org_id"] = 2002
    with pytest.raises(Unauthenticated, match="signature"):
        verify(f"{header}.{b64(json.dumps(claims).encode())}.{signature}", KEY, NOW)


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none", "typ": "JWT"},
        {"alg": "None"},
        {"alg": "HS512"},
        {"alg": "RS256"},
        {"alg": "hs256"},
        {"typ": "JWT"},
        {"alg": "HS256", "typ": "JWE"},
        {"alg": "HS256", "crit": ["exp"]},
        {"alg": "HS256", "kid": "../../key"},
    ],
)
def test_only_the_hs256_header_is_accepted(token: str, header: dict[str, Any]) -> None:
    _, payload = parts(token)
    with pytest.raises(Unauthenticated, match="header"):
        verify(forged(header, payload), KEY, NOW)


def test_alg_none_without_a_signature_is_refused(token: str) -> None:
    _, payload = parts(token)
    unsigned = f"{b64(json.dumps({'alg': 'none'}).encode())}.{b64(json.dumps(payload).encode())}."
    with pytest.raises(Unauthenticated):
        verify(unsigned, KEY, NOW)


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "someone-else"},
        {"token_use": "id"},
        {"org_id": "100737"},
        {"org_id": True},
        {"org_id": 0},
        {"till_id": ""},
        {"sub": "other.till"},
        {"exp": 1.5e9},
        {"iat": None},
        {"exp": int(NOW.timestamp()) + 3601},
    ],
)
def test_every_claim_is_checked_even_under_a_valid_signature(token: str, change: dict[str, Any]) -> None:
    _, payload = parts(token)
    with pytest.raises(Unauthenticated):
        verify(forged({"alg": "HS256", "typ": "JWT"}, {**payload, **change}), KEY, NOW)


def test_a_well_signed_token_with_the_claims_it_needs_verifies() -> None:
    claims = AccessClaims(
        100737, "pos-client-1", "demo.till", int(NOW.timestamp()), int(NOW.timestamp()) + 3600, "j"
    )
    assert verify(sign(claims, KEY), KEY, NOW) == claims


@pytest.mark.parametrize(
    "text",
    ["", "abc", "a.b", "a.b.c.d", "a.b.c", "é.é.é", "x" * 3000, "eyJhbGciOiJIUzI1NiJ9=.e30.AAAA"],
)
def test_malformed_tokens_are_refused(text: str) -> None:
    with pytest.raises(Unauthenticated):
        verify(text, KEY, NOW)


def test_padding_or_another_base64_spelling_is_refused(token: str) -> None:
    header, payload, signature = token.split(".")
    for spelled in (f"{header}=.{payload}.{signature}", f"{header}.{payload}.{signature}=="):
        with pytest.raises(Unauthenticated):
            verify(spelled, KEY, NOW)


@pytest.mark.parametrize(
    "client",
    [
        None,
        CLIENT.model_copy(update={"enabled": False}),
        CLIENT.model_copy(update={"org_id": 2002}),
        CLIENT.model_copy(update={"till_id": "demo.kiosk"}),
        CLIENT.model_copy(update={"key": "pos-client-2"}),
    ],
)
def test_a_valid_token_names_only_its_enabled_client_of_the_same_org_and_till(
    token: str, client: OAuthClient | None
) -> None:
    assert not names(verify(token, KEY, NOW), client)


def test_a_token_of_another_org_does_not_name_the_client() -> None:
    claims = verify(issue(CLIENT, KEY, NOW)[0], KEY, NOW)
    assert not names(replace(claims, org_id=2002), CLIENT)


def test_a_short_signing_key_is_refused() -> None:
    with pytest.raises(ValueError):
        issue(CLIENT, b"short", NOW)


def test_secrets_are_stored_as_salted_slow_hashes() -> None:
    stored = hash_secret("the-client-secret")
    assert stored.startswith("scrypt$16384$8$1$")
    assert "the-client-secret" not in stored
    assert hash_secret("the-client-secret") != stored
    assert verify_secret("the-client-secret", stored)
    assert not verify_secret("the-client-secreT", stored)
    assert not verify_secret("the-client-secret", None)
