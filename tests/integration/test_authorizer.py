"""The Basic-auth REQUEST authorizer against moto: tills of one org, never anything of another."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from points_core.domain.passwords import client_password
from tests.conftest import Aws
from tests.factories import ORG_ID, STORE_ID, TILL, TILL_PASSWORD, basic_auth, org_config, seed_org
from tests.invoke import invoke

METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1.1/points/isredeemable"


@pytest.fixture
def tills(aws: Aws) -> None:
    seed_org()
    seed_org(org_config(2002), tills={"other.till": "9"})


def authorize(authorization: str | None, header: str = "Authorization") -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/v1.1/points/isredeemable",
        "path": "/v1.1/points/isredeemable",
        "httpMethod": "GET",
        "headers": {header: authorization} if authorization is not None else {},
        "queryStringParameters": {},
        "requestContext": {"requestId": "r-1", "stage": "prod"},
    }
    result: dict[str, Any] = invoke("authorizer", event)
    return result


def test_a_till_with_the_md5_of_its_password_is_allowed_on_the_whole_api(tills: None) -> None:
    policy = authorize(basic_auth())
    assert policy["principalId"] == TILL
    assert policy["context"] == {"org_id": str(ORG_ID), "till_id": TILL, "store_id": STORE_ID}
    assert policy["policyDocument"]["Statement"] == [
        {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*",
        }
    ]


def test_the_header_name_is_case_insensitive(tills: None) -> None:
    assert authorize(basic_auth(), header="authorization")["principalId"] == TILL


def test_each_till_gets_its_own_org_and_store(tills: None) -> None:
    assert authorize(basic_auth("other.till"))["context"] == {
        "org_id": "2002",
        "till_id": "other.till",
        "store_id": "9",
    }


def encoded(raw: str) -> str:
    return "Basic " + base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer abc",
        "Basic",
        "Basic !!!not-base64!!!",
        encoded("no-colon"),
        encoded(f"{TILL}:"),
        encoded(f":{client_password(TILL_PASSWORD)}"),
        encoded(f"{TILL}:{TILL_PASSWORD}"),
        encoded(f"{TILL}:{client_password('wrong')}"),
        encoded(f"nobody:{client_password(TILL_PASSWORD)}"),
        basic_auth().replace("Basic ", "Basic  x"),
        # Not ASCII where base64 is read (a superscript digit; UTF-8 bytes read as Latin-1): ValueError, a 500
        "Basic \u00b2",
        "Basic \u00c2\u00b2",
        # Usernames no till can have: past DynamoDB's 2,048-byte key (a ValidationException, a 500), past a
        # till's 128 characters, or outside its characters
        encoded("u" * 2100 + f":{client_password(TILL_PASSWORD)}"),
        encoded("u" * 129 + f":{client_password(TILL_PASSWORD)}"),
        encoded("\u00e9" * 1100 + f":{client_password(TILL_PASSWORD)}"),
        encoded(f"{TILL} :{client_password(TILL_PASSWORD)}"),
    ],
)
def test_anything_else_is_unauthorized(tills: None, authorization: str | None) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(authorization)


def test_uppercase_hex_md5_is_the_same_password(tills: None) -> None:
    upper = encoded(f"{TILL}:{client_password(TILL_PASSWORD).upper()}")
    assert authorize(upper)["principalId"] == TILL


def test_a_removed_till_is_unauthorized(aws: Aws, tills: None) -> None:
    from points_core.repositories import config_repository

    config_repository().delete_till(ORG_ID, TILL)
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(basic_auth())
