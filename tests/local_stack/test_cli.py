"""`points-local` as `make run` starts it: the banner, serving, messages sent printed as they are sent, and
a clean stop on Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests.local_stack.sample_app import write_sample_app

pytestmark = pytest.mark.e2e

CONSOLE_SCRIPT = Path(sys.executable).parent / "points-local"


@dataclass
class PointsLocal:
    process: subprocess.Popen[bytes]
    banner: str


def _wait_for(path: Path, text: str, process: subprocess.Popen[bytes], seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        content = path.read_text()
        if text in content:
            return content
        assert process.poll() is None, f"points-local exited early: {content}"
        time.sleep(0.1)
    raise AssertionError(f"{text!r} did not appear in {path}")


@contextmanager
def _points_local(tmp_path: Path, stdout: Path, stderr: Path | None = None) -> Iterator[PointsLocal]:
    """`points-local` serving the sample app (no demo data) until the block ends; its banner is printed."""
    template = write_sample_app(tmp_path / "app")
    with stdout.open("wb") as out, stderr.open("wb") if stderr else nullcontext(subprocess.DEVNULL) as err:
        process = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "--template", str(template), "--port", "0", "--no-demo"],
            stdout=out,
            stderr=err,
            cwd=tmp_path,
            start_new_session=True,
        )
    try:
        yield PointsLocal(process, _wait_for(stdout, "Press Ctrl-C to stop.", process))
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_points_local_serves_until_signalled(tmp_path: Path, stop_signal: signal.Signals) -> None:
    # Given
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with _points_local(tmp_path, stdout, stderr) as running:
        api_url = re.search(r"API (http://\S+)", running.banner)
        assert api_url is not None
        with urllib.request.urlopen(api_url.group(1) + "/health", timeout=30) as response:
            assert response.status == 200

        # When: Ctrl-C in a terminal reaches the whole process group, workers included
        if stop_signal == signal.SIGINT:
            os.killpg(running.process.pid, signal.SIGINT)
        else:
            running.process.send_signal(stop_signal)
        code = running.process.wait(timeout=30)

    # Then
    assert code == 0
    assert "Traceback" not in stderr.read_text()
    assert "/health 200" in stderr.read_text()
    assert "points-local: stopping" in stdout.read_text()


def test_points_local_refuses_a_bad_template_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text("not: a template\n")

    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "--template", str(tmp_path / "template.yaml"), "--no-demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "not a CloudFormation template" in result.stderr
    assert "Traceback" not in result.stderr


def test_points_local_prints_each_code_it_sends_with_the_destination_masked(tmp_path: Path) -> None:
    # Given
    stdout = tmp_path / "stdout"
    with _points_local(tmp_path, stdout) as running:
        moto_url = re.search(r"AWS \(moto\) (http://\S+),", running.banner)
        assert moto_url is not None
        sns = boto3.client(
            "sns",
            endpoint_url=moto_url.group(1),
            region_name="eu-west-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

        # When
        sns.publish(PhoneNumber="+919000000001", Message="123456 is your validation code")

        # Then
        console = _wait_for(stdout, "points-local: validation code by sms", running.process)
        running.process.send_signal(signal.SIGTERM)
        running.process.wait(timeout=30)
    assert "points-local: validation code by sms to 91******0001: 123456 is your validation code\n" in console
    assert "919000000001" not in console
