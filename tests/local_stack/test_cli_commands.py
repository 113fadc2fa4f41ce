"""`points-local invoke` and `generate-event` as a developer runs them (the console script in a subprocess,
each invocation in a fresh worker process), and the operator commands the `points-local` banner prints.

One `points-local` (the project's template, the demo data, free ports) serves the module: the sample events
are invoked against its AWS with `--endpoint-url`, as against a running `make run`. The rest start the
embedded AWS of `invoke` itself, each in its own process.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from points_core.services.otp_cleanup import LOOKBACK_HOURS
from tests.infrastructure.cfn import event_file_for
from tests.local_stack.sample_app import write_sample_app

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"
BIN = Path(sys.executable).parent
POINTS_LOCAL = BIN / "points-local"
# What the module's stack banner says an operator runs from the project's folder.
VENV_PREFIX = ".venv/bin/"
TIMEOUT = 120


def _environment() -> dict[str, str]:
    """A developer's shell: none of the suite's AWS, Powertools or secret settings (tests/conftest.py)."""
    prefixes = ("AWS_", "POWERTOOLS_", "OTP_SECRET", "OAUTH_SIGNING_SECRET", "CONFIG_CACHE_SECONDS")
    return {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}


def _run(*argv: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(POINTS_LOCAL), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_environment(),
        timeout=TIMEOUT,
        check=False,
    )


def _invoked(result: subprocess.CompletedProcess[str]) -> Any:
    """The function's answer: stdout holds exactly one JSON document, and nothing else."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _body(answer: Any) -> Any:
    assert answer["statusCode"] == 200, answer
    return json.loads(answer["body"])


@dataclass
class Running:
    """A `points-local` serving the project's template with the demo data."""

    process: subprocess.Popen[bytes]
    console: Path
    banner: str
    aws_url: str

    def wait_for(self, text: str, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            content = self.console.read_text()
            if text in content:
                return content
            assert self.process.poll() is None, f"points-local exited: {content}"
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on the console of points-local")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    console = tmp_path_factory.mktemp("points-local") / "console"
    with console.open("wb") as out:
        process = subprocess.Popen(
            [str(POINTS_LOCAL), "--port", "0", "--moto-port", "0"],
            stdout=out,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env=_environment(),
            start_new_session=True,
        )
    try:
        stack = Running(process, console, "", "")
        stack.banner = stack.wait_for("Press Ctrl-C to stop.", seconds=90)
        found = re.search(r"AWS \(moto\) (http://\S+),", stack.banner)
        assert found is not None, stack.banner
        stack.aws_url = found.group(1)
        yield stack
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# The answer each sample event gets from its function on a stack with the demo data.


def _allows_the_demo_till(answer: Any, running: Running) -> None:
    assert answer["principalId"] == "demo.till"
    assert answer["context"] == {"org_id": "100737", "till_id": "demo.till", "store_id": "501"}
    (statement,) = answer["policyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "execute-api:Invoke")
    assert isinstance(answer["usageIdentifierKey"], str)
    assert answer["usageIdentifierKey"]


def _jane_can_redeem_100(answer: Any, running: Running | None = None) -> None:
    redeemable = _body(answer)["response"]["points"]["redeemable"]
    assert redeemable["item_status"] == {"success": "true", "code": 800, "message": "Points can be redeemed"}
    assert (redeemable["mobile"], redeemable["points"], redeemable["is_redeemable"]) == (
        "919000000001",
        100,
        "true",
    )
    assert redeemable["points_redeem_value"] == 50  # 1 point = 0.5 INR in program 973


def _token_for_the_demo_client(answer: Any, running: Running) -> None:
    body = _body(answer)
    assert body["errors"] is None
    assert body["data"]["ttlSeconds"] == 3600
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", body["data"]["accessToken"])


def _nothing_expired_yet(answer: Any, running: Running) -> None:
    assert answer == {"removed": 0, "already_gone_or_renewed": 0, "hours_read": LOOKBACK_HOURS + 1}


def _code_sent_to_jane(answer: Any, running: Running) -> None:
    code = _body(answer)["response"]["validation_code"]["code"]
    assert code["item_status"] == {
        "success": "true",
        "code": 200,
        "message": "Validation Code Issued by SMS and Email",
    }
    assert (code["user_id"], code["mobile"], code["points"]) == ("1001", "919000000001", 100)
    # Sent through the SNS of the stack it ran against, which prints it (masked) on its console.
    running.wait_for("points-local: validation code by sms to 91******0001")


SAMPLE_EVENT_ANSWERS: dict[str, tuple[str, Callable[[Any, Running], None]]] = {
    "authorizer.json": ("AuthorizerFunction", _allows_the_demo_till),
    "is_redeemable.json": ("IsRedeemableFunction", _jane_can_redeem_100),
    "oauth_token.json": ("OauthTokenFunction", _token_for_the_demo_client),
    "otp_cleanup.json": ("OtpCleanupFunction", _nothing_expired_yet),
    "validation_code.json": ("ValidationCodeFunction", _code_sent_to_jane),
}
# Redeem, then reverse part of that redemption: one test, in order.
REDEEM_THEN_REVERSE = ("redeem.json", "revert.json")


def test_every_sample_event_is_invoked_here() -> None:
    assert {path.name for path in EVENTS.glob("*.json")} == {*SAMPLE_EVENT_ANSWERS, *REDEEM_THEN_REVERSE}
    for name, (function_id, _) in SAMPLE_EVENT_ANSWERS.items():
        assert event_file_for(function_id).name == name


@pytest.mark.parametrize("event_file", sorted(SAMPLE_EVENT_ANSWERS))
def test_a_sample_event_gets_its_functions_answer(running: Running, event_file: str) -> None:
    function_id, expect = SAMPLE_EVENT_ANSWERS[event_file]

    result = _run("invoke", function_id, "-e", f"events/{event_file}", "--endpoint-url", running.aws_url)

    expect(_invoked(result), running)
    # Only the answer is on stdout: the function's metrics, which Powertools prints on stdout, and Lambda's
    # report are on stderr.
    assert '{"_aws":' in result.stderr
    assert "REPORT RequestId: " in result.stderr


def test_the_sample_redemption_then_its_sample_reversal(running: Running) -> None:
    # When
    redeemed = _body(
        _invoked(
            _run("invoke", "RedeemFunction", "-e", "events/redeem.json", "--endpoint-url", running.aws_url)
        )
    )
    reversed_ = _body(
        _invoked(
            _run("invoke", "RevertFunction", "-e", "events/revert.json", "--endpoint-url", running.aws_url)
        )
    )

    # Then: Jane's 100 points redeemed on the bill, then 50 of them back
    points = redeemed["response"]["responses"]["points"]
    assert points["item_status"] == {"success": "true", "code": 800, "message": "Points Redeemed"}
    assert (points["user_id"], points["points_redeemed"], points["redeemed_value"]) == ("1001", "100", 50)
    assert points["balance"] == 1900
    assert reversed_["redemptionId"] == points["redemption_id"]
    assert (reversed_["pointsToBeReversed"], reversed_["pointsReversed"]) == (50, 50)
    assert reversed_["pointsReversedDetails"] == {"available": 50, "expired": 0}
    assert reversed_["warnings"] == []


def test_a_raising_authorizer_exits_non_zero_with_its_error_as_lambda_reports_it(running: Running) -> None:
    # Given: the request of a till with a wrong password
    event = _run("generate-event", "apigateway", "authorizer", "--user", "demo.till:wrong")
    assert event.returncode == 0, event.stderr

    # When
    result = _run(
        "invoke", "AuthorizerFunction", "-e", "-", "--endpoint-url", running.aws_url, stdin=event.stdout
    )

    # Then: what API Gateway turns into its 401
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert (error["errorType"], error["errorMessage"]) == ("Exception", "Unauthorized")
    uuid.UUID(error["requestId"])
    assert error["stackTrace"]
    assert '"message":"authentication failed"' in result.stderr


def test_an_endpoint_without_the_templates_resources_is_refused_naming_them(
    running: Running, tmp_path: Path
) -> None:
    template = write_sample_app(tmp_path)

    result = _run("invoke", "EchoFunction", "--template", str(template), "--endpoint-url", running.aws_url)

    assert result.returncode == 2
    assert result.stdout == ""
    assert f"the AWS at {running.aws_url} (region eu-west-1) has no table ItemsTable, topic EventsTopic" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_an_endpoint_where_nothing_listens_is_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # closed again before it is used

    result = _run("invoke", "IsRedeemableFunction", "--endpoint-url", url)

    assert result.returncode == 2
    assert f"cannot use the AWS at {url}: Could not connect" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_operator_commands_the_banner_prints_work_as_printed(running: Running) -> None:
    # Given: a stack on ports other than the defaults, whose banner tells how to reach it
    tool = re.search(r"operator tool on this stack: (.+) COMMAND \.\.\.$", running.banner, re.MULTILINE)
    wallet = re.search(r"^  a wallet: (.+)$", running.banner, re.MULTILINE)
    assert tool is not None, running.banner
    assert wallet is not None, running.banner
    assert f"--endpoint-url {running.aws_url}" in tool.group(1)

    # When: run exactly as printed, from the project's folder
    answers = [
        subprocess.run(
            shlex.split(command),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=_environment(),
            timeout=TIMEOUT,
            check=False,
        )
        for command in (f"{tool.group(1)} wallet --org 100737 --mobile 919000000001", wallet.group(1))
    ]

    # Then: Jane's wallet, both times
    for answer in answers:
        assert answer.returncode == 0, answer.stderr
        assert answer.stdout.startswith("customer 1001 in org 100737 Demo Retail"), answer.stdout
        assert "program 973 Demo Rewards" in answer.stdout


def test_generate_event_piped_into_invoke_as_the_readme_runs_it() -> None:
    # The README's command, with this virtualenv's console script; invoke starts its own AWS and demo data.
    command = (
        f"{POINTS_LOCAL} generate-event apigateway aws-proxy --method GET --path /v1.1/points/isredeemable "
        f"--query 'format=json&mobile=919000000001&points=100' "
        f"| {POINTS_LOCAL} invoke IsRedeemableFunction -e -"
    )

    result = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_environment(),
        timeout=TIMEOUT,
        check=False,
    )

    _jane_can_redeem_100(_invoked(result))
    # The demo's loading and the function's logs went to stderr.
    assert "org 100737 (Demo Retail): created" in result.stderr
    assert '"message":"redeemability checked"' in result.stderr


def test_without_the_demo_data_the_org_is_not_configured() -> None:
    result = _run("invoke", "IsRedeemableFunction", "-e", "events/is_redeemable.json", "--no-demo")

    redeemable = _body(_invoked(result))["response"]["points"]["redeemable"]
    assert (
        redeemable["item_status"]["code"] == 895
    )  # "Loyalty program is not configured for your organization"
    assert "Demo Retail" not in result.stderr


def test_an_unknown_function_is_refused_before_anything_starts() -> None:
    result = _run("invoke", "NoSuchFunction")

    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        "no function NoSuchFunction in template.yaml: AuthorizerFunction, IsRedeemableFunction"
        in result.stderr
    )


# The sample app of sample_app.py: handlers that show their context and environment, raise or run too long.


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_app(tmp_path_factory.mktemp("sample-app"))


def test_env_vars_context_and_a_generated_event_reach_the_handler(sample_app: Path, tmp_path: Path) -> None:
    # Given: SAM's --env-vars format; AWS_LAMBDA_FUNCTION_NAME and UNDECLARED are not the template's to set
    env_vars = tmp_path / "env.json"
    env_vars.write_text(
        json.dumps(
            {
                "Parameters": {"GREETING": "hi from Parameters", "ECHO_ONLY": "Parameters'"},
                "EchoFunction": {
                    "ECHO_ONLY": "its own",
                    "AWS_LAMBDA_FUNCTION_NAME": "renamed",
                    "UNDECLARED": "x",
                },
                "SleepFunction": {"GREETING": "not EchoFunction's"},
            }
        )
    )
    event = _run(
        "generate-event", "apigateway", "aws-proxy", "--path", "/items/42", "--template", str(sample_app)
    )
    assert event.returncode == 0, event.stderr

    # When
    result = _run(
        "invoke",
        "EchoFunction",
        "-e",
        "-",
        "--env-vars",
        str(env_vars),
        "--template",
        str(sample_app),
        "--no-demo",
        stdin=event.stdout,
    )

    # Then
    echoed = _body(_invoked(result))
    assert echoed["environment"] == {
        "GREETING": "hi from Parameters",
        "ITEMS_TABLE": "ItemsTable",
        "EVENTS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:EventsTopic",
        "ECHO_ONLY": "its own",
        "AWS_LAMBDA_FUNCTION_NAME": "EchoFunction",
        "TZ": ":UTC",
    }
    assert "AWS_LAMBDA_FUNCTION_NAME, UNDECLARED not in EchoFunction's template environment, ignored" in (
        result.stderr
    )
    # The template's MemorySize and Timeout (256 MB, 3 s) in the Lambda context
    context = echoed["context"]
    assert (context["function_name"], context["memory_limit_in_mb"]) == ("EchoFunction", "256")
    assert 2000 < context["remaining_ms"] <= 3000
    assert "Memory Size: 256 MB" in result.stderr
    # The generated event, for the sample template's route
    assert (echoed["resource"], echoed["path"], echoed["pathParameters"]) == (
        "/items/{id}",
        "/items/42",
        {"id": "42"},
    )
    assert echoed["stage"] == "test"
    assert echoed["authorizer"]["till_id"] == "demo.till"


def test_a_raising_handler_exits_1_with_errortype_and_errormessage(sample_app: Path) -> None:
    result = _run("invoke", "FailingFunction", "--template", str(sample_app), "--no-demo")

    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "the handler failed")
    uuid.UUID(error["requestId"])
    assert any("raise RuntimeError" in frame for frame in error["stackTrace"])
    # Logged by the runtime too, as Lambda does
    assert '"errorType": "RuntimeError"' in result.stderr


def test_a_handler_past_its_timeout_is_stopped_and_exits_1(sample_app: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"queryStringParameters": {"seconds": "5"}}))

    started = time.monotonic()
    result = _run("invoke", "SlowFunction", "-e", str(event), "--template", str(sample_app), "--no-demo")

    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert (error["errorType"], error["errorMessage"]) == (
        "Sandbox.Timedout",
        "Task timed out after 1.00 seconds",
    )
    assert time.monotonic() - started < 5


def test_a_handler_that_cannot_be_imported_exits_1(sample_app: Path) -> None:
    result = _run("invoke", "MisconfiguredFunction", "--template", str(sample_app), "--no-demo")

    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'missing_module'" in error["errorMessage"]


def test_make_invoke_prints_the_functions_result_alone() -> None:
    # When: the README's make target, as a developer types it
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "invoke",
            "FUNCTION=OtpCleanupFunction",
            "EVENT=events/otp_cleanup.json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_environment(),
        timeout=TIMEOUT,
        check=False,
    )

    # Then: stdout is the function's JSON and nothing else
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "removed": 0,
        "already_gone_or_renewed": 0,
        "hours_read": LOOKBACK_HOURS + 1,
    }
