"""Nothing happens at import time beyond definitions: importing a function creates no AWS client of ours.

The one client allowed is X-Ray's: Powertools' Tracer imports the X-Ray SDK, whose sampler builds an `xray`
client when tracing is on (as it is in Lambda). That is the price of tracing, not our code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

FORBID_CLIENTS = (
    "import boto3.session, botocore.session\n"
    "create = botocore.session.Session.create_client\n"
    "def guarded(self, service, *args, **kwargs):\n"
    "    assert service == 'xray', f'{service} client created at import time'\n"
    "    return create(self, service, *args, **kwargs)\n"
    "botocore.session.Session.create_client = guarded\n"
)


@pytest.mark.parametrize("function", ["is_redeemable", "authorizer"])
def test_importing_a_function_creates_no_aws_client(function: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", FORBID_CLIENTS + f"import functions.{function}.app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "",
            "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/points_core/python'}",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "POWERTOOLS_TRACE_DISABLED": "false",
        },
    )
    assert result.returncode == 0, result.stderr
