"""cfn-lint and `sam validate --lint` find nothing in template.yaml (both run offline, no credentials).

A rule that must be silenced is ignored in the template itself (Metadata: cfn-lint: config: ignore_checks,
on the resource, with a comment saying why), never here or globally.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from .cfn import ROOT, SAMCONFIG, TEMPLATE, run_sam, tool

pytestmark = pytest.mark.infra


def test_cfn_lint_reports_no_errors_and_no_warnings() -> None:
    result = subprocess.run(
        [tool("cfn-lint"), "--format", "json", "--", str(TEMPLATE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    matches = json.loads(result.stdout or "[]")
    findings = [
        f"{m['Rule']['Id']} {m['Level']} at line {m['Location']['Start']['LineNumber']}: {m['Message']}"
        for m in matches
    ]
    assert findings == [], "cfn-lint findings:\n" + "\n".join(findings)
    assert result.returncode == 0, result.stderr


def test_sam_validate_lint_passes_offline() -> None:
    result = run_sam(
        "validate",
        "--lint",
        "--template",
        str(TEMPLATE),
        "--config-file",
        str(SAMCONFIG),
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr
