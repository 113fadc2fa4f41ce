"""`points-admin import-groups`: the demo family, every kind of bad row, re-runs, updates, the member
limit."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from points_core.domain.models import MAX_GROUP_MEMBERS, UserGroup
from points_core.repositories import GroupRepository, keys
from tests.admin.conftest import DEMO, ORG_ID, Run
from tests.conftest import Aws

Write = Callable[[str, str], Path]
HEADER = (
    "group_id,external_id,customer_id,role,default_group,cross_member_redemption,redemption_program_ids\n"
)
CUSTOMERS_HEADER = "customer_id,external_id\n"
FAMILY = UserGroup(
    group_id="5001",
    external_id="FAM-5001",
    primary_customer_id="1007",
    member_ids=("1007", "1008", "1009"),
    cross_member_redemption=True,
    redemption_program_ids=(973,),
)


def _summary(read: int, created: int, updated: int, unchanged: int, rejected: int) -> str:
    written = created + updated + unchanged
    return (
        f"{read} rows read: {written} written ({created} created, {updated} updated, "
        f"{unchanged} already present), {rejected} rejected"
    )


@pytest.fixture
def groups(aws: Aws) -> GroupRepository:
    return GroupRepository(aws.dynamodb, aws.tables["CustomersTable"])


@pytest.fixture
def demo_groups(run: Run, demo_customers: None) -> None:
    assert run("import-groups", DEMO / "groups.csv", "--org", ORG_ID).code == 0


def _customer_items(aws: Aws) -> list[dict[str, Any]]:
    return aws.dynamodb.scan(TableName=aws.tables["CustomersTable"])["Items"]


def _group_items(aws: Aws) -> list[dict[str, Any]]:
    """Every item of the groups' layout: group partitions, external ids, default and primary pointers."""
    return sorted(
        (
            item
            for item in _customer_items(aws)
            if "#UG2" in item["pk"]["S"] or item["sk"]["S"].startswith("UG2")
        ),
        key=str,
    )


def _default(groups: GroupRepository, customer_id: str) -> str | None:
    return groups.pointer(keys.default_group(ORG_ID, customer_id))


def _primary_of(groups: GroupRepository, customer_id: str) -> str | None:
    return groups.pointer(keys.primary_of(ORG_ID, customer_id))


def test_the_demo_family_imports_cleanly(
    run: Run, aws: Aws, groups: GroupRepository, demo_customers: None
) -> None:
    result = run("import-groups", DEMO / "groups.csv", "--org", ORG_ID)

    assert result.code == 0, result.out + result.err
    assert result.lines == [_summary(3, 3, 0, 0, 0)]
    assert groups.group(ORG_ID, "5001") == FAMILY
    assert groups.group_id_by_external_id(ORG_ID, "FAM-5001") == "5001"
    assert {c: _default(groups, c) for c in ("1007", "1008", "1009")} == dict.fromkeys(
        ("1007", "1008", "1009"), "5001"
    )
    assert {c: _primary_of(groups, c) for c in ("1007", "1008", "1009")} == {
        "1007": "5001",
        "1008": None,
        "1009": None,
    }
    # The items of the layout, and nothing else: a header, a member item each, the external id, the pointers.
    partition = keys.group_partition(ORG_ID, "5001")
    header = next(i for i in _group_items(aws) if i["pk"]["S"] == partition and i["sk"]["S"] == "GROUP")
    assert header == {
        **keys.group_header(ORG_ID, "5001"),
        "external_id": {"S": "FAM-5001"},
        "primary_customer_id": {"S": "1007"},
        "cross_member_redemption": {"BOOL": True},
        "redemption_program_ids": {"L": [{"N": "973"}]},
    }
    members = [i for i in _group_items(aws) if i["pk"]["S"] == partition and i["sk"]["S"] != "GROUP"]
    assert sorted(members, key=lambda item: item["sk"]["S"]) == [
        {**keys.group_member(ORG_ID, "5001", c), "customer_id": {"S": c}} for c in ("1007", "1008", "1009")
    ]
    assert len(_group_items(aws)) == 1 + 3 + 1 + 3 + 1  # header, members, UG2EXT, UG2DEFAULT x3, UG2PRIMARY


def test_a_second_run_changes_nothing_and_says_so(run: Run, aws: Aws, demo_groups: None) -> None:
    before = sorted(map(str, _customer_items(aws)))

    result = run("import-groups", DEMO / "groups.csv", "--org", ORG_ID)

    assert result.code == 0
    assert result.lines == [_summary(3, 0, 0, 3, 0)]
    assert sorted(map(str, _customer_items(aws))) == before


def test_each_bad_row_is_reported_by_line_and_not_written(
    run: Run, aws: Aws, groups: GroupRepository, demo_groups: None, write: Write, tmp_path: Path
) -> None:
    long_id = "X" * 129
    rows = [
        "6001,FAM-6001,1001,primary,true,true,973;974",  # line 2: good, a new group
        "6001,FAM-6001,1002,member,,,974; 973",  # 3: good (the same attributes, written otherwise)
        "abc,,1003,member,,,",  # 4
        "2147483648,,1003,member,,,",  # 5
        "6001,FAM-6001,10x3,member,,,973;974",  # 6
        "6001,FAM-6001,1003,owner,,,973;974",  # 7
        "6001,FAM-6001,1003,member,yes,,973;974",  # 8
        "6001,FAM-6001,1003,member,,maybe,973;974",  # 9
        "6001,FAM-6001,1003,member,,,973;975",  # 10
        "6001,FAM-6001,1003,member,,,973;",  # 11
        f"6001,{long_id},1003,member,,,973;974",  # 12
        "6001,FAM-6001,9999,member,,,973;974",  # 13: no such customer
        "6001,FAM-6001,1002,member,,,973;974",  # 14: the membership of line 3
        "6001,FAM-6001,1003,member,,false,973",  # 15: other attributes than line 2's
        "6001,FAM-6001,1003,primary,,,973;974",  # 16: a second primary
        "6002,,1007,primary,,,973",  # 17: 1007 is the primary of the stored 5001
        "6002,,1001,primary,,,973",  # 18: 1001 is the primary of 6001 (line 2)
        "6003,FAM-5001,1004,primary,,,",  # 19: the stored 5001's external id
        "6004,FAM-6001,1005,primary,,,",  # 20: 6001's external id (line 2)
        "6005,,1006,member,,,973",  # 21: a new group without a primary
        "6005,,1003,member,,,973",  # 22
        "6001,FAM-6001,1003",  # 23
        "5001,FAM-5001,1001,member,,,973",  # 24: good: a member of the stored group (its primary stays)
        "6006,,1006,member,,false,",  # 25: good: before its group's primary row
        "6006,,1008,primary,,false,",  # 26: good: a group with no redemption programs
    ]
    rejects = tmp_path / "rejects.csv"

    result = run(
        "import-groups",
        write("groups.csv", HEADER + "\n".join(rows) + "\n"),
        "--org",
        ORG_ID,
        "--rejects",
        rejects,
    )

    assert result.code == 1
    programs = "(programs: 973, 974)"
    assert result.lines == [
        "line 4: group_id: a whole number from 1 to 2,147,483,647",
        "line 5: group_id: a whole number from 1 to 2,147,483,647",
        "line 6: customer_id: a customer id is a positive integer",
        "line 7: role: primary or member",
        "line 8: default_group: true, false or empty (false)",
        "line 9: cross_member_redemption: true, false or empty (true)",
        f"line 10: redemption_program_ids: 975 is not a program of org 100737 {programs}",
        "line 11: redemption_program_ids: program ids separated by ;, none of them empty",
        "line 12: external_id: at most 128 printable characters",
        "line 13: unknown customer 9999: not a customer of org 100737",
        "line 14: customer 1002 is already in group 6001 on line 3",
        "line 15: cross_member_redemption, redemption_program_ids of group 6001 differ from line 2, the "
        "group's first row (a group's rows give the same)",
        "line 16: group 6001 has its primary member on line 2 (customer 1001): a group has one",
        "line 17: customer 1007 is the primary member of group 5001 already",
        "line 18: customer 1001 is the primary member of group 6001 on line 2 already",
        "line 19: external_id FAM-5001 names group 5001 already",
        "line 20: external_id FAM-6001 names group 6001 on line 2 already",
        "line 21: group 6005 has no primary member: no primary row in the file, none stored",
        "line 22: group 6005 has no primary member: no primary row in the file, none stored",
        "line 23: 3 fields where the header has 7",
        _summary(25, 5, 0, 0, 20),
        f"rejected rows: {rejects}",
    ]
    assert groups.group(ORG_ID, "6001") == UserGroup(
        group_id="6001",
        external_id="FAM-6001",
        primary_customer_id="1001",
        member_ids=("1001", "1002"),
        redemption_program_ids=(973, 974),
    )
    assert groups.group(ORG_ID, "5001") == FAMILY.model_copy(
        update={"member_ids": ("1001", "1007", "1008", "1009")}
    )
    assert groups.group(ORG_ID, "6006") == UserGroup(
        group_id="6006",
        primary_customer_id="1008",
        member_ids=("1006", "1008"),
        cross_member_redemption=False,
        redemption_program_ids=(),
    )
    for group_id in ("6002", "6003", "6004", "6005"):
        assert (
            aws.dynamodb.query(
                TableName=aws.tables["CustomersTable"],
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.group_partition(ORG_ID, group_id)}},
            )["Items"]
            == []
        )
    assert groups.group_id_by_external_id(ORG_ID, "FAM-6001") == "6001"
    assert groups.group_id_by_external_id(ORG_ID, "FAM-5001") == "5001"
    assert {c: _primary_of(groups, c) for c in ("1001", "1002", "1007", "1008")} == {
        "1001": "6001",
        "1002": None,
        "1007": "5001",
        "1008": "6006",
    }
    assert {c: _default(groups, c) for c in ("1001", "1002", "1003", "1006")} == {
        "1001": "6001",
        "1002": None,
        "1003": None,
        "1006": None,
    }
    assert not any(
        item["sk"]["S"] == keys.group_member(ORG_ID, "6001", "1003")["sk"]["S"] for item in _group_items(aws)
    )

    with rejects.open(encoding="utf-8", newline="") as file:
        rejected = list(csv.DictReader(file))
    assert [row["line"] for row in rejected] == [str(n) for n in range(4, 24)]
    assert rejected[-3] == {
        "group_id": "6005",
        "external_id": "",
        "customer_id": "1006",
        "role": "member",
        "default_group": "",
        "cross_member_redemption": "",
        "redemption_program_ids": "973",
        "line": "21",
        "reason": "group 6005 has no primary member: no primary row in the file, none stored",
    }


def test_a_primary_row_after_its_members_in_a_later_batch(
    run: Run, groups: GroupRepository, demo_customers: None, write: Write
) -> None:
    rows = "7001,,1002,member,true,,973\n7001,,1003,member,,,973\n7001,,1001,primary,,,973\n"

    result = run("import-groups", write("g.csv", HEADER + rows), "--org", ORG_ID, "--batch-size", "1")

    assert result.code == 0
    assert result.lines == [_summary(3, 3, 0, 0, 0)]
    assert groups.group(ORG_ID, "7001") == UserGroup(
        group_id="7001",
        primary_customer_id="1001",
        member_ids=("1001", "1002", "1003"),
        redemption_program_ids=(973,),
    )
    assert (_primary_of(groups, "1001"), _default(groups, "1002"), _default(groups, "1001")) == (
        "7001",
        "7001",
        None,
    )


def test_a_new_group_whose_primary_row_is_rejected_is_rejected_whole(
    run: Run, aws: Aws, demo_groups: None, write: Write
) -> None:
    before = _group_items(aws)
    # 1007 is the stored family's primary member already: group 7001 is left with none.
    rows = "7001,,1002,member,true,,973\n7001,,1007,primary,,,973\n7001,,1003,member,,,973\n"

    result = run("import-groups", write("g.csv", HEADER + rows), "--org", ORG_ID, "--batch-size", "1")

    assert result.code == 1
    no_primary = "group 7001 has no primary member: no primary row in the file, none stored"
    assert result.lines == [
        f"line 2: {no_primary}",
        "line 3: customer 1007 is the primary member of group 5001 already",
        f"line 4: {no_primary}",
        _summary(3, 0, 0, 0, 3),
    ]
    assert _group_items(aws) == before


def test_a_later_import_updates_the_group_and_moves_pointers(
    run: Run, aws: Aws, groups: GroupRepository, demo_groups: None, write: Write
) -> None:
    # A new primary member (1008 for 1007, who stays a member), a new external id, other redemption settings;
    # 1009's default group becomes another group, 1007's (default_group false) stays.
    rows = [
        "5001,FAM-NEW,1007,member,false,false,973;974",  # line 2
        "5001,FAM-NEW,1008,primary,true,false,973;974",  # 3: the header is written with the primary row
        "5001,FAM-NEW,1009,member,,false,973;974",  # 4
        "5002,,1009,primary,true,,974",  # 5
        "5002,,1001,member,,,974",  # 6
    ]

    result = run("import-groups", write("g.csv", HEADER + "\n".join(rows) + "\n"), "--org", ORG_ID)

    assert result.code == 0
    assert result.lines == [_summary(5, 2, 1, 2, 0)]
    assert groups.group(ORG_ID, "5001") == UserGroup(
        group_id="5001",
        external_id="FAM-NEW",
        primary_customer_id="1008",
        member_ids=("1007", "1008", "1009"),
        cross_member_redemption=False,
        redemption_program_ids=(973, 974),
    )
    assert groups.group_id_by_external_id(ORG_ID, "FAM-NEW") == "5001"
    assert groups.group_id_by_external_id(ORG_ID, "FAM-5001") is None
    assert {c: _primary_of(groups, c) for c in ("1007", "1008", "1009")} == {
        "1007": None,
        "1008": "5001",
        "1009": "5002",
    }
    assert {c: _default(groups, c) for c in ("1001", "1007", "1008", "1009")} == {
        "1001": None,
        "1007": "5001",
        "1008": "5001",
        "1009": "5002",
    }
    before = _group_items(aws)

    again = run("import-groups", write("g.csv", HEADER + "\n".join(rows) + "\n"), "--org", ORG_ID)

    assert again.lines == [_summary(5, 0, 0, 5, 0)]
    assert _group_items(aws) == before


def test_the_member_limit_counts_the_members_stored(
    run: Run, groups: GroupRepository, demo_org: None, write: Write
) -> None:
    customers = [str(n) for n in range(2001, 2001 + MAX_GROUP_MEMBERS + 2)]
    imported = run(
        "import-customers",
        write("c.csv", CUSTOMERS_HEADER + "".join(f"{c},EXT-{c}\n" for c in customers)),
        "--org",
        ORG_ID,
    )
    assert imported.code == 0
    first = [f"7001,,{customers[0]},primary,,,973"] + [f"7001,,{c},member,,,973" for c in customers[1:49]]
    assert run("import-groups", write("a.csv", HEADER + "\n".join(first) + "\n"), "--org", ORG_ID).lines == [
        _summary(49, 49, 0, 0, 0)
    ]

    # The 50th member fits, the 51st does not; a member stored already is no new one.
    rows = [
        f"7001,,{customers[49]},member,,,973",
        f"7001,,{customers[50]},member,,,973",
        f"7001,,{customers[1]},member,,,973",
    ]
    result = run("import-groups", write("b.csv", HEADER + "\n".join(rows) + "\n"), "--org", ORG_ID)

    assert result.code == 1
    assert result.lines == [
        f"line 3: group 7001 has {MAX_GROUP_MEMBERS} members already, the most a group may have",
        _summary(3, 1, 0, 1, 1),
    ]
    group = groups.group(ORG_ID, "7001")
    assert group is not None
    assert group.member_ids == tuple(customers[:50])


def test_missing_columns_an_unknown_org_and_an_unknown_column_stop_the_import(
    run: Run, aws: Aws, demo_customers: None, write: Write
) -> None:
    missing = run(
        "import-groups", write("a.csv", "group_id,customer_id,role\n5001,1007,primary\n"), "--org", ORG_ID
    )
    unknown_org = run("import-groups", DEMO / "groups.csv", "--org", "999")
    unknown_column = run(
        "import-groups",
        write("b.csv", HEADER.strip() + ",nickname\n5001,,1007,primary,,,973,x\n"),
        "--org",
        ORG_ID,
    )

    assert (missing.code, unknown_org.code, unknown_column.code) == (2, 2, 2)
    assert missing.err == (
        "points-admin: error: line 1: missing columns: external_id, default_group, cross_member_redemption, "
        "redemption_program_ids\n"
    )
    assert unknown_org.err == "points-admin: error: org 999 is not configured (run apply-config first)\n"
    assert unknown_column.err.startswith(
        "points-admin: error: line 1: unknown columns: nickname (known: group_id,"
    )
    assert _group_items(aws) == []


def test_a_file_unreadable_midway_writes_nothing(
    run: Run, aws: Aws, demo_customers: None, tmp_path: Path
) -> None:
    # Checked whole before anything is written: the good first row is not imported either. (Blank lines,
    # skipped, put the bad byte past what reading the header decodes.)
    path = tmp_path / "groups.csv"
    text = HEADER + "5001,,1007,primary,,,973\n" + "\n" * 20000
    path.write_bytes(text.encode() + b"5001,,1008,m\xe9mber,,,973\n")

    result = run("import-groups", path, "--org", ORG_ID)

    assert result.code == 2
    assert result.err.startswith("points-admin: error: near line ")
    assert result.err.endswith(": the file is not UTF-8 text\n")
    assert _group_items(aws) == []


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_both_passes_show_a_progress_bar(
    run: Run, demo_customers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)

    result = run("import-groups", DEMO / "groups.csv", "--org", ORG_ID)

    assert result.lines == [_summary(3, 3, 0, 0, 0)]
    shown = terminal.getvalue()
    assert "groups.csv (checking)" in shown
    assert "groups.csv:" in shown
