"""End to end over HTTP: the sample app of `sample_app.py` on a LocalStack (no demo data)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from points_local.stack import LocalStack
from tests.http_json import Reply, send
from tests.local_stack.sample_app import authorizer_calls, write_sample_app

pytestmark = pytest.mark.e2e


@dataclass
class App:
    stack: LocalStack
    root: Path

    def get(self, path: str, token: str | None = None, method: str = "GET") -> Reply:
        request = urllib.request.Request(self.stack.api_url + path, method=method)
        if token is not None:
            request.add_header("Authorization", token)
        return send(request)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    root = tmp_path_factory.mktemp("sample-app")
    with LocalStack(write_sample_app(root), port=0, load_demo=False, workers_per_function=4) as stack:
        yield App(stack, root)


def test_an_open_route_answers_without_the_authorizer(app: App) -> None:
    # When
    reply = app.get("/health")

    # Then
    assert reply.status == 200
    assert reply.body["authorizer"] is None
    assert reply.headers["X-Handler"] == "sample"
    assert reply.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert reply.headers["x-amzn-RequestId"]


def test_missing_identity_header_is_401_without_calling_the_authorizer(app: App) -> None:
    # Given
    calls_before = authorizer_calls(app.root)

    # When
    reply = app.get("/items/1")

    # Then
    assert reply.status == 401
    assert reply.body == {"error": "unauthorized"}
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="sample"'
    assert authorizer_calls(app.root) == calls_before


@pytest.mark.parametrize(
    ("token", "status", "body"),
    [
        pytest.param("Bearer reject", 401, {"error": "unauthorized"}, id="raising Unauthorized is 401"),
        pytest.param(
            "Bearer broken", 500, {"error": "try again later"}, id="failing otherwise is 500 with DEFAULT_5XX"
        ),
        # The sample API customises neither ACCESS_DENIED nor DEFAULT_4XX: API Gateway's own body.
        pytest.param(
            "Bearer deny",
            403,
            {"message": "User is not authorized to access this resource with an explicit deny"},
            id="a deny policy is 403",
        ),
    ],
)
def test_what_the_authorizer_refuses_answers_its_gateway_response(
    app: App, token: str, status: int, body: dict[str, str]
) -> None:
    reply = app.get("/items/1", token=token)

    assert reply.status == status
    assert reply.body == body


def test_allowed_request_reaches_the_handler_with_the_authorizer_context(app: App) -> None:
    reply = app.get("/items/42", token="Bearer allow")

    assert reply.status == 200
    assert reply.body["authorizer"] == {
        "user": "allow",
        "level": "3",
        "admin": "true",
        "principalId": "user-allow",
        "integrationLatency": reply.body["authorizer"]["integrationLatency"],
    }
    assert reply.body["resource"] == "/items/{id}"
    assert reply.body["path"] == "/items/42"
    assert reply.body["pathParameters"] == {"id": "42"}
    assert reply.body["stage"] == "test"
    assert reply.body["sourceIp"] == "127.0.0.1"


def test_path_parameters_stay_percent_encoded_as_in_a_rest_api(app: App) -> None:
    reply = app.get("/items/a%20b", token="Bearer allow")

    assert reply.status == 200
    assert reply.body["pathParameters"] == {"id": "a%20b"}


def test_query_strings_are_url_decoded(app: App) -> None:
    reply = app.get("/health?mobile=%2B911234&name=a+b&tag=1&tag=2&empty=&flag")

    assert reply.body["query"] == {"mobile": "+911234", "name": "a b", "tag": "2", "empty": "", "flag": ""}
    assert reply.body["multiQuery"]["tag"] == ["1", "2"]


def test_no_query_string_gives_nulls(app: App) -> None:
    reply = app.get("/health")

    assert reply.body["query"] is None
    assert reply.body["multiQuery"] is None
    assert reply.body["pathParameters"] is None


def test_unknown_path_and_wrong_method_are_missing_authentication_token(app: App) -> None:
    unknown = app.get("/nowhere")
    wrong_method = app.get("/health", method="POST")

    assert unknown.status == wrong_method.status == 404
    assert unknown.body == wrong_method.body == {"error": "no such resource"}


def test_functions_see_their_environment_as_lambda_would(app: App) -> None:
    reply = app.get("/health")

    assert reply.body["environment"] == {
        "GREETING": "hello",
        "ITEMS_TABLE": "ItemsTable",
        "EVENTS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:EventsTopic",
        "ECHO_ONLY": "yes",
        "AWS_LAMBDA_FUNCTION_NAME": "EchoFunction",
        "TZ": ":UTC",
    }
    assert reply.body["context"]["function_name"] == "EchoFunction"
    assert reply.body["context"]["memory_limit_in_mb"] == "256"
    assert 0 < reply.body["context"]["remaining_ms"] <= 3000
    assert reply.body["context"]["invoked_function_arn"].endswith(":function:EchoFunction")
    assert Path(reply.body["cwd"]) == app.root / "handlers"
    environment = app.stack.environment("EchoFunction")
    assert environment["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert environment["AWS_ENDPOINT_URL"] == app.stack.aws_endpoint_url


def test_functions_reach_the_embedded_aws(app: App) -> None:
    reply = app.get("/table")

    assert reply.body == {"table": "ItemsTable", "status": "ACTIVE"}


def test_a_handler_that_raises_is_502_with_the_default_5xx_body(app: App) -> None:
    reply = app.get("/boom")

    assert reply.status == 502
    assert reply.body == {"error": "try again later"}


def test_a_worker_that_dies_is_502_and_replaced(app: App) -> None:
    # Given
    before = app.get("/crash")

    # When
    crashed = app.get("/crash?die=1")

    # Then
    assert crashed.status == 502
    assert crashed.body == {"error": "try again later"}
    after = app.get("/crash")
    assert after.status == 200
    assert after.body["pid"] != before.body["pid"]


def test_an_invocation_past_the_timeout_is_504_and_its_worker_replaced(app: App) -> None:
    # Given
    before = app.get("/slow")

    # When: the function's Timeout is 1 s
    started = time.monotonic()
    timed_out = app.get("/slow?seconds=5")
    elapsed = time.monotonic() - started

    # Then
    assert timed_out.status == 504
    assert timed_out.body == {"error": "try again later"}
    assert 1 <= elapsed < 4
    after = app.get("/slow")
    assert after.status == 200
    assert after.body["pid"] != before.body["pid"]


def test_authorizer_results_are_cached_per_identity(app: App) -> None:
    # When
    first = app.get("/items/1", token="Bearer allow-cached")
    second = app.get("/items/2", token="Bearer allow-cached")

    # Then
    assert first.status == second.status == 200
    assert authorizer_calls(app.root, "Bearer allow-cached") == 1
    assert second.body["authorizer"]["user"] == "allow-cached"


def test_concurrent_requests_run_in_separate_workers(app: App) -> None:
    # Given: four warm workers (four overlapping requests make the pool start them)
    clients = 4
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda _: app.get("/sleep"), range(clients)))

    # When: each request sleeps 0.5 s in its handler
    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        replies = list(pool.map(lambda _: app.get("/sleep"), range(clients)))
    elapsed = time.monotonic() - started

    # Then: together far faster than one after another
    assert all(reply.status == 200 for reply in replies)
    assert len({reply.body["pid"] for reply in replies}) == clients
    assert elapsed < clients * 0.5 * 0.6


def test_invoke_runs_a_function_directly(app: App) -> None:
    result = app.stack.invoke("FailingFunction", {})

    assert not result.ok
    assert result.error is not None
    assert result.error["errorType"] == "RuntimeError"
    assert result.error["errorMessage"] == "the handler failed"


def test_results_are_serialised_as_the_lambda_runtime_does(app: App) -> None:
    numbers = app.stack.invoke("NumbersFunction", {})
    unserialisable = app.stack.invoke("NumbersFunction", {"unserialisable": True})

    assert numbers.payload == {"whole": 12, "fraction": 1.5}
    assert unserialisable.error is not None
    assert unserialisable.error["errorType"] == "Runtime.MarshalError"


def test_a_handler_that_cannot_be_imported_is_an_init_error(app: App) -> None:
    result = app.stack.invoke("MisconfiguredFunction", {})

    assert result.error is not None
    assert result.error["errorType"] == "Runtime.ImportModuleError"
    assert "missing_module" in result.error["errorMessage"]
    assert result.init_duration_ms is not None


def test_functions_read_the_template_secrets_through_secrets_manager(app: App) -> None:
    # When
    result = app.stack.invoke("SecretsFunction", {})

    # Then: !Ref of a secret is its ARN, as moto created it
    assert result.ok, result.error
    generated, fixed = result.payload["generated"], result.payload["fixed"]
    assert app.stack.secrets == {"GeneratedSecret": generated["arn"], "FixedSecret": fixed["arn"]}
    assert generated["arn"].startswith(
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:GeneratedSecret-"
    )
    assert fixed["value"] == "fixed-hello"
    assert len(generated["value"]) == 40
    assert generated["value"].isalnum()
    assert not set(generated["value"]) & set("aeiouAEIOU")


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "CONNECT", "BREW"])
def test_any_method_reaches_the_gateway_not_an_html_501(app: App, method: str) -> None:
    unknown = app.get("/nowhere", method=method)
    untaken = app.get("/health", method=method)

    assert unknown.status == untaken.status == 404
    assert unknown.body == untaken.body == {"error": "no such resource"}
