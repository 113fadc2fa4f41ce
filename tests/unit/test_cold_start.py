"""Nothing happens at import time beyond definitions: importing a function creates no AWS client of ours.

The one client allowed is X-Ray's: Powertools' Tracer imports the X-Ray SDK, whose sampler builds an `xray`
client when tracing is on (as it is in Lambda). That is the price of tracing, not our code.

redeem and revert use Powertools' idempotency utility, whose DynamoDB persistence layer builds its boto3
client in its constructor: the probe below records every client, so a persistence layer built at import
fails it (the last test shows it does)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

FUNCTIONS = [
    "is_redeemable",
    "validation_code",
    "redeem",
    "revert",
    "authorizer",
    "otp_cleanup",
    "oauth_token",
]

# Every boto3/botocore client is made by botocore's Session.create_client: record each one, and fail at the
# end, so that a client made where an exception would be swallowed is seen too.
RECORD_CLIENTS = (
    "import botocore.session\n"
    "create = botocore.session.Session.create_client\n"
    "created = []\n"
    "def recording(self, service, *args, **kwargs):\n"
    "    created.append(service)\n"
    "    return create(self, service, *args, **kwargs)\n"
    "botocore.session.Session.create_client = recording\n"
)
ONLY_XRAY = (
    "\nunexpected = sorted(set(created) - {'xray'})\n"
    "assert not unexpected, f'{unexpected} client created at import time'\n"
)


def _run_with_probe(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RECORD_CLIENTS + code + ONLY_XRAY],
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


def test_every_function_is_checked() -> None:
    folders = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))
    assert folders == sorted(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_importing_a_function_creates_no_aws_client(function: str) -> None:
    result = _run_with_probe(f"import functions.{function}.app")
    assert result.returncode == 0, result.stderr


def test_the_probe_fails_an_idempotency_store_built_at_import() -> None:
    result = _run_with_probe(
        "from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer\n"
        "DynamoDBPersistenceLayer(table_name='IdempotencyTable')"
    )
    assert result.returncode != 0
    assert "['dynamodb'] client created at import time" in result.stderr
