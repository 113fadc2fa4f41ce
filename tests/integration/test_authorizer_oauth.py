"""The authorizer with an OAuth access token (X-CAP-API-OAUTH-TOKEN) instead of Basic, and what it keeps of
the tills it verified; through the handlers, against moto."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from points_core.aws.clients import dynamodb_client
from points_core.domain import passwords
from points_core.domain.models import OAuthClient, TillLogin
from points_core.domain.passwords import client_password, hash_password, hash_secret
from points_core.repositories import config_repository, login_repository
from points_core.services.tokens import AccessClaims, sign
from tests.conftest import Aws, clear_caches, counted_calls
from tests.factories import NOW, ORG_ID, STORE_ID, TILL, TILL_PASSWORD, basic_auth, org_config, seed_org
from tests.invoke import call_api, function_module, invoke

METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1.1/points/isredeemable"
KEY = "pos-client-1"
SECRET = "pos-client-1-secret-0123"
SIGNING_KEY = b"test-key-for-oauth-access-tokens-0123456789"  # tests/conftest.py's OAUTH_SIGNING_SECRET
TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"
TILL_KEY = "k" * 20 + "-demo-till"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def save_client(**overrides: Any) -> OAuthClient:
    values: dict[str, Any] = {
        "key": KEY,
        "org_id": ORG_ID,
        "till_id": TILL,
        "secret_hash": hash_secret(SECRET),
        "token_minutes": 30,
    }
    values.update(overrides)
    client = OAuthClient(**values)
    login_repository().save_oauth_client(client)
    return client


@pytest.fixture
def clock(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Clock:
    seed_org()
    seed_org(org_config(2002), tills={"other.till": "9"})
    save_client()
    clock = Clock()
    monkeypatch.setattr(function_module("oauth_token"), "utc_now", clock)
    monkeypatch.setattr(function_module("authorizer"), "utc_now", clock)
    return clock


def token() -> str:
    answer = call_api(
        "oauth_token",
        "POST",
        "/v3/oauth/token/generate",
        body={"key": KEY, "secret": SECRET},
        authorizer={},
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 200, answer.body
    issued: str = answer.body["data"]["accessToken"]
    return issued


def authorize(headers: dict[str, str]) -> dict[str, Any] | None:
    """The authorizer's policy, or None when it refused (API Gateway's 401)."""
    event = {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "httpMethod": "GET",
        "path": "/v1.1/points/isredeemable",
        "headers": headers,
        "requestContext": {"requestId": "r-1", "stage": "prod"},
    }
    try:
        policy: dict[str, Any] = invoke("authorizer", event)
    except Exception as refused:
        assert str(refused) == "Unauthorized"
        return None
    return policy


def with_token(value: str) -> dict[str, Any] | None:
    return authorize({TOKEN_HEADER: value})


def test_a_token_is_let_in_as_its_till_on_the_whole_api(clock: Clock) -> None:
    policy = with_token(token())
    assert policy is not None
    assert policy["principalId"] == TILL
    assert policy["context"] == {"org_id": str(ORG_ID), "till_id": TILL, "store_id": STORE_ID}
    assert policy["policyDocument"]["Statement"][0]["Resource"].endswith("/prod/*/*")


def test_the_header_name_is_case_insensitive_and_the_token_wins_over_basic(clock: Clock) -> None:
    assert authorize({TOKEN_HEADER.lower(): token()}) is not None
    other = basic_auth("other.till")
    policy = authorize({TOKEN_HEADER: token(), "Authorization": other})
    assert policy is not None and policy["principalId"] == TILL
    # A wrong token is refused even with good Basic credentials beside it; an empty one is no token.
    assert authorize({TOKEN_HEADER: token() + "x", "Authorization": other}) is None
    empty = authorize({TOKEN_HEADER: " ", "Authorization": other})
    assert empty is not None and empty["principalId"] == "other.till"


def tampered(jwt: str, position: int) -> str:
    parts = jwt.split(".")
    part = parts[position]
    parts[position] = part[:5] + ("A" if part[5] != "A" else "B") + part[6:]
    return ".".join(parts)


@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_tampered_token_is_refused(clock: Clock, position: int) -> None:
    assert with_token(tampered(token(), position)) is None


def test_an_expired_token_is_refused(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHORIZER_CACHE_SECONDS", "0")
    clear_caches()
    jwt = token()
    clock.advance(minutes=29, seconds=59)
    assert with_token(jwt) is not None
    clock.advance(seconds=1)
    assert with_token(jwt) is None


def test_a_kept_token_is_never_let_in_past_its_expiry(clock: Clock, dynamodb_calls: list[str]) -> None:
    jwt = token()
    clock.advance(minutes=28)
    assert with_token(jwt) is not None  # verified now: kept for 5 minutes, but the token has 2 left
    dynamodb_calls.clear()
    clock.advance(minutes=1)
    assert with_token(jwt) is not None
    assert dynamodb_calls == []  # answered from what was kept
    clock.advance(minutes=1)
    assert with_token(jwt) is None


def test_a_token_signed_with_another_key_or_for_another_org_is_refused(clock: Clock) -> None:
    issued = int(NOW.timestamp())
    claims = AccessClaims(ORG_ID, KEY, TILL, issued, issued + 600, "j1")
    assert with_token(sign(claims, b"x" * 43)) is None
    # Signed with our key, but the client is not of org 2002: what the token says must still be so.
    assert with_token(sign(AccessClaims(2002, KEY, TILL, issued, issued + 600, "j2"), SIGNING_KEY)) is None
    assert (
        with_token(sign(AccessClaims(ORG_ID, KEY, "demo.kiosk", issued, issued + 600, "j3"), SIGNING_KEY))
        is None
    )
    assert with_token(sign(claims, SIGNING_KEY)) is not None


def test_a_disabled_client_is_refused_once_what_was_kept_expires(clock: Clock) -> None:
    jwt = token()
    assert with_token(jwt) is not None
    save_client(enabled=False)
    # Revocation takes at most AUTHORIZER_CACHE_SECONDS (300): a container that verified the token keeps it.
    clock.advance(seconds=299)
    assert with_token(jwt) is not None
    clock.advance(seconds=1)
    assert with_token(jwt) is None
    # A new container (or one that never saw it) refuses it at once.
    clear_caches()
    assert with_token(jwt) is None


@pytest.mark.parametrize(
    "revoke", ["remove the client", "remove its till", "move the client to another till"]
)
def test_a_revoked_token_is_refused(clock: Clock, revoke: str) -> None:
    jwt = token()
    if revoke == "remove the client":
        login_repository().delete_oauth_client(ORG_ID, KEY)
    elif revoke == "remove its till":
        config_repository().delete_till(ORG_ID, TILL)
    else:
        seed_org(tills={TILL: STORE_ID, "demo.kiosk": STORE_ID})
        save_client(till_id="demo.kiosk")
    assert with_token(jwt) is None


def test_a_token_works_while_its_till_is_locked_out(clock: Clock) -> None:
    # The lockout stops guessing passwords and secrets; a valid token is neither, and is checked in full.
    jwt = token()
    for _ in range(10):
        assert authorize({"Authorization": basic_auth(password="wrong")}) is None
    assert authorize({"Authorization": basic_auth()}) is None
    clear_caches()
    assert with_token(jwt) is not None


def test_a_tokens_till_gets_its_usage_plan_key_as_with_basic(clock: Clock) -> None:
    config_repository().save_till(
        TillLogin(
            username=TILL,
            org_id=ORG_ID,
            store_id=STORE_ID,
            password_hash=hash_password(client_password(TILL_PASSWORD)),
            api_key=TILL_KEY,
        )
    )
    policy = with_token(token())
    assert policy is not None and policy["usageIdentifierKey"] == TILL_KEY
    assert TILL_KEY not in str(policy["context"])


def test_a_verified_credential_is_kept_without_a_read_or_a_slow_hash(
    clock: Clock, dynamodb_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes: list[str] = []
    real = passwords._derive
    monkeypatch.setattr(
        passwords, "_derive", lambda secret, *args: hashes.append(secret) or real(secret, *args)
    )
    assert authorize({"Authorization": basic_auth()}) is not None
    assert (len(hashes), dynamodb_calls) == (1, ["BatchGetItem"])
    dynamodb_calls.clear()
    clock.advance(seconds=299)
    assert authorize({"Authorization": basic_auth()}) is not None
    assert (len(hashes), dynamodb_calls) == (1, [])
    clock.advance(seconds=1)
    assert authorize({"Authorization": basic_auth()}) is not None
    assert (len(hashes), dynamodb_calls) == (2, ["BatchGetItem"])


def test_failures_are_never_kept(clock: Clock, dynamodb_calls: list[str]) -> None:
    wrong = {"Authorization": basic_auth(password="wrong")}
    assert authorize(wrong) is None
    dynamodb_calls.clear()
    assert authorize(wrong) is None
    assert dynamodb_calls == ["BatchGetItem", "UpdateItem"]  # checked again, and counted


def test_nothing_is_kept_with_a_cache_time_of_zero(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHORIZER_CACHE_SECONDS", "0")
    clear_caches()
    with counted_calls(dynamodb_client()) as calls:
        assert authorize({"Authorization": basic_auth()}) is not None
        assert authorize({"Authorization": basic_auth()}) is not None
    assert calls == ["BatchGetItem", "BatchGetItem"]


def test_a_changed_password_is_refused_once_what_was_kept_expires(clock: Clock) -> None:
    assert authorize({"Authorization": basic_auth()}) is not None
    login = config_repository().till_login(TILL)
    assert login is not None
    config_repository().save_till(
        login.model_copy(update={"password_hash": hash_password(client_password("new"))})
    )
    assert authorize({"Authorization": basic_auth()}) is not None
    clock.advance(seconds=300)
    assert authorize({"Authorization": basic_auth()}) is None
    assert authorize({"Authorization": basic_auth(password="new")}) is not None
