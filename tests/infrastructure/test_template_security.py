"""checkov finds nothing in the CloudFormation that template.yaml deploys, but the checks skipped below.

checkov runs on the SAM-transformed template (what CloudFormation receives: the functions' roles, the stage),
offline. It lives in a virtualenv of its own, `.venv/checkov`, that `make` installs pinned from
constraints-checkov.txt: it pins boto3, networkx and packaging older than the project's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .cfn import ROOT, tool

pytestmark = pytest.mark.infra

# The one list of checks the template does not pass, each with why. README.md's "Security checks" says the
# same, line for line (checked below). A check that passes again must leave the list.
SKIPPED_CHECKS = {
    "CKV_AWS_116": (
        "a dead-letter queue only receives failed asynchronous invocations: API Gateway calls the endpoint "
        "functions and the authorizer synchronously (the caller gets the error), and a failed OTP cleanup "
        "run is done again by the next one five minutes later, with TTL behind it"
    ),
    "CKV_AWS_117": (
        "the functions reach nothing but AWS's public endpoints (DynamoDB, SNS, Secrets Manager), signed "
        "with their role; a VPC would need a NAT gateway or interface endpoints and would protect nothing, "
        "as the stack has no private resource"
    ),
    "CKV_AWS_119": (
        "the tables are encrypted at rest with the AWS managed key (SSESpecification); a customer managed "
        "key adds a key policy to keep and a cost per key and request, and buys key control this service "
        "does not need: add one to the tables if your policy asks for it"
    ),
    "CKV_AWS_120": (
        "every answer depends on the customer's live balance and codes, and POSTs change them: a cache "
        "would answer stale balances, keyed by query strings that carry mobiles and codes; the authorizer "
        "has its own cache"
    ),
    "CKV_AWS_149": (
        "the OTP and OAuth signing secrets are encrypted with the AWS managed key (aws/secretsmanager); read "
        "by the functions' roles only, a customer managed key would not narrow who can read them"
    ),
    "CKV_AWS_158": (
        "CloudWatch Logs encrypts every log group at rest; a customer managed key would add a key policy "
        "to keep for logs that hold ids, masked identifiers and outcomes, never a code, a credential or a "
        "query string"
    ),
    "CKV_AWS_173": (
        "the environment variables are encrypted at rest with the AWS managed key (aws/lambda) and hold "
        "only table names, a topic ARN, the secrets' ARNs and numbers, never a secret"
    ),
}
README = ROOT / "README.md"
SECURITY_SECTION = "### Security checks"
_SKIP_LINE = re.compile(r"^- `(?P<check>CKV2?_AWS_\d+)`: (?P<reason>.+)$")


def _checkov() -> str:
    """checkov of the project's own virtualenv (.venv/checkov beside .venv/bin), else from PATH."""
    candidate = Path(sys.prefix) / "checkov" / "bin" / "checkov"
    return str(candidate) if candidate.exists() else tool("checkov")


def _failed_checks(transformed: dict[str, Any], folder: Path) -> dict[str, set[str]]:
    """check id -> the resources that fail it."""
    path = folder / "template.json"
    path.write_text(json.dumps(transformed, indent=1))
    result = subprocess.run(
        [
            _checkov(),
            "--file",
            str(path),
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--skip-download",
        ],
        cwd=folder,
        # Offline: no mapping or guideline download, no look-up of a newer checkov.
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # checkov exits 1 when a check fails; anything else is checkov failing.
    assert result.returncode in (0, 1), result.stdout + result.stderr
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["parsing_errors"] == 0, summary
    assert summary["resource_count"] > 0 and summary["passed"] > 0, summary
    failed: dict[str, set[str]] = {}
    for check in report["results"]["failed_checks"]:
        failed.setdefault(check["check_id"], set()).add(check["resource"])
    return failed


def test_checkov_finds_nothing_but_the_skipped_checks(transformed: dict[str, Any], tmp_path: Path) -> None:
    failed = _failed_checks(transformed, tmp_path)

    unexpected = {check: sorted(found) for check, found in failed.items() if check not in SKIPPED_CHECKS}
    stale = sorted(set(SKIPPED_CHECKS) - set(failed))
    assert unexpected == {}, "fix these, or skip them with a reason in SKIPPED_CHECKS and the README"
    assert stale == [], "these pass now: take them out of SKIPPED_CHECKS and the README"


def _readme_skips() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    assert SECURITY_SECTION in text, f"README.md has no {SECURITY_SECTION!r} section"
    section = text.split(SECURITY_SECTION, 1)[1]
    section = re.split(r"^#", section, maxsplit=1, flags=re.MULTILINE)[0]
    return {
        match["check"]: match["reason"] for line in section.splitlines() if (match := _SKIP_LINE.match(line))
    }


def test_the_readme_gives_each_skipped_check_with_the_same_reason() -> None:
    readme = _readme_skips()
    assert readme == {check: f"{reason}." for check, reason in SKIPPED_CHECKS.items()}
