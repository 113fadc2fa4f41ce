"""`points-admin apply-config` with `oauth_clients`: secrets stored only hashed, the list as desired state."""

from __future__ import annotations

from pathlib import Path

import pytest

from points_core.domain.models import OAuthClient
from points_core.domain.passwords import verify_secret
from points_core.repositories import login_repository
from tests.admin.conftest import DEMO, ORG_ID, Run
from tests.conftest import Aws

ORG = """\
org_id: 300
name: OAuth org
country_code: "44"
programs: [{program_id: 1, points_currency_ratio: "1"}]
stores: [{store_id: "S1", program_id: 1}]
tills:
  - {username: till.one, password: till-one-password, store_id: S1}
  - {username: till.two, password: till-two-password, store_id: S1}
"""
SECRET = "client-one-secret-0123"


def write(tmp_path: Path, clients: str | None, org: str = ORG) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(org + (f"oauth_clients:\n{clients}" if clients is not None else ""))
    return path


ONE = f"  - {{key: client-one, secret: {SECRET}, till: till.one, token_minutes: 30}}\n"
TWO = "  - {key: client-two, secret: client-two-secret-4567, till: till.two, enabled: false}\n"


def client(key: str) -> OAuthClient | None:
    return login_repository().oauth_client(key)


def test_clients_are_applied_with_their_till_lifetime_and_state(run: Run, tmp_path: Path) -> None:
    result = run("apply-config", write(tmp_path, ONE + TWO))

    assert result.code == 0, result.err
    assert (
        result.lines[-1]
        == "oauth clients: 2 added (client-one, client-two), 0 updated, 0 unchanged, 0 removed"
    )
    one, two = client("client-one"), client("client-two")
    assert one is not None and (one.org_id, one.till_id, one.token_minutes, one.enabled) == (
        300,
        "till.one",
        30,
        True,
    )
    assert two is not None and (two.till_id, two.token_minutes, two.enabled) == ("till.two", 60, False)
    assert login_repository().oauth_client_keys(300) == ["client-one", "client-two"]


def test_the_secret_is_stored_only_as_a_salted_slow_hash(run: Run, aws: Aws, tmp_path: Path) -> None:
    run("apply-config", write(tmp_path, ONE))

    items = aws.dynamodb.scan(TableName=aws.tables["ConfigTable"])["Items"]
    assert SECRET not in str(items)
    stored = client("client-one")
    assert stored is not None and stored.secret_hash.startswith("scrypt$16384$8$1$")
    assert verify_secret(SECRET, stored.secret_hash)


def test_the_secret_is_never_printed(run: Run, tmp_path: Path) -> None:
    result = run("apply-config", write(tmp_path, ONE))
    bad = run("apply-config", write(tmp_path, "  - {key: client-one, secret: Sh0rtS3cret, till: till.one}\n"))

    assert SECRET not in result.out + result.err
    assert bad.code == 2
    assert "Sh0rtS3cret" not in bad.out + bad.err


def test_applying_again_changes_nothing_and_a_changed_secret_updates(
    run: Run, aws: Aws, tmp_path: Path
) -> None:
    run("apply-config", write(tmp_path, ONE + TWO))
    before = aws.dynamodb.scan(TableName=aws.tables["ConfigTable"])["Items"]

    again = run("apply-config", write(tmp_path, ONE + TWO))
    assert again.lines[-1] == "oauth clients: 0 added, 0 updated, 2 unchanged, 0 removed"
    assert sorted(map(str, aws.dynamodb.scan(TableName=aws.tables["ConfigTable"])["Items"])) == sorted(
        map(str, before)
    )

    changed = run("apply-config", write(tmp_path, ONE.replace(SECRET, "a-new-secret-for-one") + TWO))
    assert changed.lines[-1] == "oauth clients: 0 added, 1 updated (client-one), 1 unchanged, 0 removed"
    stored = client("client-one")
    assert stored is not None and verify_secret("a-new-secret-for-one", stored.secret_hash)


def test_disabling_a_client_is_an_update(run: Run, tmp_path: Path) -> None:
    run("apply-config", write(tmp_path, ONE))
    result = run("apply-config", write(tmp_path, ONE.replace("}", ", enabled: false}")))
    assert result.lines[-1] == "oauth clients: 0 added, 1 updated (client-one), 0 unchanged, 0 removed"
    stored = client("client-one")
    assert stored is not None and not stored.enabled


def test_clients_no_longer_listed_are_removed_and_a_file_without_the_list_keeps_them(
    run: Run, tmp_path: Path
) -> None:
    run("apply-config", write(tmp_path, ONE + TWO))

    kept = run("apply-config", write(tmp_path, None))
    assert not any(line.startswith("oauth clients") for line in kept.lines)
    assert client("client-two") is not None

    removed = run("apply-config", write(tmp_path, ONE))
    assert removed.lines[-1] == "oauth clients: 0 added, 0 updated, 1 unchanged, 1 removed (client-two)"
    assert client("client-two") is None

    none = run("apply-config", write(tmp_path, "  []\n"))
    assert none.lines[-1] == "oauth clients: 0 added, 0 updated, 0 unchanged, 1 removed (client-one)"
    assert login_repository().oauth_client_keys(300) == []


@pytest.mark.parametrize(
    ("clients", "problem"),
    [
        (
            "  - {key: client-one, secret: " + SECRET + ", till: nobody}\n",
            "oauth_clients[0].till: not one of the file's tills (till.one, till.two)",
        ),
        (
            "  - {key: short, secret: " + SECRET + ", till: till.one}\n",
            "oauth_clients[0].key: must have at least 8 characters",
        ),
        (
            "  - {key: client-one, secret: tooshort, till: till.one}\n",
            "oauth_clients[0].secret: must have at least 16 characters",
        ),
        (
            "  - {key: client-one, secret: " + SECRET + ", till: till.one, token_minutes: 61}\n",
            "oauth_clients[0].token_minutes: must be less than or equal to 60",
        ),
        ("  - {key: client-one, till: till.one}\n", "oauth_clients[0].secret: required"),
        (
            "  - {key: client-one, secret: " + SECRET + ", till: till.one, scope: all}\n",
            "oauth_clients[0].scope: unknown field",
        ),
        (ONE + ONE, "oauth_clients[1].key: client-one is listed twice"),
        ("  client-one\n", "oauth_clients: must be a list"),
    ],
)
def test_bad_clients_are_reported_with_their_path_and_nothing_is_written(
    run: Run, aws: Aws, tmp_path: Path, clients: str, problem: str
) -> None:
    result = run("apply-config", write(tmp_path, clients))

    assert result.code == 2
    assert f"  {problem}\n" in result.err
    assert aws.dynamodb.scan(TableName=aws.tables["ConfigTable"])["Items"] == []


def test_a_key_of_another_org_is_refused_and_nothing_is_written(run: Run, aws: Aws, tmp_path: Path) -> None:
    run("apply-config", write(tmp_path, ONE))
    before = aws.dynamodb.scan(TableName=aws.tables["ConfigTable"])["Items"]
    other = (
        ORG.replace("org_id: 300", "org_id: 301")
        .replace("till.one", "other.one")
        .replace("till.two", "other.two")
    )

    result = run("apply-config", write(tmp_path, ONE.replace("till.one", "other.one"), other))

    assert result.code == 2
    assert "oauth_clients[0].key: client-one belongs to another org" in result.err
    assert sorted(map(str, aws.dynamodb.scan(TableName=aws.tables["ConfigTable"])["Items"])) == sorted(
        map(str, before)
    )


def test_the_demo_file_has_a_client_of_the_demo_till(run: Run) -> None:
    result = run("apply-config", DEMO / "org.yaml")
    assert result.lines[-1] == "oauth clients: 1 added (demo-pos-client), 0 updated, 0 unchanged, 0 removed"
    demo = client("demo-pos-client")
    assert demo is not None and (demo.org_id, demo.till_id, demo.enabled) == (ORG_ID, "demo.till", True)
    assert verify_secret("demo-pos-client-secret", demo.secret_hash)
