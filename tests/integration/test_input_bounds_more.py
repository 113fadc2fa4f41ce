"""More input bounds, through the functions' handlers against moto: a v1.1 redeem holds at most 20 items."""

from __future__ import annotations

import pytest

from points_core.capillary.bodies import MAX_ITEMS
from tests.conftest import Aws
from tests.factories import JANE, org_config, program, seed_jane, seed_org
from tests.integration.test_input_bounds import REDEEM, SKIP, balance, message
from tests.invoke import ApiAnswer, call_api


@pytest.fixture(autouse=True)
def jane(aws: Aws) -> None:
    seed_org(org_config(programs=(program(973, ratio="0.5"),), allow_skip_validation=True))
    seed_jane()


def redeem_items(count: int) -> ApiAnswer:
    item = {"points_redeemed": 1, "customer": {"mobile": JANE}}
    body = {"root": {"redeem": [item] * count}}
    return call_api("redeem", "POST", REDEEM, {**SKIP, "format": "json"}, body=body)


def test_a_redeem_of_21_items_is_400_and_redeems_nothing() -> None:
    assert MAX_ITEMS == 20
    refused = redeem_items(MAX_ITEMS + 1)
    assert message(refused) == "Invalid input: root.redeem: between 1 and 20 items"
    assert balance() == 800
    # 20 items are redeemed, each of them: the count alone was refused.
    accepted = redeem_items(MAX_ITEMS)
    assert accepted.status == 200, accepted.text
    points = accepted.body["response"]["responses"]["points"]
    assert [entry["item_status"]["code"] for entry in points] == [800] * MAX_ITEMS
    assert balance() == 800 - MAX_ITEMS
