"""The whole service on loopback: embedded AWS (moto), the template's resources, its functions, its
schedules and its API, plus the outbox of what SNS sent.

with LocalStack("template.yaml", port=0, load_demo=False) as stack:
    urllib.request.urlopen(stack.api_url + "/v1.1/points/isredeemable?...")
    stack.invoke("IsRedeemableFunction", event)
    stack.run_schedule("OtpCleanupFunction")
    stack.outbox.messages(destination="919000000001")
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import boto3
import botocore.config
import botocore.exceptions
import yaml
from moto.server import ThreadedMotoServer

from points_local import atomic_dynamodb
from points_local.api_keys import UsagePlanKeys
from points_local.functions import FunctionHost, FunctionPool, InvocationResult
from points_local.gateway import Gateway, GatewayServer, rest_api_id
from points_local.local_routes import LocalRoutes, is_local_path
from points_local.outbox import Delivery, Outbox, capture_sns
from points_local.resources import (
    CreatedResources,
    create_secrets,
    create_tables,
    create_topics,
    create_usage_plans,
    find_secrets,
    find_tables,
    find_topics,
    find_usage_plans,
)
from points_local.schedules import Scheduler
from points_local.template import (
    ACCOUNT_ID,
    API_TYPE,
    DEFAULT_REGION,
    FUNCTION_TYPE,
    ApiSpec,
    FunctionSpec,
    Resolver,
    ScheduleSpec,
    environment_variables,
    function_properties,
    functions,
    global_properties,
    load_template,
    properties_place,
    resources_of_type,
    rest_api,
    schedules,
)
from points_local.template import secrets as template_secrets
from points_local.template import tables as template_tables
from points_local.template import topics as template_topics
from points_local.worker import WorkerConfig

# The demo folder's files: the org's configuration, its customers, their point allocations, their groups.
DEMO_FILES: Final = ("org.yaml", "customers.csv", "allocations.csv", "groups.csv")
# moto accepts any credentials; these only keep boto3 from looking for real ones.
_DUMMY_CREDENTIALS: Final = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
# Variables that would take boto3 elsewhere than the endpoint the stack sets.
_AWS_REDIRECTS: Final = (
    "AWS_ENDPOINT_URL_",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_PROFILE",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_TOKEN",
)


class DemoLoadError(RuntimeError):
    """The demo data could not be loaded."""


class ExternalAwsError(RuntimeError):
    """The AWS at `aws_endpoint_url` cannot be reached, or lacks resources of the template."""


def _is_loopback(host: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return all(ipaddress.ip_address(str(address)).is_loopback for address in addresses)


@contextmanager
def patched_environ(values: Mapping[str, str], *, removed_prefixes: tuple[str, ...] = ()) -> Iterator[None]:
    """Set `values` (and drop variables starting with `removed_prefixes`) in os.environ, then restore it."""
    removed = {name for name in os.environ if removed_prefixes and name.startswith(removed_prefixes)}
    names = set(values) | removed
    saved = {name: os.environ.get(name) for name in names}
    for name in removed:
        del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _demo_org_id(org_file: Path) -> str:
    try:
        org_id = yaml.safe_load(org_file.read_text(encoding="utf-8"))["org_id"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise DemoLoadError(f"{org_file} has no readable org_id ({error})") from error
    return str(org_id)


def demo_commands(demo_dir: Path) -> list[list[str]]:
    """The operator tool's commands that load the demo org, in order."""
    for file_name in DEMO_FILES:
        if not (demo_dir / file_name).is_file():
            raise DemoLoadError(
                f"demo file {demo_dir / file_name} not found (use --demo-dir, or --no-demo to skip the demo)"
            )
    org_file, customers, allocations, groups = (str(demo_dir / file_name) for file_name in DEMO_FILES)
    # The imports name the org whose configuration they follow, the one org.yaml declares.
    org_id = _demo_org_id(demo_dir / DEMO_FILES[0])
    return [
        ["apply-config", org_file],
        ["import-customers", customers, "--org", org_id],
        ["import-allocations", allocations, "--org", org_id],
        ["import-groups", groups, "--org", org_id],
    ]


def load_demo(demo_dir: Path) -> list[str]:
    """Load the demo org through the operator tool, in-process; returns the commands run."""
    commands = demo_commands(demo_dir)
    try:
        # Imported only here: the tool (and the layer it brings) is needed only when a demo is loaded.
        from points_admin.cli import main as admin  # noqa: PLC0415
    except ImportError as error:
        raise DemoLoadError(
            f"the operator tool points_admin.cli cannot be imported ({error}); use --no-demo"
        ) from error
    for argv in commands:
        code: int | str | None
        try:
            code = admin(argv)
        except SystemExit as exit_:
            code = exit_.code
        if code not in (0, None):
            raise DemoLoadError(f"points-admin {' '.join(argv)} exited with {code}: the demo is not loaded")
    return [" ".join(argv) for argv in commands]


class LocalStack:
    """Everything `make run` starts, in background threads and worker processes, stopped on exit.

    One stack per process at a time: moto's state and os.environ (where the AWS endpoint is set for
    every boto3 client of the process) are process-wide.
    """

    _running = threading.Lock()

    def __init__(
        self,
        template_path: str | Path = "template.yaml",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        moto_port: int = 0,
        region: str = DEFAULT_REGION,
        load_demo: bool = True,
        demo_dir: str | Path = "demo",
        workers_per_function: int = 4,
        parameter_overrides: Mapping[str, str] | None = None,
        on_delivery: Callable[[Delivery], None] | None = None,
        aws_endpoint_url: str | None = None,
        serve: bool = True,
        environment_overrides: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """`on_delivery` hears each SMS and email sent through SNS, when sent; points-local prints them.

        `aws_endpoint_url`: use the AWS already running there (another stack's, `make run`'s) instead of
        starting one: nothing is reset, created or loaded there, and the template's tables, topics and
        secrets must exist in it (ExternalAwsError otherwise); SNS messages are that stack's to print.
        `serve=False`: only the AWS, the resources, the demo data and the functions, for `invoke` (no API,
        no schedules). `environment_overrides`: function logical id -> new values for variables its
        template environment declares (others are ignored, as `sam local --env-vars` ignores them).
        """
        if not _is_loopback(host):
            raise ValueError(f"{host} is not a loopback address: the local stack has no real authentication")
        if workers_per_function < 1:
            raise ValueError("workers_per_function must be at least 1")
        self.template_path = Path(template_path).resolve()
        self.project_root = self.template_path.parent
        self.template = load_template(self.template_path)
        self.host = host
        self.region = region
        self.demo_dir = self.project_root / demo_dir
        self._port = port
        self._moto_port = moto_port
        self._external_aws = aws_endpoint_url
        self._load_demo = load_demo and aws_endpoint_url is None
        self._serve = serve
        self._environment_overrides = {
            function_id: dict(values) for function_id, values in (environment_overrides or {}).items()
        }
        self._workers_per_function = workers_per_function
        self._parameters = dict(parameter_overrides or {})
        # Read the whole template now: a template the local stack cannot run fails before anything starts.
        parameters_only = Resolver(self.template, parameters=self._parameters, region=region)
        self.api: ApiSpec = rest_api(self.template, parameters_only)
        for route in self.api.routes:
            if is_local_path(route.path):
                raise ValueError(
                    f"{route.function_id}.{route.event_id}: {route.path} is where the local stack serves "
                    "its own routes"
                )
        self.functions: dict[str, FunctionSpec] = functions(self.template, self.project_root, parameters_only)
        self.schedules: list[ScheduleSpec] = schedules(self.template, parameters_only)
        self.api_url = ""
        self.aws_endpoint_url = ""
        self.tables: list[str] = []
        self.topics: dict[str, str] = {}
        self.secrets: dict[str, str] = {}
        self.usage_plan_id: str | None = None
        """The API's usage plan in the embedded API Gateway, where the operator tool puts the tills' keys."""
        self.demo_loaded: list[str] = []
        self._apigateway: Any = None
        self.outbox = Outbox(on_delivery)
        self._on_delivery = on_delivery
        self._environments: dict[str, dict[str, str]] = {}
        self._host: FunctionHost | None = None
        self._scheduler: Scheduler | None = None
        self._cleanup: ExitStack | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        if not LocalStack._running.acquire(blocking=False):
            raise RuntimeError("another LocalStack is already running in this process")
        with ExitStack() as cleanup:
            cleanup.callback(LocalStack._running.release)
            self._start_aws(cleanup)
            # What moto's SNS publishes from now on, and nothing from an earlier run.
            self.outbox = Outbox(self._on_delivery)
            if self._external_aws is None:
                cleanup.enter_context(capture_sns(self.outbox))
            resolver = self._create_resources()
            self._host = FunctionHost(self._pools(resolver))
            cleanup.callback(self._host.stop)
            # Stopped before the pools (callbacks run last-in first-out): nothing fires into a stopped pool.
            self._scheduler = Scheduler(self.schedules, self._host.invoke, region=self.region)
            cleanup.callback(self._scheduler.stop)
            if self._load_demo:
                global_variables = environment_variables(
                    global_properties(self.template, "Function"), resolver, "Globals.Function"
                )
                # The tool finds the tables the way the functions do: through their environment variables;
                # and the usage plan it puts the tills' keys in through its own.
                if self.usage_plan_id is not None:
                    global_variables["USAGE_PLAN_ID"] = self.usage_plan_id
                with patched_environ(global_variables):
                    self.demo_loaded = load_demo(self.demo_dir)
            if not self._serve:
                self._cleanup = cleanup.pop_all()
                return self
            api_keys = (
                None if self.usage_plan_id is None else UsagePlanKeys(self._apigateway, self.usage_plan_id)
            )
            server = GatewayServer(
                Gateway(self.api, self._host.invoke, region=self.region, api_keys=api_keys),
                self.host,
                self._port,
                LocalRoutes(self.outbox, self._scheduler, self.template_path).handle,
            )
            cleanup.callback(server.stop)
            server.start()
            host = f"[{self.host}]" if ":" in self.host else self.host
            self.api_url = f"http://{host}:{server.port}"
            self._scheduler.start()
            self._cleanup = cleanup.pop_all()
        return self

    def stop(self) -> None:
        """Stop HTTP, the workers and moto, and restore os.environ; safe to call twice."""
        cleanup, self._cleanup = self._cleanup, None
        if cleanup is not None:
            cleanup.close()

    def invoke(self, function_id: str, event: Mapping[str, Any]) -> InvocationResult:
        """Invoke a function by logical id, as Lambda's Invoke API would (RequestResponse)."""
        if self._host is None or self._cleanup is None:
            raise RuntimeError("the local stack is not running")
        return self._host.invoke(function_id, event)

    def run_schedule(self, function_id: str, event_id: str | None = None) -> InvocationResult:
        """Invoke the function now as its `Type: Schedule` event would (the one named `event_id`, if many)."""
        if self._scheduler is None or self._cleanup is None:
            raise RuntimeError("the local stack is not running")
        return self._scheduler.run(self._scheduler.find(function_id, event_id))

    def environment(self, function_id: str) -> dict[str, str]:
        """The environment the function's workers run with."""
        return dict(self._environments[function_id])

    def _start_aws(self, cleanup: ExitStack) -> None:
        if self._external_aws is not None:
            self.aws_endpoint_url = self._external_aws.rstrip("/")
            cleanup.enter_context(patched_environ(self._aws_environment(), removed_prefixes=_AWS_REDIRECTS))
            return
        # moto's server logs every request through werkzeug; the console is for the functions' logs.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # DynamoDB's per-request atomicity, which concurrent redemptions rely on (see atomic_dynamodb).
        atomic_dynamodb.install()
        cleanup.callback(atomic_dynamodb.uninstall)
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self._moto_port, verbose=False)
        moto.start()
        cleanup.callback(moto.stop)
        host, port = moto.get_host_and_port()
        self.aws_endpoint_url = f"http://{host}:{port}"
        # The server shares moto's in-process state: start from nothing, whatever ran in this process before.
        reset = urllib.request.Request(f"{self.aws_endpoint_url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(reset, timeout=10):  # noqa: S310 - the loopback http URL built above
            pass
        cleanup.enter_context(
            patched_environ(
                self._aws_environment(),
                removed_prefixes=_AWS_REDIRECTS,
            )
        )

    def _aws_environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.aws_endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **_DUMMY_CREDENTIALS,
        }

    def _create_resources(self) -> Resolver:
        """Create tables, topics and secrets (or find them in an external AWS); the resolver then knows every
        resource's local name."""
        session = boto3.session.Session(region_name=self.region)
        base = Resolver(self.template, parameters=self._parameters, region=self.region)
        if self._external_aws is None:
            tables = create_tables(
                session.client("dynamodb", endpoint_url=self.aws_endpoint_url), self.template, base
            )
            topics = create_topics(session.client("sns", endpoint_url=self.aws_endpoint_url), self.template)
            secrets = create_secrets(
                session.client("secretsmanager", endpoint_url=self.aws_endpoint_url), self.template, base
            )
            self._apigateway = session.client("apigateway", endpoint_url=self.aws_endpoint_url)
            plans = create_usage_plans(self._apigateway, self.template, base)
        else:
            tables, topics, secrets, plans = self._find_resources(session, base)
        refs: dict[str, Any] = {**tables.refs, **topics.refs, **secrets.refs, **plans.refs}
        attributes: dict[str, Mapping[str, Any]] = {
            **tables.attributes,
            **topics.attributes,
            **secrets.attributes,
        }
        for function_id in resources_of_type(self.template, FUNCTION_TYPE):
            refs[function_id] = function_id
            attributes[function_id] = {"Arn": self._function_arn(function_id)}
        for api_id in resources_of_type(self.template, API_TYPE):
            refs[api_id] = rest_api_id(api_id)
        self.tables = list(tables.refs)
        self.topics = dict(topics.refs)
        self.secrets = dict(secrets.refs)
        self.usage_plan_id = (
            None if self.api.usage_plan is None else plans.refs.get(self.api.usage_plan.logical_id)
        )
        return Resolver(
            self.template, refs=refs, attributes=attributes, parameters=self._parameters, region=self.region
        )

    def _find_resources(
        self, session: boto3.session.Session, resolver: Resolver
    ) -> tuple[CreatedResources, CreatedResources, CreatedResources, CreatedResources]:
        """The template's tables, topics, secrets and usage plans in the external AWS, which a stack with this
        template created there; ExternalAwsError naming what is missing, or when it cannot be reached."""
        # Fail fast when nothing listens there, rather than after botocore's retries.
        config = botocore.config.Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2})

        def client(service: str) -> Any:
            connect: Any = session.client  # by a name only known at run time: boto3's stubs want a literal
            return connect(service, endpoint_url=self.aws_endpoint_url, config=config)

        try:
            tables = find_tables(client("dynamodb"), self.template)
            topics = find_topics(client("sns"), self.template)
            secrets = find_secrets(client("secretsmanager"), self.template)
            self._apigateway = client("apigateway")
            plans = find_usage_plans(self._apigateway, self.template, resolver)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            raise ExternalAwsError(f"cannot use the AWS at {self.aws_endpoint_url}: {error}") from error
        expected = {
            "table": template_tables(self.template),
            "topic": template_topics(self.template),
            "secret": template_secrets(self.template),
        }
        found = {"table": tables.refs, "topic": topics.refs, "secret": secrets.refs}
        missing = [
            f"{kind} {logical_id}"
            for kind, logical_ids in expected.items()
            for logical_id in logical_ids
            if logical_id not in found[kind]
        ]
        if missing:
            raise ExternalAwsError(
                f"the AWS at {self.aws_endpoint_url} (region {self.region}) has no {', '.join(missing)}: "
                f"start the stack there first (`make run`, or `points-local --moto-port PORT`) with the same "
                "template and region"
            )
        return tables, topics, secrets, plans

    def _function_arn(self, function_id: str) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{function_id}"

    def _pools(self, resolver: Resolver) -> dict[str, FunctionPool]:
        pools = {}
        for function_id, spec in self.functions.items():
            environment = self._lambda_environment(spec, resolver)
            self._environments[function_id] = environment
            config = WorkerConfig(
                function_name=function_id,
                handler=spec.handler,
                code_dir=str(spec.code_dir),
                layer_dirs=tuple(str(path) for path in spec.layer_dirs),
                environment=environment,
                invoked_function_arn=self._function_arn(function_id),
            )
            pools[function_id] = FunctionPool(config, spec.timeout_seconds, self._workers_per_function)
        return pools

    def _lambda_environment(self, spec: FunctionSpec, resolver: Resolver) -> dict[str, str]:
        """The template's variables, then what Lambda itself sets (which a template cannot override)."""
        name = spec.logical_id
        variables = environment_variables(
            function_properties(self.template, name), resolver, properties_place(name)
        )
        overrides = self._environment_overrides.get(name, {})
        variables.update({variable: overrides[variable] for variable in variables if variable in overrides})
        return {
            **variables,
            **self._aws_environment(),
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
            # There is no X-Ray daemon to send traces to.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
