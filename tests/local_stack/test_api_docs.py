"""The API docs on the project's template, on a local stack: /_local/openapi.json is what the code generates,
Swagger UI's files come from the pinned package with their media types, and headless Chromium (Debian's,
which `make test` installs when it is missing) renders /_local/docs listing every operation of
docs/openapi.json, with no request anywhere but the stack."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from points_local import api_docs, openapi
from points_local.stack import LocalStack
from tests.conftest import ROOT, TEMPLATE

pytestmark = pytest.mark.e2e

CHROMIUM_TIMEOUT_SECONDS = 120
_URL = re.compile(r"https?:[^\s\"'<>]*", re.IGNORECASE)
# Chromium's own traffic (network time, updates, sync, sign-in, spelling dictionaries) is switched off as far
# as flags go; what it still asks for now and then (an update check, the accounts list) goes to a closed port
# on loopback: Chromium never sends a loopback URL to a proxy, and sends every other one to it.
CLOSED_PROXY = "http://127.0.0.1:9"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-extensions",
    "--disable-sync",
    "--disable-client-side-phishing-detection",
    "--disable-features=NetworkTimeServiceQuerying,Translate,OptimizationHints,MediaRouter,SpellCheck",
    "--no-pings",
    f"--proxy-server={CLOSED_PROXY}",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    # Time in the page runs only while nothing is loading: the budget is spent once the page has settled.
    "--virtual-time-budget=15000",
    # the page's console (an error, a refused load: its Content-Security-Policy) on standard error
    "--enable-logging=stderr",
    "--v=0",
)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(TEMPLATE, port=0, load_demo=False, workers_per_function=1) as stack:
        yield stack


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads((ROOT / "docs/openapi.json").read_text())


@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes


def _get(stack: LocalStack, path: str, method: str = "GET") -> Answer:
    request = urllib.request.Request(stack.api_url + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, error.headers, error.read())


def test_the_document_served_is_what_the_code_generates(stack: LocalStack) -> None:
    # When
    answer = _get(stack, "/_local/openapi.json")

    # Then
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.body.decode() == openapi.render(openapi.build())
    # no authorizer: no credentials sent, none asked for
    assert "WWW-Authenticate" not in answer.headers


def test_the_page_loads_only_its_own_origin(stack: LocalStack) -> None:
    # When
    answer = _get(stack, "/_local/docs")

    # Then
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert "script-src 'self';" in policy
    page = answer.body.decode()
    assert "http:" not in page
    assert "https:" not in page
    assert "//" not in page  # no protocol-relative URL either
    assert _get(stack, "/_local/docs/").body == answer.body


@pytest.mark.parametrize(("name", "content_type"), sorted(api_docs.ASSETS.items()))
def test_swagger_ui_files_come_from_the_package_with_their_media_type(
    stack: LocalStack, name: str, content_type: str
) -> None:
    # Given
    static = api_docs.swagger_ui_static()
    assert static is not None, "swagger-ui-py is a dependency (pyproject.toml)"

    # When
    answer = _get(stack, f"/_local/docs/{name}")

    # Then
    assert answer.status == 200
    assert answer.headers["Content-Type"] == content_type
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.body == (static / name).read_bytes()


def test_the_page_script_is_javascript(stack: LocalStack) -> None:
    answer = _get(stack, "/_local/docs/points-local-docs.js")

    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert b"/_local/openapi.json" in answer.body


@pytest.mark.parametrize(
    "path",
    [
        "/_local/docs/../openapi.json",
        "/_local/docs/swagger-initializer.js",
        "/_local/docs/a/b",
        "/_local/docsx",
    ],
)
def test_nothing_else_is_served_under_docs(stack: LocalStack, path: str) -> None:
    answer = _get(stack, path)

    assert answer.status == 404
    assert answer.headers["Content-Type"] == "application/json"


def test_the_docs_are_read_only(stack: LocalStack) -> None:
    for path in ("/_local/docs", "/_local/openapi.json", "/_local/docs/swagger-ui.css"):
        answer = _get(stack, path, method="POST")
        assert answer.status == 405
        assert answer.headers["Allow"] == "GET"
    head = _get(stack, "/_local/openapi.json", method="HEAD")
    assert head.status == 200
    assert head.body == b""


def test_swagger_ui_is_the_local_stack_s_alone() -> None:
    """The package is for points-local: no function and nothing in the layer uses it (sam build ships those
    folders, and the layer's dependencies are only what the Lambda runtime and Powertools' layer give)."""
    shipped = [*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers").rglob("*.py")]
    assert shipped
    assert [path for path in shipped if "swagger" in path.read_text().lower()] == []
    assert list((ROOT / "layers").rglob("requirements*.txt")) == []


def chromium() -> str:
    """Debian's Chromium; `make test` installs it first (`make chromium`), so a missing one is a failure."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if found is None:
        pytest.fail("no chromium binary (nor $CHROMIUM): `make chromium` installs Debian's; `make test` does")
    return found


class _Links(HTMLParser):
    """Every http(s) URL in the rendered page, in attributes and text, but XML namespace names."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is not None and not name.startswith("xmlns"):
                self._scan(value)

    def handle_data(self, data: str) -> None:
        self._scan(data)

    def _scan(self, text: str) -> None:
        self.urls.extend(_URL.findall(text))


def _net_log(path: Path) -> dict[str, Any]:
    text = path.read_text()
    try:
        return dict(json.loads(text))
    except json.JSONDecodeError:  # a log Chromium did not get to close
        return dict(json.loads(text.rstrip().rstrip(",") + "]}"))


@dataclass(frozen=True)
class Traffic:
    """What Chromium's network stack did, from its NetLog."""

    requests: set[tuple[str, str]]
    """(URL, top frame site) of every request: the site is the page's for what the page asked for, another
    or none for Chromium's own requests (updates, sign-in, network time)."""
    sent_to: set[str]
    """The address of every TCP connection Chromium tried, and of every UDP socket it sent from."""

    def asked_by(self, site: str) -> set[str]:
        return {url for url, top_frame_site in self.requests if top_frame_site == site}


def _traffic(net_log: dict[str, Any]) -> Traffic:
    names = {number: name for name, number in net_log["constants"]["logEventTypes"].items()}
    requests: set[tuple[str, str]] = set()
    sent_to: set[str] = set()
    udp_peers: dict[int, str] = {}
    for event in net_log["events"]:
        name, parameters = names.get(event["type"], ""), event.get("params", {})
        if name == "URL_REQUEST_START_JOB" and "url" in parameters:
            # "<top frame site> <frame site>", or "null null" for a request that no page made
            site = str(parameters.get("network_isolation_key", "")).split(" ")[0]
            requests.add((parameters["url"], site))
        elif name == "TCP_CONNECT_ATTEMPT" and "address" in parameters:
            sent_to.add(parameters["address"])
        # A UDP socket connected to an address sends nothing by that (Chromium does it to find out whether
        # IPv6 is reachable): what counts is a datagram sent.
        elif name == "UDP_CONNECT" and "address" in parameters:
            udp_peers[event["source"]["id"]] = parameters["address"]
        elif name == "UDP_BYTES_SENT":
            sent_to.add(parameters.get("address") or udp_peers.get(event["source"]["id"], "?"))
    return Traffic(requests, sent_to)


def _is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def test_headless_chromium_shows_every_operation_and_asks_only_the_stack(
    stack: LocalStack, document: dict[str, Any], tmp_path: Path
) -> None:
    # Given
    browser = chromium()
    net_log = tmp_path / "netlog.json"
    operations = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    summaries = {
        operation["summary"] for methods in document["paths"].values() for operation in methods.values()
    }
    assert len(operations) >= 6

    # When
    started = time.perf_counter()
    rendered = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--log-net-log={net_log}",
            "--dump-dom",
            f"{stack.api_url}/_local/docs",
        ],
        capture_output=True,
        text=True,
        timeout=CHROMIUM_TIMEOUT_SECONDS,
        check=False,
    )
    seconds = time.perf_counter() - started

    # Then
    log_tail = rendered.stderr[-3000:]
    assert rendered.returncode == 0, log_tail
    console = [line for line in rendered.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = rendered.stdout
    shown = _operations_shown(dom)
    assert shown == operations, f"after {seconds:.1f} s: {dom[-2000:]}\n{log_tail}"
    missing_summaries = [summary for summary in summaries if _html_text(summary) not in dom]
    assert missing_summaries == []
    # the server Swagger UI's "Try it out" calls is this stack
    assert stack.api_url in dom
    links = _Links()
    links.feed(dom)
    assert [url for url in links.urls if not url.startswith(stack.api_url)] == []
    traffic = _traffic(_net_log(net_log))
    origin = urlsplit(stack.api_url)
    asked = traffic.asked_by(f"{origin.scheme}://{origin.hostname}")
    assert {
        f"{stack.api_url}/_local/{path}" for path in ("openapi.json", "docs/swagger-ui-bundle.js")
    } <= asked
    assert sorted(url for url in asked if not url.startswith(stack.api_url + "/")) == []
    # Chromium's own requests, if any, went to the closed proxy on loopback: nothing left the machine
    assert traffic.sent_to
    assert sorted(address for address in traffic.sent_to if not _is_loopback(address)) == []


class _Operations(HTMLParser):
    """(method, path) of every operation block Swagger UI rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.operations: set[tuple[str, str]] = set()
        self._method: str | None = None
        self._in_method = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if "opblock-summary-method" in classes:
            self._in_method = True
        if "opblock-summary-path" in classes and self._method is not None:
            self.operations.add((self._method, attributes.get("data-path") or ""))
            self._method = None

    def handle_data(self, data: str) -> None:
        if self._in_method:
            self._method = data.strip()
            self._in_method = False


def _operations_shown(dom: str) -> set[tuple[str, str]]:
    parser = _Operations()
    parser.feed(dom)
    return parser.operations


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
