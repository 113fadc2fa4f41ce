"""schemathesis against the whole service over HTTP: docs/openapi.json, every operation, every check, as
schemathesis.toml sets it (seeded, bounded in time). Any failure fails the test, with schemathesis' report."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.factories import TILL, TILL_PASSWORD, client_password

pytestmark = pytest.mark.e2e

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = ROOT / "schemathesis.toml"
# The run's own budget is max-time in schemathesis.toml; this only stops a run that hangs.
HANG_SECONDS = 600


def test_schemathesis_finds_no_failure_in_any_operation(stack_url: str, tmp_path: Path) -> None:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        str(ROOT / "docs" / "openapi.json"),
        "--url",
        stack_url,
        "--auth",
        f"{TILL}:{client_password(TILL_PASSWORD)}",
        "--checks",
        "all",
        "--report-dir",
        str(tmp_path),
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=HANG_SECONDS, check=False)
    report = f"{' '.join(command)}\n{run.stdout}\n{run.stderr}"
    assert run.returncode == 0, report
    # Every operation was tested, not skipped or errored.
    selected = re.search(r"Selected: (\d+)/(\d+)", run.stdout)
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert selected and tested, report
    assert int(tested.group(1)) == int(selected.group(1)) == int(selected.group(2)), report
    print(run.stdout)  # what was run and found, for `pytest -rP`
