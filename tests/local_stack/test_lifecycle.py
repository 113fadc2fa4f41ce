"""Starting and stopping a LocalStack, and loading the demo data through the operator tool."""

from __future__ import annotations

import multiprocessing
import os
import sys
import types
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from moto.sns.models import SNSBackend

from points_local.stack import DEMO_FILES, DemoLoadError, LocalStack, load_demo
from tests.local_stack.sample_app import write_sample_app


def _fake_admin(monkeypatch: pytest.MonkeyPatch, main: Callable[[list[str]], int | None]) -> None:
    """Stand in for the operator tool's `points_admin.cli`."""
    module = types.ModuleType("points_admin.cli")
    module.main = main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "points_admin.cli", module)


def _demo_files(folder: Path) -> Path:
    folder.mkdir()
    for file_name in DEMO_FILES:
        (folder / file_name).write_text("")
    (folder / "org.yaml").write_text("org_id: 42\nname: Sample\n")
    return folder


@pytest.mark.e2e
def test_the_stack_stops_everything_it_started(tmp_path: Path) -> None:
    # Given
    environment_before = dict(os.environ)
    sns_publish = SNSBackend.publish

    # When
    with LocalStack(write_sample_app(tmp_path), port=0, load_demo=False) as stack:
        assert stack.invoke("SleepFunction", {}).ok
        assert os.environ["AWS_ENDPOINT_URL"] == stack.aws_endpoint_url
        api_url = stack.api_url

    # Then
    assert multiprocessing.active_children() == []
    assert dict(os.environ) == environment_before
    assert SNSBackend.publish is sns_publish  # the outbox no longer listens
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(api_url + "/health", timeout=5)


@pytest.mark.e2e
def test_the_demo_is_loaded_through_the_operator_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given
    calls = []

    def admin(argv: list[str]) -> int:
        calls.append((argv, os.environ.get("ITEMS_TABLE")))
        return 0

    _fake_admin(monkeypatch, admin)
    demo = _demo_files(tmp_path / "demo")

    # When
    with LocalStack(write_sample_app(tmp_path), port=0) as stack:
        loaded = stack.demo_loaded

    # Then: in order, with the tables named as the functions see them
    assert calls == [
        (["apply-config", str(demo / "org.yaml")], "ItemsTable"),
        (["import-customers", str(demo / "customers.csv"), "--org", "42"], "ItemsTable"),
        (["import-allocations", str(demo / "allocations.csv"), "--org", "42"], "ItemsTable"),
        (["import-groups", str(demo / "groups.csv"), "--org", "42"], "ItemsTable"),
    ]
    assert loaded == [" ".join(argv) for argv, _ in calls]
    assert "ITEMS_TABLE" not in os.environ


@pytest.mark.e2e
def test_a_failing_demo_load_stops_the_stack_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given
    def admin(argv: list[str]) -> int:
        if argv[0] == "import-customers":
            raise SystemExit(2)
        return 0

    _fake_admin(monkeypatch, admin)
    _demo_files(tmp_path / "demo")
    environment_before = dict(os.environ)

    # When
    with pytest.raises(DemoLoadError, match=r"points-admin import-customers .* --org 42 exited with 2"):
        LocalStack(write_sample_app(tmp_path), port=0).start()

    # Then: nothing is left running, and another stack can start
    assert dict(os.environ) == environment_before
    assert multiprocessing.active_children() == []
    with LocalStack(tmp_path / "template.yaml", port=0, load_demo=False):
        pass


def test_missing_demo_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(DemoLoadError, match=r"org\.yaml not found .*--no-demo"):
        load_demo(tmp_path)


def test_an_org_file_without_org_id_is_reported(tmp_path: Path) -> None:
    demo = _demo_files(tmp_path / "demo")
    (demo / "org.yaml").write_text("name: no id\n")

    with pytest.raises(DemoLoadError, match="has no readable org_id"):
        load_demo(demo)


def test_a_missing_operator_tool_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "points_admin.cli", None)

    with pytest.raises(DemoLoadError, match="cannot be imported"):
        load_demo(_demo_files(tmp_path / "demo"))


def test_only_loopback_addresses_are_served(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        LocalStack(write_sample_app(tmp_path), host="0.0.0.0")


@pytest.mark.e2e
def test_one_stack_at_a_time_per_process(tmp_path: Path) -> None:
    template = write_sample_app(tmp_path)
    with LocalStack(template, port=0, load_demo=False), pytest.raises(RuntimeError, match="already running"):
        LocalStack(template, port=0, load_demo=False).start()
