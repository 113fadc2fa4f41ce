"""Every log line of a request carries the org and the till it came from: appended once, where the caller is
known, not passed by hand to each line."""

from __future__ import annotations

import io
import json

import pytest

from tests.conftest import Aws
from tests.factories import ORG_ID, TILL, org_config, seed_jane, seed_org
from tests.invoke import call_api


@pytest.fixture
def jane(aws: Aws) -> None:
    seed_org(org_config())
    seed_jane()


def _lines(logs: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in logs.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("function", "method", "path", "query", "body"),
    [
        (
            "is_redeemable",
            "GET",
            "/v1.1/points/isredeemable",
            {"mobile": "919000000001", "points": "100"},
            None,
        ),
        (
            "validation_code",
            "GET",
            "/v1.1/points/validationcode",
            {"mobile": "919000000001", "points": "1"},
            None,
        ),
        (
            "revert",
            "POST",
            "/v2/points/reverse",
            None,
            {"redemptionId": "AAAAAA", "identifier": {"type": "mobile", "value": "919000000001"}},
        ),
    ],
)
def test_each_line_says_which_org_and_till(
    jane: None, logs: io.StringIO, function: str, method: str, path: str, query: object, body: object
) -> None:
    # Given a till of the org, When it calls the endpoint
    call_api(function, method, path, query, body=body)  # type: ignore[arg-type]
    # Then the endpoint logged, and every line names the org and the till
    lines = _lines(logs)
    assert lines
    assert {(line.get("org_id"), line.get("till_id")) for line in lines} == {(ORG_ID, TILL)}


def test_the_next_request_names_its_own_till(jane: None, logs: io.StringIO) -> None:
    query = {"mobile": "919000000001", "points": "1"}
    call_api("is_redeemable", "GET", "/v1.1/points/isredeemable", query)
    logs.truncate(0)
    logs.seek(0)
    kiosk = {"org_id": str(ORG_ID), "till_id": "demo.kiosk", "store_id": "502"}
    call_api("is_redeemable", "GET", "/v1.1/points/isredeemable", query, authorizer=kiosk)
    lines = _lines(logs)
    assert lines
    assert {line.get("till_id") for line in lines} == {"demo.kiosk"}
