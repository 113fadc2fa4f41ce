"""POST /v3/oauth/token/generate through its handler, against moto: a token for a client's key and secret,
Capillary's envelope, and wrong secrets counted toward the till's lockout."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from points_core.domain import passwords
from points_core.domain.models import OAuthClient
from points_core.domain.passwords import hash_secret
from points_core.repositories import login_repository
from points_core.services.tokens import verify
from tests.conftest import Aws
from tests.factories import NOW, ORG_ID, TILL, basic_auth, seed_org
from tests.invoke import ApiAnswer, call_api, function_module, invoke

PATH = "/v3/oauth/token/generate"
KEY = "pos-client-1"
SECRET = "pos-client-1-secret-0123"
SIGNING_KEY = b"test-key-for-oauth-access-tokens-0123456789"  # tests/conftest.py's OAUTH_SIGNING_SECRET
UNAUTHORIZED = {
    "data": None,
    "errors": [{"status": False, "code": 401, "message": "Unauthorized. Authentication failed"}],
}


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


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Clock:
    seed_org()
    save_client()
    clock = Clock()
    monkeypatch.setattr(function_module("oauth_token"), "utc_now", clock)
    monkeypatch.setattr(function_module("authorizer"), "utc_now", clock)
    return clock


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    computed: list[str] = []
    real = passwords._derive

    def counting(secret: str, *args: Any) -> bytes:
        computed.append(secret)
        return real(secret, *args)

    monkeypatch.setattr(passwords, "_derive", counting)
    yield computed


def generate(body: Any, headers: dict[str, str | None] | None = None) -> ApiAnswer:
    # No authorizer context: the route is open.
    return call_api(
        "oauth_token",
        "POST",
        PATH,
        body=body,
        authorizer={},
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def basic_allowed(authorization: str) -> bool:
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1.1/points/isredeemable",
        "headers": {"Authorization": authorization},
        "requestContext": {"requestId": "r-1", "stage": "prod"},
    }
    try:
        invoke("authorizer", event)
    except Exception as refused:
        assert str(refused) == "Unauthorized"
        return False
    return True


def test_the_key_and_secret_get_a_jwt_naming_org_client_and_till(clock: Clock) -> None:
    answer = generate({"key": KEY, "secret": SECRET})

    assert answer.status == 200
    assert answer.header("Content-Type").startswith("application/json")
    assert answer.header("X-Cap-RequestID")
    assert set(answer.body) == {"data", "errors"}
    assert answer.body["errors"] is None
    assert answer.body["data"]["ttlSeconds"] == 1800
    claims = verify(answer.body["data"]["accessToken"], SIGNING_KEY, NOW)
    assert (claims.org_id, claims.client_id, claims.till_id) == (ORG_ID, KEY, TILL)
    assert claims.expires_at == int((NOW + timedelta(minutes=30)).timestamp())


def test_other_fields_of_the_body_are_ignored(clock: Clock) -> None:
    assert generate({"key": KEY, "secret": SECRET, "grant_type": "client_credentials"}).status == 200


@pytest.mark.parametrize(
    "body",
    [
        {"key": KEY, "secret": "not-the-secret"},
        {"key": KEY, "secret": SECRET.upper()},
        {"key": "no-such-client", "secret": SECRET},
    ],
)
def test_a_wrong_key_or_secret_is_401_with_errors(clock: Clock, body: dict[str, str]) -> None:
    answer = generate(body)
    assert (answer.status, answer.body) == (401, UNAUTHORIZED)


def test_a_disabled_client_gets_no_token_and_its_right_secret_counts_nothing(aws: Aws, clock: Clock) -> None:
    save_client(enabled=False)
    for _ in range(12):
        answer = generate({"key": KEY, "secret": SECRET})
        assert (answer.status, answer.body) == (401, UNAUTHORIZED)
    assert basic_allowed(basic_auth())


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"key": KEY}, "secret is required"),
        ({"secret": SECRET}, "key is required"),
        ({"key": "", "secret": SECRET}, "invalid key"),
        ({"key": KEY, "secret": 12345}, "invalid secret"),
        ("not json", "the body is not JSON"),
    ],
)
def test_a_body_without_key_or_secret_is_400_in_the_v3_envelope(clock: Clock, body: Any, reason: str) -> None:
    answer = generate(body)
    assert answer.status == 400
    assert answer.body == {
        "data": None,
        "errors": [{"status": False, "code": 400, "message": f"Invalid input: {reason}"}],
    }
    assert SECRET not in answer.text


def test_an_xml_body_is_415(clock: Clock) -> None:
    answer = generate(f"<root><key>{KEY}</key><secret>{SECRET}</secret></root>", {"Content-Type": "text/xml"})
    assert answer.status == 415
    assert answer.body["errors"][0]["code"] == 415


def test_another_method_is_405_with_allow(clock: Clock) -> None:
    answer = call_api("oauth_token", "GET", PATH, authorizer={})
    assert answer.status == 405
    assert answer.header("Allow") == "POST"
    assert answer.body["errors"][0]["code"] == 405


def test_wrong_secrets_count_toward_the_tills_lockout(clock: Clock) -> None:
    for _ in range(10):
        assert generate({"key": KEY, "secret": "not-the-secret"}).status == 401
    # The till is locked: no token for the right secret, no Basic login with the right password.
    assert generate({"key": KEY, "secret": SECRET}).status == 401
    assert not basic_allowed(basic_auth())
    clock.now += timedelta(minutes=15)
    assert generate({"key": KEY, "secret": SECRET}).status == 200
    assert basic_allowed(basic_auth())


def test_a_till_locked_by_wrong_passwords_gets_no_token_and_costs_no_hash(
    clock: Clock, hashes: list[str]
) -> None:
    for _ in range(10):
        assert not basic_allowed(basic_auth(password="wrong"))
    computed = len(hashes)
    assert generate({"key": KEY, "secret": SECRET}).status == 401
    assert len(hashes) == computed


def test_an_unknown_key_makes_the_same_calls_as_a_wrong_secret(
    clock: Clock, dynamodb_calls: list[str]
) -> None:
    generate({"key": KEY, "secret": "wrong-secret"})
    generate({"key": "no-such-client", "secret": "wrong-secret"})
    dynamodb_calls.clear()
    generate({"key": KEY, "secret": "wrong-secret"})
    known = list(dynamodb_calls)
    dynamodb_calls.clear()
    generate({"key": "no-such-client", "secret": "wrong-secret"})
    assert dynamodb_calls == known == ["GetItem", "GetItem", "UpdateItem"]
