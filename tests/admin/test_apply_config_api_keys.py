"""`points-admin apply-config` gives each till its own API key in the stack's usage plan (which throttles each
till on its own), kept in the till's login item where the authorizer reads it: idempotent, and a removed
till's key deleted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from points_admin import api_keys
from points_core.domain.models import TillLogin
from points_core.domain.passwords import client_password, hash_password
from points_core.repositories import config_repository
from tests.admin.conftest import DEMO, ORG_ID, Run
from tests.conftest import clear_caches

Write = Callable[[str, str], Path]
TILLS = ("demo.kiosk", "demo.till")
# What applying the demo file a second time asks API Gateway once the plan is found: its keys, nothing more.
READS_ONLY = ["GetUsagePlanKeys"]


def _apigateway() -> Any:
    return boto3.client("apigateway")


def _login(username: str) -> TillLogin:
    clear_caches()
    login = config_repository().till_login(username)
    assert login is not None
    return login


def _plan_keys(usage_plan: str) -> dict[str, str]:
    """Name → value of every key in the plan."""
    return {
        key["name"]: key["value"]
        for key in _apigateway().get_usage_plan_keys(usagePlanId=usage_plan)["items"]
    }


def _keys_named(name: str) -> list[dict[str, Any]]:
    found = _apigateway().get_api_keys(nameQuery=name, includeValues=True)["items"]
    return [key for key in found if key["name"] == name]


@pytest.fixture
def apigateway_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The API Gateway operations the tool calls (its client is made by the command: caught there)."""
    calls: list[str] = []
    made = api_keys.TillKeys.__init__

    def counting(self: api_keys.TillKeys, client: Any, usage_plan_id: str) -> None:
        made(self, client, usage_plan_id)
        client.meta.events.register("before-call.apigateway", lambda model, **_: calls.append(model.name))

    monkeypatch.setattr(api_keys.TillKeys, "__init__", counting)
    yield calls


def test_each_till_gets_its_own_enabled_key_in_the_plan_kept_in_its_login(run: Run, usage_plan: str) -> None:
    result = run("apply-config", DEMO / "org.yaml")

    assert result.code == 0, result.err
    in_plan = _plan_keys(usage_plan)
    assert sorted(in_plan) == [f"{usage_plan}/{till}" for till in TILLS]
    for till in TILLS:
        value = _login(till).api_key
        assert value is not None and len(value) == api_keys.KEY_LENGTH and value.isalnum()
        assert in_plan[f"{usage_plan}/{till}"] == value
        (key,) = _keys_named(f"{usage_plan}/{till}")
        assert key["enabled"] is True
        assert value not in result.out + result.err  # never printed
    assert len(set(in_plan.values())) == len(TILLS)


def test_applying_the_same_file_again_keeps_every_key_and_writes_nothing(
    run: Run, usage_plan: str, apigateway_calls: list[str]
) -> None:
    assert run("apply-config", DEMO / "org.yaml").code == 0
    before = _plan_keys(usage_plan)
    apigateway_calls.clear()

    again = run("apply-config", DEMO / "org.yaml")

    assert again.code == 0
    assert "tills: 0 added, 0 updated, 2 unchanged, 0 removed" in again.lines
    assert apigateway_calls == READS_ONLY
    assert _plan_keys(usage_plan) == before
    assert {_login(till).api_key for till in TILLS} == set(before.values())


def test_a_till_saved_before_tills_had_keys_gets_one_and_keeps_its_password_hash(
    run: Run, usage_plan: str
) -> None:
    # Given the demo org, its till's login then written as before keys (none), with the same password
    assert run("apply-config", DEMO / "org.yaml").code == 0
    old_hash = hash_password(client_password("demo-till-password"))
    config_repository().save_till(
        TillLogin(username="demo.till", org_id=ORG_ID, store_id="501", password_hash=old_hash)
    )
    for key in _keys_named(f"{usage_plan}/demo.till"):
        _apigateway().delete_api_key(apiKey=key["id"])

    result = run("apply-config", DEMO / "org.yaml")

    assert "tills: 0 added, 1 updated (demo.till), 1 unchanged, 0 removed" in result.lines
    login = _login("demo.till")
    assert login.password_hash == old_hash  # the password did not change: no new salt
    assert login.api_key is not None
    assert _plan_keys(usage_plan)[f"{usage_plan}/demo.till"] == login.api_key


def test_a_removed_tills_key_is_deleted(run: Run, usage_plan: str, write: Write) -> None:
    assert run("apply-config", DEMO / "org.yaml").code == 0
    without_kiosk = (DEMO / "org.yaml").read_text().split("  - username: demo.kiosk")[0]

    result = run("apply-config", write("org.yaml", without_kiosk))

    assert "tills: 0 added, 0 updated, 1 unchanged, 1 removed (demo.kiosk)" in result.lines
    assert sorted(_plan_keys(usage_plan)) == [f"{usage_plan}/demo.till"]
    assert _keys_named(f"{usage_plan}/demo.kiosk") == []


def test_a_key_left_by_an_apply_that_stopped_is_used_and_a_key_out_of_the_plan_put_back(
    run: Run, usage_plan: str
) -> None:
    # Given: demo.till's key was created but the apply stopped before the login was written; demo.kiosk has
    # its login and key, but the key was taken out of the plan (by hand) and disabled
    left = _apigateway().create_api_key(name=f"{usage_plan}/demo.till", value="v" * 24 + "left", enabled=True)
    assert run("apply-config", DEMO / "org.yaml").code == 0
    kiosk = _login("demo.kiosk").api_key
    (kiosk_key,) = _keys_named(f"{usage_plan}/demo.kiosk")
    _apigateway().delete_usage_plan_key(usagePlanId=usage_plan, keyId=kiosk_key["id"])
    _apigateway().update_api_key(
        apiKey=kiosk_key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )

    # When it is applied again
    assert run("apply-config", DEMO / "org.yaml").code == 0

    # Then the till's left key is its key (no second one), the kiosk's is back in the plan, enabled
    assert _login("demo.till").api_key == left["value"]
    assert [key["id"] for key in _keys_named(f"{usage_plan}/demo.till")] == [left["id"]]
    assert _plan_keys(usage_plan) == {
        f"{usage_plan}/demo.till": left["value"],
        f"{usage_plan}/demo.kiosk": kiosk,
    }
    assert [key["enabled"] for key in _keys_named(f"{usage_plan}/demo.kiosk")] == [True]


def test_without_a_usage_plan_an_org_with_tills_is_refused_before_any_write(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("USAGE_PLAN_ID")

    result = run("apply-config", DEMO / "org.yaml")

    assert result.code == 2
    assert result.err == (
        "points-admin: error: no usage plan for the tills' API keys: give --usage-plan-id, set USAGE_PLAN_ID "
        "or use --stack-name\n"
    )
    assert config_repository().org(ORG_ID) is None


def test_an_unknown_usage_plan_is_refused_before_any_write(run: Run) -> None:
    result = run("--usage-plan-id", "nosuchplan", "apply-config", DEMO / "org.yaml")

    assert result.code == 2
    assert result.err == "points-admin: error: usage plan nosuchplan does not exist\n"
    assert config_repository().org(ORG_ID) is None


def test_the_usage_plan_option_wins_over_the_variable(run: Run, usage_plan: str) -> None:
    other = str(_apigateway().create_usage_plan(name="other")["id"])

    assert run("--usage-plan-id", other, "apply-config", DEMO / "org.yaml").code == 0

    assert sorted(_plan_keys(other)) == [f"{other}/{till}" for till in TILLS]
    assert _plan_keys(usage_plan) == {}


def test_an_org_without_tills_needs_no_usage_plan(
    run: Run, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("USAGE_PLAN_ID")
    text = (DEMO / "org.yaml").read_text()
    tills_section = text[text.index("tills:") : text.index("# An OAuth client")]
    text = text.replace(tills_section, "tills: []\n\n").split("oauth_clients:")[0]

    result = run("apply-config", write("org.yaml", text))

    assert result.code == 0, result.err
    assert "tills: 0 added, 0 updated, 0 unchanged, 0 removed" in result.lines
