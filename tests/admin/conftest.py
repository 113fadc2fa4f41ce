"""The operator tool run in-process against moto: `points-admin` as the local stack and an operator use it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from points_admin.cli import main
from tests.conftest import ROOT, Aws

DEMO = ROOT / "demo"
ORG_ID = 100737
# A whole mobile number (a masked one has asterisks in it), and an email address with an unmasked local part.
_MOBILE = re.compile(r"(?<![\w-])\+?\d{10,15}(?!\w)")
_EMAIL = re.compile(r"[^\s*@]+@[^\s*@]+\.\w+")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def assert_no_pii(self) -> None:
        """No mobile number or email address appears unmasked, whatever the command printed."""
        text = self.out + self.err
        assert not _MOBILE.search(text), text
        assert not _EMAIL.search(text), text


Run = Callable[..., Result]


@pytest.fixture
def usage_plan(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> str:
    """The stack's usage plan, in moto's API Gateway, where apply-config puts the tills' API keys (found
    through USAGE_PLAN_ID, as the table names are through their variables)."""
    plan_id = str(boto3.client("apigateway").create_usage_plan(name="PointsApiUsagePlan")["id"])
    monkeypatch.setenv("USAGE_PLAN_ID", plan_id)
    return plan_id


@pytest.fixture
def run(aws: Aws, usage_plan: str, capsys: pytest.CaptureFixture[str]) -> Run:
    """`points-admin ARGS…` in-process; every run's output is checked for unmasked PII."""

    def invoke(*argv: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(arg) for arg in argv])
        captured = capsys.readouterr()
        result = Result(code, captured.out, captured.err)
        result.assert_no_pii()
        return result

    return invoke


def assert_refused(
    run: Run,
    subtests: pytest.Subtests,
    command: tuple[str, ...],
    cases: list[tuple[tuple[str, ...], int, str]],
    *,
    whole_line: bool = True,
) -> None:
    """`command` with each case's arguments is refused, in a subtest named by its message: the case's exit
    code, nothing on stdout, one line on stderr: `points-admin: error: ` and the message (or, not
    `whole_line`, a line that begins with it)."""
    for arguments, code, message in cases:
        with subtests.test(message):
            result = run(*command, *arguments)

            assert result.code == code
            assert result.out == ""
            if whole_line:
                assert result.err == f"points-admin: error: {message}\n"
            else:
                assert result.err.startswith(f"points-admin: error: {message}")
                assert len(result.err.splitlines()) == 1


@pytest.fixture
def demo_org(run: Run) -> None:
    assert run("apply-config", DEMO / "org.yaml").code == 0


@pytest.fixture
def demo_customers(run: Run, demo_org: None) -> None:
    assert run("import-customers", DEMO / "customers.csv", "--org", ORG_ID).code == 0


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def write_file(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write_file
