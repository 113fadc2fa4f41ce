"""Global options, and failures of the tool as a whole: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import json
from decimal import Decimal

import boto3
import pytest
from botocore.config import Config

from points_admin import connection
from points_admin.cli import main
from points_admin.values import money
from tests.admin.conftest import DEMO, ORG_ID, Run
from tests.conftest import Aws


def test_help_returns_instead_of_exiting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "apply-config" in capsys.readouterr().out


def test_a_usage_mistake_is_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-customers", "x.csv"]) == 2
    assert "the following arguments are required: --org" in capsys.readouterr().err


@pytest.mark.parametrize(
    "org",
    [
        "\u0661\u0660\u0660\u0667\u0663\u0667",
        "\uff11\uff10\uff10\uff17\uff13\uff17",
        "100_737",
        "+100737",
        "\u00b2",
    ],
)
def test_a_number_is_read_in_ascii_digits_only(capsys: pytest.CaptureFixture[str], org: str) -> None:
    assert main(["wallet", "--org", org, "--customer-id", "1001"]) == 2
    assert f"argument --org: not a whole number: {org!r}" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["\u0661\u0660", "\uff11\uff10", "1_000", "\u00b2", "Infinity", "NaN"])
def test_an_amount_of_money_is_read_in_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError, match="must be a number, 0 or more"):
        money(text)
    assert money(" 10.50 ") == Decimal("10.50")


def test_an_unknown_table_name_is_one_line(run: Run) -> None:
    result = run("--config-table", "NoSuchTable", "apply-config", DEMO / "org.yaml")

    assert result.code == 2
    assert result.err == "points-admin: error: config table NoSuchTable does not exist\n"


def test_a_missing_table_name_says_where_to_give_it(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONFIG_TABLE")

    result = run("apply-config", DEMO / "org.yaml")

    assert result.code == 2
    assert result.err == (
        "points-admin: error: no config table: give --config-table, set CONFIG_TABLE or use --stack-name\n"
    )


def test_table_names_and_the_usage_plan_come_from_the_stacks_outputs(
    run: Run, aws: Aws, usage_plan: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("CONFIG_TABLE", "CUSTOMERS_TABLE", "LEDGER_TABLE", "USAGE_PLAN_ID"):
        monkeypatch.delenv(variable)
    outputs = {
        "ConfigTableName": "ConfigTable",
        "CustomersTableName": "CustomersTable",
        "LedgerTableName": "LedgerTable",
        "UsagePlanId": usage_plan,
    }
    template = {
        "Resources": {"Nothing": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName="points", TemplateBody=json.dumps(template))

    applied = run("--stack-name", "points", "apply-config", DEMO / "org.yaml")
    imported = run("--stack-name", "points", "import-customers", DEMO / "customers.csv", "--org", ORG_ID)
    missing = run("--stack-name", "nope", "apply-config", DEMO / "org.yaml")

    assert (applied.code, imported.code) == (0, 0), applied.err + imported.err
    plan_keys = boto3.client("apigateway").get_usage_plan_keys(usagePlanId=usage_plan)["items"]
    assert sorted(key["name"] for key in plan_keys) == [f"{usage_plan}/demo.kiosk", f"{usage_plan}/demo.till"]
    assert missing.code == 2
    assert missing.err.startswith("points-admin: error: stack nope: ")


def test_an_unreachable_endpoint_is_one_line(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 9 of loopback; no retries, so the refusal is reported at once.
    monkeypatch.setattr(connection, "_CLIENT_CONFIG", Config(retries={"total_max_attempts": 1}))
    result = run("--endpoint-url", "http://127.0.0.1:9", "apply-config", DEMO / "org.yaml")

    assert result.code == 2
    assert result.err.startswith("points-admin: error: AWS: Could not connect to the endpoint URL")
    assert len(result.err.splitlines()) == 1


def test_a_missing_file_is_one_line(run: Run, demo_customers: None) -> None:
    result = run("import-allocations", "no-such.csv", "--org", ORG_ID)

    assert result.code == 2
    assert result.err == "points-admin: error: no-such.csv: No such file or directory\n"
