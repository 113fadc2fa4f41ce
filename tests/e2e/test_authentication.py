"""Authentication over HTTP: a till locked out by repeated wrong passwords."""

from __future__ import annotations

from pathlib import Path

import pytest

from points_admin.cli import main as admin
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

IS_REDEEMABLE = "/v1.1/points/isredeemable"
AUTH_ORG = 100951
AUTH_ORG_YAML = f"""
org_id: {AUTH_ORG}
name: Authentication tests
country_code: "91"
programs:
  - program_id: 1
    points_currency_ratio: "1"
stores:
  - store_id: "1"
    program_id: 1
tills:
  - username: lockout.till
    password: lockout-till-password
    store_id: "1"
"""


@pytest.fixture(scope="module")
def auth_org(api: Api, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("auth")
    (folder / "org.yaml").write_text(AUTH_ORG_YAML)
    assert admin([*api.admin_options, "apply-config", str(folder / "org.yaml")]) == 0
    return folder / "org.yaml"


def test_after_ten_wrong_passwords_the_right_one_is_401(api: Api, auth_org: Path) -> None:
    query = {"format": "json", "mobile": "919000000001", "points": "1"}
    for _ in range(10):
        assert api.get(IS_REDEEMABLE, query, user="lockout.till", password="wrong").status == 401
    locked = api.get(IS_REDEEMABLE, query, user="lockout.till", password="lockout-till-password")
    assert locked.status == 401
    assert locked.body["response"]["status"]["code"] == 401
    # The lock is this till's own: other tills are not affected.
    assert api.get(IS_REDEEMABLE, query).status == 200
