"""`points-admin apply-config`: validation with paths, till passwords, idempotence, till removal."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from points_core.domain.models import OtpSettings
from points_core.domain.passwords import client_password, verify_password
from points_core.repositories import config_repository
from tests.admin.conftest import DEMO, ORG_ID, Run
from tests.conftest import Aws

Write = Callable[[str, str], Path]

SMALL_ORG = """\
org_id: 200
name: Small
country_code: "44"
programs: [{program_id: 1, points_currency_ratio: "1"}]
stores: [{store_id: "S1", program_id: 1}]
"""


def _config_items(aws: Aws) -> list[dict[str, object]]:
    return aws.dynamodb.scan(TableName=aws.tables["ConfigTable"])["Items"]


def test_the_demo_file_is_applied(run: Run) -> None:
    result = run("apply-config", DEMO / "org.yaml")

    assert result.code == 0, result.err
    assert result.lines == [
        "org 100737 (Demo Retail): created",
        "programs: 973, 974",
        "stores: 501, 502",
        "tills: 2 added (demo.kiosk, demo.till), 0 updated, 0 unchanged, 0 removed",
        "oauth clients: 1 added (demo-pos-client), 0 updated, 0 unchanged, 0 removed",
    ]
    org = config_repository().org(ORG_ID)
    assert org is not None
    assert org.timezone == "Asia/Kolkata"
    assert org.default_program_id == 973
    assert org.allow_skip_validation
    assert (org.validation_required, org.v2_error_http_status) == (True, 200)  # left out: the defaults
    rewards, miles = org.programs
    assert rewards.points_currency_ratio == Decimal("0.5")
    assert rewards.rules.max_points_per_redemption == Decimal(5000)
    assert rewards.rules_for("GOLD").max_points_per_redemption == Decimal(20000)
    assert miles.points_currency_ratio == Decimal("0.1")
    assert miles.rules.multiples_of == Decimal(50)
    kiosk_store = org.store("502")
    assert kiosk_store is not None and kiosk_store.program_id == 974
    assert org.otp == OtpSettings(channels="both")
    kiosk = config_repository().till_login("demo.kiosk")
    assert kiosk is not None and (kiosk.org_id, kiosk.store_id) == (ORG_ID, "502")


def test_applying_the_same_file_again_changes_nothing(run: Run, aws: Aws) -> None:
    run("apply-config", DEMO / "org.yaml")
    before = _config_items(aws)

    result = run("apply-config", DEMO / "org.yaml")

    assert result.code == 0
    assert result.lines[0] == "org 100737 (Demo Retail): unchanged"
    assert result.lines[-2:] == [
        "tills: 0 added, 0 updated, 2 unchanged, 0 removed",
        "oauth clients: 0 added, 0 updated, 1 unchanged, 0 removed",
    ]
    assert sorted(map(str, _config_items(aws))) == sorted(map(str, before))


def test_the_validation_and_v2_refusal_options_are_applied(run: Run, write: Write) -> None:
    options = "validation_required: false\nv2_error_http_status: 400\ntills: []\n"
    result = run("apply-config", write("org.yaml", SMALL_ORG + options))

    assert result.code == 0, result.err
    org = config_repository().org(200)
    assert org is not None and (org.validation_required, org.v2_error_http_status) == (False, 400)


def test_a_v2_refusal_status_other_than_200_or_400_is_refused(run: Run, write: Write) -> None:
    result = run("apply-config", write("org.yaml", SMALL_ORG + "v2_error_http_status: 404\ntills: []\n"))

    assert result.code == 2
    assert "  v2_error_http_status: must be 200 or 400" in result.err.splitlines()
    assert config_repository().org(200) is None


def test_till_passwords_are_stored_only_as_a_hash(run: Run, aws: Aws, write: Write) -> None:
    md5 = client_password("kiosk-secret")
    path = write(
        "org.yaml",
        SMALL_ORG
        + "tills:\n"
        + "  - {username: small.one, password: plain-secret, store_id: S1}\n"
        + f"  - {{username: small.two, password_md5: {md5.upper()}, store_id: S1}}\n",
    )

    result = run("apply-config", path)

    assert result.code == 0, result.err
    one, two = config_repository().till_login("small.one"), config_repository().till_login("small.two")
    assert one is not None and two is not None
    assert verify_password(client_password("plain-secret"), one.password_hash)
    assert verify_password(md5, two.password_hash)
    stored = str(_config_items(aws))
    for secret in ("plain-secret", client_password("plain-secret"), md5, md5.upper()):
        assert secret not in stored
        assert secret not in result.out + result.err


def test_a_changed_password_updates_the_till(run: Run, write: Write) -> None:
    till = "tills: [{username: small.one, password: %s, store_id: S1}]\n"
    run("apply-config", write("a.yaml", SMALL_ORG + till % "first"))

    result = run("apply-config", write("b.yaml", SMALL_ORG + till % "second"))

    assert result.lines[-1] == "tills: 0 added, 1 updated (small.one), 0 unchanged, 0 removed"
    login = config_repository().till_login("small.one")
    assert login is not None and verify_password(client_password("second"), login.password_hash)


def test_tills_no_longer_in_the_file_are_removed(run: Run, write: Write) -> None:
    run("apply-config", DEMO / "org.yaml")
    without_kiosk = (DEMO / "org.yaml").read_text().split("  - username: demo.kiosk")[0]

    result = run("apply-config", write("org.yaml", without_kiosk))

    assert result.code == 0, result.err
    assert result.lines[-1] == "tills: 0 added, 0 updated, 1 unchanged, 1 removed (demo.kiosk)"
    assert config_repository().till_login("demo.kiosk") is None
    assert config_repository().till_usernames(ORG_ID) == ["demo.till"]


def test_a_till_of_another_org_is_refused_and_nothing_is_written(run: Run, write: Write) -> None:
    run("apply-config", DEMO / "org.yaml")
    thief = write("org.yaml", SMALL_ORG + "tills: [{username: demo.till, password: mine, store_id: S1}]\n")

    result = run("apply-config", thief)

    assert result.code == 2
    assert "tills[0].username: demo.till belongs to another org" in result.err
    assert "nothing was written" in result.err
    assert config_repository().org(200) is None
    login = config_repository().till_login("demo.till")
    assert login is not None and login.org_id == ORG_ID
    assert verify_password(client_password("demo-till-password"), login.password_hash)


def test_every_problem_is_reported_with_its_path_and_nothing_is_written(
    run: Run, aws: Aws, write: Write
) -> None:
    bad = write(
        "bad.json",
        """{
          "org_id": 300, "country_code": "91", "timezone": "Mars/Olympus", "colour": "blue",
          "programs": [
            {"program_id": 1, "points_currency_ratio": 0},
            {"program_id": 2, "points_currency_ratio": 0.5, "rules": {"min_points": -1}}
          ],
          "otp": {"length": 4},
          "tills": [
            {"username": "t1", "store_id": "S1"},
            {"username": "bad name", "password": "x", "password_md5": "abc", "store_id": "S1"}
          ]
        }""",
    )

    result = run("apply-config", bad)

    assert result.code == 2
    assert result.out == ""
    problems = result.err.splitlines()
    assert problems[0] == f"points-admin: error: {bad}: 8 problem(s), nothing was written:"
    assert sorted(problems[1:]) == sorted(
        [
            "  colour: unknown field",
            "  programs[0].points_currency_ratio: must be greater than 0",
            "  programs[1].rules.min_points: must be greater than or equal to 0",
            "  otp.length: must be greater than or equal to 6",
            "  timezone: unknown time zone 'Mars/Olympus' (e.g. Asia/Kolkata)",
            "  tills[0]: give either password or password_md5",
            "  tills[1].username: must match pattern '^[A-Za-z0-9._@-]+$'",
            "  tills[1].password_md5: must be the 32 hexadecimal digits of the password's MD5",
        ]
    )
    assert _config_items(aws) == []


def test_a_valid_org_with_bad_references_and_timezone(run: Run, aws: Aws, write: Write) -> None:
    path = write(
        "org.yaml",
        SMALL_ORG.replace('store_id: "S1"', 'store_id: "S9"').replace("name: Small", "timezone: Nowhere/City")
        + "tills: [{username: t1, password: x, store_id: S1}]\n",
    )

    result = run("apply-config", path)

    assert result.code == 2
    assert "  timezone: unknown time zone 'Nowhere/City' (e.g. Asia/Kolkata)" in result.err
    assert "  tills[0].store_id: not one of the org's stores (S9)" in result.err
    assert _config_items(aws) == []


def test_a_missing_tills_list_is_an_error_rather_than_removing_every_till(run: Run, write: Write) -> None:
    result = run("apply-config", write("org.yml", SMALL_ORG))

    assert result.code == 2
    assert "tills: required (write `tills: []` for an org without tills)" in result.err


def test_a_file_that_is_not_yaml_is_one_clear_error(run: Run, write: Write) -> None:
    path = write("org.yaml", "org_id: [1,\n")

    result = run("apply-config", path)

    assert result.code == 2
    problem = "line 2, column 1: expected the node content, but found '<stream end>'"
    assert result.err == f"points-admin: error: {path}: {problem}\n"
