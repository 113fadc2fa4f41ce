"""`points-admin import-customers`: the demo file, every kind of bad row, re-runs, the rejects file."""

from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from points_core.domain.identifiers import Identifier, IdentifierType
from points_core.domain.models import Enrolment
from points_core.repositories import customer_repository
from tests.admin.conftest import DEMO, ORG_ID, Run
from tests.conftest import Aws

Write = Callable[[str, str], Path]
HEADER = "customer_id,mobile,email,external_id,enrolment,fraud_status,lifetime_purchases\n"


def _customer_items(aws: Aws) -> list[dict[str, object]]:
    return aws.dynamodb.scan(TableName=aws.tables["CustomersTable"])["Items"]


def _owner(identifier_type: IdentifierType, value: str) -> str | None:
    return customer_repository().resolve(ORG_ID, Identifier(identifier_type, value))


def test_the_demo_file_imports_cleanly(run: Run, demo_org: None) -> None:
    result = run("import-customers", DEMO / "customers.csv", "--org", ORG_ID)

    assert result.code == 0, result.out + result.err
    assert result.lines == ["9 rows read: 9 written (9 created, 0 updated, 0 already present), 0 rejected"]
    profiles = customer_repository().profiles(ORG_ID, [str(n) for n in range(1001, 1010)])
    assert sorted(profiles) == [str(n) for n in range(1001, 1010)]
    jane = profiles["1001"]
    assert (jane.first_name, jane.last_name, jane.email) == ("Jane", "Doe", "jane.doe@example.com")
    assert (jane.card_number, jane.lifetime_purchases) == ("CARD-1001", Decimal(25000))
    assert profiles["1003"].fraud_status == "Confirmed"
    assert profiles["1004"].enrolment is Enrolment.CAMPAIGN
    assert profiles["1005"].enrolment is Enrolment.UNREGISTERED
    assert _owner(IdentifierType.MOBILE, "919000000006") == "1006"
    assert _owner(IdentifierType.EMAIL, "ravi.kumar@example.com") == "1002"
    assert _owner(IdentifierType.CARD_NUMBER, "CARD-1001") == "1001"
    # The Sharma family (demo/groups.csv makes them group 5001).
    asha = profiles["1007"]
    assert (asha.first_name, asha.last_name, asha.email, asha.external_id) == (
        "Asha",
        "Sharma",
        "asha.sharma@example.com",
        "EXT-1007",
    )
    assert [(profiles[c].first_name, profiles[c].enrolment) for c in ("1008", "1009")] == [
        ("Arjun", Enrolment.LOYALTY),
        ("Meera", Enrolment.LOYALTY),
    ]
    assert _owner(IdentifierType.MOBILE, "919000000009") == "1009"
    assert _owner(IdentifierType.EXTERNAL_ID, "EXT-1008") == "1008"


def test_a_second_run_changes_nothing_and_says_so(run: Run, aws: Aws, demo_org: None) -> None:
    run("import-customers", DEMO / "customers.csv", "--org", ORG_ID)
    before = sorted(map(str, _customer_items(aws)))

    result = run("import-customers", DEMO / "customers.csv", "--org", ORG_ID)

    assert result.code == 0
    assert result.lines == ["9 rows read: 9 written (0 created, 0 updated, 9 already present), 0 rejected"]
    assert sorted(map(str, _customer_items(aws))) == before


def test_identifiers_are_normalized_and_a_changed_row_updates_the_customer(
    run: Run, demo_org: None, write: Write
) -> None:
    run(
        "import-customers",
        write("a.csv", HEADER + "0042,09000000042,Someone@Example.COM,,,,\n"),
        "--org",
        ORG_ID,
    )
    assert _owner(IdentifierType.MOBILE, "919000000042") == "42"
    assert _owner(IdentifierType.EMAIL, "someone@example.com") == "42"

    result = run(
        "import-customers", write("b.csv", HEADER + "42,+91 90000 00043,,X-42,,,\n"), "--org", ORG_ID
    )

    assert result.lines == ["1 rows read: 1 written (0 created, 1 updated, 0 already present), 0 rejected"]
    assert _owner(IdentifierType.MOBILE, "919000000043") == "42"
    assert _owner(IdentifierType.MOBILE, "919000000042") is None
    assert _owner(IdentifierType.EMAIL, "someone@example.com") is None
    assert _owner(IdentifierType.EXTERNAL_ID, "X-42") == "42"


def test_each_bad_row_is_reported_by_line_and_not_written(
    run: Run, aws: Aws, demo_customers: None, write: Write, tmp_path: Path
) -> None:
    rows = [
        "2001,919000002001,,,,,",  # line 2: good
        "20x1,919000002002,,,,,",  # 3
        "2003,,,,,,",  # 4
        "2004,12ab,,,,,",  # 5
        "2005,,not-an-email,,,,",  # 6
        "2006,919000002006,,,member,,",  # 7
        "2007,919000002007,,,,Suspicious,",  # 8
        "2008,919000002008,,,,,-5",  # 9
        "2001,919000002009,,,,,",  # 10: customer_id of line 2
        "2010,919000002001,,,,,",  # 11: mobile of line 2
        "2011,,jane.doe@example.com,,,,",  # 12: Jane's email, in the table already
        "2012,919000002012,,EXT-2012,loyalty,not_fraud,10.50",  # 13: good
    ]
    path = write("customers.csv", HEADER + "\n".join(rows) + "\n")
    rejects = tmp_path / "rejects.csv"

    result = run("import-customers", path, "--org", ORG_ID, "--rejects", rejects)

    assert result.code == 1
    assert result.lines == [
        "line 3: customer_id: a customer id is a positive integer",
        "line 4: no identifier: give at least one of "
        "mobile, email, external_id, card_number, card_external_id",
        "line 5: mobile: a mobile number has digits only",
        "line 6: email: not a valid email address",
        "line 7: enrolment: one of loyalty, campaign, unregistered",
        "line 8: fraud_status: empty or one of Confirmed, Internal, Marked, Not_Fraud, Reconfirmed",
        "line 9: lifetime_purchases: must be a number, 0 or more",
        "line 10: customer_id 2001 is already on line 2",
        "line 11: mobile 91******2001 is already on line 2",
        "line 12: email already belongs to customer 1001",
        "12 rows read: 2 written (2 created, 0 updated, 0 already present), 10 rejected",
        f"rejected rows: {rejects}",
    ]
    written = customer_repository().profiles(ORG_ID, [str(n) for n in range(2001, 2013)])
    assert sorted(written) == ["2001", "2012"]
    assert written["2012"].fraud_status == "Not_Fraud"
    assert written["2012"].lifetime_purchases == Decimal("10.50")
    assert _owner(IdentifierType.EMAIL, "jane.doe@example.com") == "1001"
    assert _owner(IdentifierType.MOBILE, "919000002009") is None

    with rejects.open(encoding="utf-8", newline="") as file:
        rejected = list(csv.DictReader(file))
    assert [row["line"] for row in rejected] == [str(n) for n in range(3, 13)]
    assert rejected[0] == {
        "customer_id": "20x1",
        "mobile": "919000002002",
        "email": "",
        "external_id": "",
        "enrolment": "",
        "fraud_status": "",
        "lifetime_purchases": "",
        "line": "3",
        "reason": "customer_id: a customer id is a positive integer",
    }
    assert rejected[-1]["reason"] == "email already belongs to customer 1001"


def test_an_unknown_column_stops_before_any_row(run: Run, aws: Aws, demo_org: None, write: Write) -> None:
    path = write("customers.csv", "customer_id,mobile,nickname\n3001,919000003001,Bob\n")

    result = run("import-customers", path, "--org", ORG_ID)

    assert result.code == 2
    assert result.err.startswith(
        "points-admin: error: line 1: unknown columns: nickname (known: customer_id,"
    )
    assert _customer_items(aws) == []


def test_rows_with_a_wrong_field_count_and_multi_line_fields_keep_physical_line_numbers(
    run: Run, demo_org: None, write: Write
) -> None:
    text = (
        "customer_id,first_name,mobile\n"
        '3001,"Multi\nline",919000003001\n'  # lines 2-3
        "\n"  # 4: blank, skipped
        "3002,Too,919000003002,many\n"  # 5
        "3003,x\n"  # 6
    )

    result = run("import-customers", write("customers.csv", "\ufeff" + text), "--org", ORG_ID)

    assert result.lines == [
        "line 5: 4 fields where the header has 3",
        "line 6: 2 fields where the header has 3",
        "3 rows read: 1 written (1 created, 0 updated, 0 already present), 2 rejected",
    ]
    assert customer_repository().profiles(ORG_ID, ["3001"])["3001"].first_name == "Multi\nline"


def test_an_unknown_org_is_a_usage_error(run: Run, demo_org: None) -> None:
    result = run("import-customers", DEMO / "customers.csv", "--org", "999")

    assert result.code == 2
    assert result.err == "points-admin: error: org 999 is not configured (run apply-config first)\n"


def test_a_file_that_is_not_utf8_is_one_clear_error(
    run: Run, aws: Aws, demo_org: None, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("customer_id,first_name,mobile\n3001,Jos\u00e9,919000003001\n".encode("latin-1"))

    result = run("import-customers", path, "--org", ORG_ID)

    assert result.code == 2
    assert result.err.startswith("points-admin: error: line 1: cannot read the header: 'utf-8' codec")
    assert _customer_items(aws) == []
