"""The authorizer hands API Gateway the till's API key (`usageIdentifierKey`), which its usage plan throttles
each till by: the key kept in the till's login item, read with the login (no call more)."""

from __future__ import annotations

import pytest

from points_core.domain.models import TillLogin
from points_core.domain.passwords import client_password, hash_password
from points_core.repositories import config_repository
from tests.conftest import Aws
from tests.factories import ORG_ID, STORE_ID, TILL, TILL_PASSWORD, basic_auth, org_config, seed_org
from tests.integration.test_authorizer import authorize

DEMO_KEY = "k" * 20 + "-demo-till"
OTHER_KEY = "k" * 20 + "-other-till"


def _till(username: str, store_id: str, api_key: str | None, org_id: int = ORG_ID) -> None:
    config_repository().save_till(
        TillLogin(
            username=username,
            org_id=org_id,
            store_id=store_id,
            password_hash=hash_password(client_password(TILL_PASSWORD)),
            api_key=api_key,
        )
    )


@pytest.fixture
def keyed_tills(aws: Aws) -> None:
    seed_org(tills={})
    seed_org(org_config(2002), tills={})
    _till(TILL, STORE_ID, DEMO_KEY)
    _till("other.till", "9", OTHER_KEY, org_id=2002)


def test_each_till_gets_its_own_key_as_the_usage_identifier(keyed_tills: None) -> None:
    assert authorize(basic_auth())["usageIdentifierKey"] == DEMO_KEY
    assert authorize(basic_auth("other.till"))["usageIdentifierKey"] == OTHER_KEY


def test_the_key_is_not_in_the_context_the_functions_see(keyed_tills: None) -> None:
    policy = authorize(basic_auth())
    assert DEMO_KEY not in str(policy["context"])
    assert policy["context"] == {"org_id": str(ORG_ID), "till_id": TILL, "store_id": STORE_ID}


def test_a_login_saved_before_tills_had_keys_has_no_usage_identifier(aws: Aws) -> None:
    # API Gateway then refuses it (403, INVALID_API_KEY) until apply-config gives the till its key.
    seed_org(tills={})
    _till(TILL, STORE_ID, None)
    policy = authorize(basic_auth())
    assert policy["principalId"] == TILL
    assert "usageIdentifierKey" not in policy


def test_a_key_costs_no_call_more(keyed_tills: None, dynamodb_calls: list[str]) -> None:
    authorize(basic_auth())
    assert dynamodb_calls == ["BatchGetItem"]
