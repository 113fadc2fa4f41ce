"""`points-admin apply-config` lists the org's tills in its configuration, so a redemption can tell a till of
the org from any other name without a read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from points_core.aws.settings import get_settings
from points_core.domain.models import Redemption
from points_core.repositories import config_repository, items, keys
from tests.admin.conftest import DEMO, ORG_ID, Run
from tests.conftest import Aws, clear_caches
from tests.factories import JANE, seed_jane
from tests.invoke import call_api

Write = Callable[[str, str], Path]
PATH = "/v1.1/points/redeem"


def test_the_applied_configuration_lists_the_files_tills(run: Run, write: Write) -> None:
    # When the demo file is applied, then again without its kiosk till
    assert run("apply-config", DEMO / "org.yaml").code == 0
    applied = config_repository().org(ORG_ID)
    without_kiosk = (DEMO / "org.yaml").read_text().split("  - username: demo.kiosk")[0]
    result = run("apply-config", write("org.yaml", without_kiosk))

    # Then the configuration lists exactly the tills the file gives
    assert applied is not None and applied.till_ids == frozenset({"demo.till", "demo.kiosk"})
    assert result.lines[0] == "org 100737 (Demo Retail): updated"
    clear_caches()
    again = config_repository().org(ORG_ID)
    assert again is not None and again.till_ids == frozenset({"demo.till"})


def test_a_file_cannot_write_the_list_itself(run: Run, write: Write) -> None:
    text = (DEMO / "org.yaml").read_text() + "till_ids: [demo.till, another.orgs.till]\n"

    result = run("apply-config", write("org.yaml", text))

    assert result.code == 2
    assert "  till_ids: not written in the file: it is the usernames of `tills`" in result.err.splitlines()
    assert config_repository().org(ORG_ID) is None


def test_a_redemption_on_behalf_of_another_demo_till_is_attributed_to_it(run: Run, aws: Aws) -> None:
    # Given the demo org as applied, and Jane
    assert run("apply-config", DEMO / "org.yaml").code == 0
    seed_jane()

    # When demo.till (the caller) redeems naming the kiosk till, then naming a till of no org
    recorded = []
    for till_id in ("demo.kiosk", "till-9"):
        body = {"root": {"redeem": {"points_redeemed": 10, "customer": {"mobile": JANE}, "till_id": till_id}}}
        answer = call_api("redeem", "POST", PATH, {"skip_validation": "true", "format": "json"}, body=body)
        redemption_id = answer.body["response"]["responses"]["points"]["redemption_id"]
        key = keys.redemption(ORG_ID, redemption_id)
        record = items.record(
            aws.dynamodb.get_item(TableName=get_settings().redemptions_table, Key=key)["Item"]
        )
        assert isinstance(record, Redemption)
        recorded.append((record.till_id, record.attributed_till_id))

    # Then the till of record is demo.till both times; only the kiosk is kept, as an attribution
    assert recorded == [("demo.till", "demo.kiosk"), ("demo.till", "")]
