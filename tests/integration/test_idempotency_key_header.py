"""The Idempotency-Key is a declared header: a request that repeats it is refused before anything runs, since
either value could be the one a retry sends."""

from __future__ import annotations

import io
import json
from typing import Any
from xml.etree import ElementTree

import pytest

from points_core.aws.settings import get_settings
from points_core.domain.models import OtpSettings
from points_core.repositories import customer_repository
from tests.conftest import Aws, clear_caches
from tests.factories import (
    JANE,
    NOW,
    ORG_ID,
    api_event,
    org_config,
    program,
    seed_jane,
    seed_org,
)
from tests.integration.test_redeem import last_code, request_code
from tests.invoke import ApiAnswer, call_api, invoke


def test_a_repeated_key_is_400_and_nothing_is_redeemed(aws: Aws) -> None:
    # Given Jane with her points, and a redeem that names two keys
    seed_org(org_config(allow_skip_validation=True))
    seed_jane()
    body = json.dumps({"root": {"redeem": {"points_redeemed": 10, "customer": {"mobile": JANE}}}})
    event = api_event("POST", "/v1.1/points/redeem", {"skip_validation": "true"}, body=body)
    event["multiValueHeaders"] = {"Idempotency-Key": ["k-1", "k-2"], "Content-Type": ["application/json"]}
    event["headers"]["Idempotency-Key"] = "k-2"

    # When it arrives
    response = invoke("redeem", event)

    # Then it is refused as input, and a single-key retry still redeems exactly once
    assert response["statusCode"] == 400
    status = json.loads(response["body"])["response"]["status"]
    assert (status["code"], status["message"]) == (400, "Invalid input: invalid idempotency-key")
    once = api_event(
        "POST",
        "/v1.1/points/redeem",
        {"skip_validation": "true"},
        body=body,
        headers={"Idempotency-Key": "k-2"},
    )
    first, again = invoke("redeem", once), invoke("redeem", dict(once))
    assert first["body"] == again["body"]
    assert json.loads(first["body"])["response"]["responses"]["points"]["balance"] == 790


PATH = "/v1.1/points/redeem"


def _org_with_two_programs() -> None:
    seed_org(
        org_config(
            programs=(program(973, ratio="0.5"), program(974, ratio="0.5")),
            default_program_id=973,
            allow_skip_validation=True,
            otp=OtpSettings(channels="sms"),
        )
    )
    seed_jane()


def _keyed(key: str, body: Any, query: dict[str, str] | None = None) -> ApiAnswer:
    return call_api("redeem", "POST", PATH, query, body=body, headers={"Idempotency-Key": key})


def _one(points: int, **fields: Any) -> dict[str, Any]:
    return {"root": {"redeem": {"points_redeemed": points, "customer": {"mobile": JANE}, **fields}}}


def _kept(aws: Aws) -> list[dict[str, Any]]:
    """Every item of the idempotency table, every attribute as DynamoDB holds it."""
    items: list[dict[str, Any]] = aws.dynamodb.scan(TableName=get_settings().idempotency_table)["Items"]
    return items


def _points(answer: ApiAnswer) -> Any:
    if isinstance(answer.body, ElementTree.Element):
        return answer.body.find("responses/points")
    return answer.body["response"]["responses"]["points"]


@pytest.mark.parametrize("wire_format", ["json", "xml"])
def test_nothing_kept_for_a_key_holds_the_validation_code(
    aws: Aws, logs: io.StringIO, wire_format: str
) -> None:
    # Given Jane with a validation code for 100 points
    _org_with_two_programs()
    request_code("100")
    code = last_code(aws)
    body = _one(100, validation_code=code, notes="till 4")

    # When she redeems with it under an Idempotency-Key, and the POS retries
    first = _keyed("code-key", body, {"format": wire_format})
    kept = _kept(aws)
    again = _keyed("code-key", body, {"format": wire_format})

    # Then the answer echoes the code, the retry is the same bytes, and nothing kept names the code
    points = _points(first)
    if wire_format == "xml":
        assert first.text.startswith("<?xml")
        assert points.findtext("item_status/code") == "800"
        assert points.findtext("side_effects/effect/validation_code") == code
    else:
        assert points["item_status"]["code"] == 800
        assert points["side_effects"]["effect"][0]["validation_code"] == code
    assert (again.status, again.text) == (first.status, first.text)
    assert len(kept) == 1
    assert kept[0]["status"] == {"S": "COMPLETED"}
    assert code not in json.dumps(kept), kept
    assert _kept(aws) == kept
    assert "validation code sent" in logs.getvalue()
    assert code not in logs.getvalue()


def test_each_item_gets_its_own_code_back(aws: Aws) -> None:
    # Given Jane with a code, and a request whose first item gives another code and asks too much
    _org_with_two_programs()
    request_code("100")
    code = last_code(aws)
    other = "000000" if code != "000000" else "111111"
    body = {
        "root": {
            "redeem": [
                {"points_redeemed": 9999, "customer": {"mobile": JANE}, "validation_code": other},
                {"points_redeemed": 100, "customer": {"mobile": JANE}, "validation_code": f" {code} "},
            ]
        }
    }

    # When it is redeemed under a key, then retried
    first = _keyed("two-items", body)
    again = _keyed("two-items", body)

    # Then the second item echoes its own code as given, the first none, and the retry is the same bytes
    refused, redeemed = _points(first)
    assert (refused["item_status"]["code"], redeemed["item_status"]["code"]) == (818, 800)
    assert refused["side_effects"] == {"effect": []}
    assert redeemed["side_effects"]["effect"][0]["validation_code"] == f" {code} "
    assert again.text == first.text
    assert code not in json.dumps(_kept(aws))


def test_the_kept_fingerprint_is_keyed_with_the_server_secret(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code is 6 digits: a plain digest of a request that holds one would give the code away to anyone who
    reads the table and tries every code."""
    # Given one request (a code in its body) kept under two keys with one secret, then a third with another
    _org_with_two_programs()
    body = _one(10, validation_code="123456")
    query = {"skip_validation": "true"}
    _keyed("secret-a-1", body, query)
    _keyed("secret-a-2", body, query)
    monkeypatch.setenv("OTP_SECRET", "another-secret-for-validation-codes-987654")
    clear_caches()
    _keyed("secret-b", body, query)

    # Then the fingerprint kept is the same for the same secret, and another for another secret
    fingerprints = {item["id"]["S"]: item["validation"]["S"] for item in _kept(aws)}
    assert len(fingerprints) == 3
    assert len(set(fingerprints.values())) == 2
    assert "123456" not in json.dumps(_kept(aws))


def test_the_same_key_on_another_program_is_422(aws: Aws) -> None:
    # Given a keyed redemption from program 973
    _org_with_two_programs()
    body = _one(10)
    first = _keyed("program-key", body, {"program_id": "973", "skip_validation": "true"})
    assert _points(first)["item_status"]["code"] == 800

    # When the same key and body come for program 974
    again = _keyed("program-key", body, {"program_id": "974", "skip_validation": "true"})

    # Then it is refused, and nothing more is redeemed
    assert again.status == 422
    assert again.body["response"]["status"]["code"] == 422
    wallet = customer_repository().wallet(ORG_ID, "1001", 973)
    assert wallet is not None and wallet.balance(NOW) == 790


def test_the_same_key_with_another_skip_validation_is_422(aws: Aws) -> None:
    # Given a keyed redemption that skipped validation
    _org_with_two_programs()
    body = _one(10)
    assert _keyed("skip-key", body, {"skip_validation": "true"}).status == 200

    # When the same key and body come without skipping it, or skipping it spelled otherwise
    without = _keyed("skip-key", body)
    spelled = _keyed("skip-key", body, {"skip_validation": "TRUE"})

    # Then both are refused
    assert (without.status, spelled.status) == (422, 422)


def test_a_key_without_a_code_in_its_body_needs_no_secret(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """The revert function may not read the validation-code secret (template.yaml): only a body that holds a
    code has its fingerprint keyed with it."""
    # Given functions that could not read the secret
    _org_with_two_programs()
    monkeypatch.delenv("OTP_SECRET")
    monkeypatch.setenv("OTP_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:none-AbCdEf")
    clear_caches()
    revert = {"root": {"revert": {"transaction_number": "BILL-404", "customer": {"mobile": JANE}}}}

    # When a keyed revert and a keyed redemption without a code come, each twice
    answers = [
        call_api(function, "POST", path, query, body=body, headers={"Idempotency-Key": f"{function}-key"})
        for function, path, query, body in [
            ("revert", "/v1.1/points/revert", {"format": "json"}, revert),
            ("redeem", PATH, {"format": "json", "skip_validation": "true"}, _one(10)),
        ]
        for _ in range(2)
    ]

    # Then each is answered, and replayed
    first_revert, again_revert, first_redeem, again_redeem = answers
    assert first_revert.body["response"]["responses"]["points"]["item_status"]["code"] == 811
    assert _points(first_redeem)["item_status"]["code"] == 800
    assert (again_revert.text, again_redeem.text) == (first_revert.text, first_redeem.text)
