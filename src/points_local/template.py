"""Read a SAM template the way CloudFormation and SAM would, so the local stack derives everything from it.

Nothing here talks to AWS: the loader turns short-form intrinsics into their long form, `Resolver` evaluates
the intrinsics template.yaml uses (Ref, GetAtt, Sub) against the values a local stack chose for each resource
and refuses any other, and the spec helpers apply SAM's `Globals` and defaults to functions and APIs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

DEFAULT_REGION: Final = "eu-west-1"
# moto's default account: ARNs built here must match the ones moto returns.
ACCOUNT_ID: Final = "123456789012"

TABLE_TYPE: Final = "AWS::DynamoDB::Table"
TOPIC_TYPE: Final = "AWS::SNS::Topic"
SECRET_TYPE: Final = "AWS::SecretsManager::Secret"  # noqa: S105 - a resource type, not a password
FUNCTION_TYPE: Final = "AWS::Serverless::Function"
API_TYPE: Final = "AWS::Serverless::Api"
LAYER_TYPE: Final = "AWS::Serverless::LayerVersion"
# SAM's name for the API it creates when an Api event has no RestApiId.
IMPLICIT_API_ID: Final = "ServerlessRestApi"

# SAM defaults for properties a function may leave out.
DEFAULT_TIMEOUT_SECONDS: Final = 3
DEFAULT_MEMORY_MB: Final = 128
# SAM's default for an authorizer's Identity.ReauthorizeEvery.
DEFAULT_AUTHORIZER_TTL_SECONDS: Final = 300

# Every short form CloudFormation defines reads as a template; `Resolver` then refuses the functions it does
# not evaluate, naming the place, when something asks for their value.
_INTRINSIC_TAGS: Final = frozenset(
    {
        "And",
        "Base64",
        "Cidr",
        "Condition",
        "Equals",
        "FindInMap",
        "GetAZs",
        "GetAtt",
        "If",
        "ImportValue",
        "Join",
        "Not",
        "Or",
        "Ref",
        "Select",
        "Split",
        "Sub",
        "ToJsonString",
        "Transform",
    }
)
# Only these two keep their bare name in the long form; every other tag becomes `Fn::<Tag>`.
_BARE_TAGS: Final = frozenset({"Ref", "Condition"})


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader extended with CloudFormation's `!Tag` short forms."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag: str, node: yaml.Node) -> dict[str, Any]:
    if tag not in _INTRINSIC_TAGS:
        raise yaml.constructor.ConstructorError(
            None, None, f"unknown CloudFormation tag !{tag}", node.start_mark
        )
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag == "GetAtt" and isinstance(value, str):
        # `!GetAtt Res.Attr.Sub` means resource `Res`, attribute `Attr.Sub`.
        logical_id, _, attribute = value.partition(".")
        value = [logical_id, attribute]
    return {tag if tag in _BARE_TAGS else f"Fn::{tag}": value}


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: str | Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template (YAML or JSON), short-form intrinsics included."""
    with Path(path).open(encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise ValueError(f"{path}: not a CloudFormation template (no Resources section)")
    return template


def properties_place(logical_id: str) -> str:
    """Where a resource's Properties stand in the template, for errors that name the place."""
    return f"Resources.{logical_id}.Properties"


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id → Properties of every resource of one type, in template order."""
    return {
        logical_id: dict(resource.get("Properties") or {})
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == resource_type
    }


def tables(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every DynamoDB table: logical id → Properties (intrinsics unresolved)."""
    return resources_of_type(template, TABLE_TYPE)


def topics(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every SNS topic: logical id → Properties (intrinsics unresolved)."""
    return resources_of_type(template, TOPIC_TYPE)


def secrets(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Secrets Manager secret: logical id → Properties (intrinsics unresolved)."""
    return resources_of_type(template, SECRET_TYPE)


def as_text(value: Any) -> str:
    """A scalar as CloudFormation writes it into a string (environment variables, Sub, Join)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ValueError(f"expected a scalar, got {value!r}")


# The intrinsic functions `Resolver` evaluates: all that template.yaml uses. `Ref` keeps its bare name.
EVALUATED_FUNCTIONS: Final = ("Ref", "Fn::GetAtt", "Fn::Sub")


class UnsupportedIntrinsic(ValueError):
    """An intrinsic function the local stack does not evaluate, and where in the template it stands."""

    def __init__(self, function: str, where: str) -> None:
        super().__init__(
            f"{function} at {where} cannot be evaluated locally: the local stack evaluates only "
            f"{', '.join(EVALUATED_FUNCTIONS)} (all that template.yaml uses)"
        )
        self.function = function
        self.where = where


class _NoValue:
    """`AWS::NoValue`: the key or list item that resolves to it disappears."""


NO_VALUE: Final = _NoValue()


@dataclass(frozen=True)
class Resolver:
    """Evaluates intrinsic functions with the values a local stack gave its resources.

    `refs` is what `!Ref <logical id>` returns for each resource (a table's name, a topic's ARN, …) and
    `attributes` what `!GetAtt <logical id>.<attribute>` returns. Parameters resolve to `parameters`
    (overrides) or else their Default.
    """

    template: Mapping[str, Any]
    refs: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    region: str = DEFAULT_REGION
    stack_name: str = "local"

    def resolve(self, value: Any, where: str = "value") -> Any:
        """`value` with every intrinsic evaluated; `AWS::NoValue` entries removed.

        `where` is the value's place in the template (`Resources.<id>.Properties`, …), for the error an
        intrinsic the local stack does not evaluate raises.
        """
        if isinstance(value, list):
            items = (self.resolve(item, f"{where}[{index}]") for index, item in enumerate(value))
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                logical_id, attribute = self.resolve(argument, f"{where}.Fn::GetAtt")
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(argument, where)
            if key.startswith("Fn::"):
                raise UnsupportedIntrinsic(key, where)
        items = ((key, self.resolve(item, f"{where}.{key}")) for key, item in value.items())
        return {key: item for key, item in items if item is not NO_VALUE}

    def resolved_resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Every resource of one type: logical id → its Properties with every intrinsic evaluated."""
        return {
            logical_id: self.resolve(properties, properties_place(logical_id))
            for logical_id, properties in resources_of_type(self.template, resource_type).items()
        }

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::NoValue": NO_VALUE,
            "AWS::Partition": "aws",
            "AWS::Region": self.region,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{self.stack_name}/0",
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.refs:
            return self.refs[name]
        declared = self.template.get("Parameters") or {}
        if name in declared:
            return self._parameter(name, declared[name])
        raise ValueError(f"!Ref {name}: neither a parameter nor a resource the local stack provides")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        try:
            return self.attributes[logical_id][attribute]
        except KeyError:
            raise ValueError(f"!GetAtt {logical_id}.{attribute}: no local value for it") from None

    def _parameter(self, name: str, declaration: Mapping[str, Any]) -> Any:
        if name in self.parameters:
            value = self.parameters[name]
        elif "Default" in declaration:
            value = declaration["Default"]
        else:
            raise ValueError(f"parameter {name} has no Default: give it a value as a parameter override")
        parameter_type = str(declaration.get("Type", "String"))
        if parameter_type == "CommaDelimitedList" or parameter_type.startswith("List<"):
            return [item.strip() for item in as_text(value).split(",")]
        return as_text(value)

    def _sub(self, argument: Any, where: str) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1], f"{where}.Fn::Sub[1]")
        else:
            text, variables = argument, {}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return as_text(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, _, attribute = name.partition(".")
                return as_text(self.get_att(logical_id, attribute))
            return as_text(self.ref(name))

        return re.sub(r"\$\{([^}]*)\}", substitute, text)


def merge_globals(defaults: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge key by key, lists concatenate (globals first), scalars are replaced."""
    merged = dict(defaults)
    for key, value in own.items():
        inherited = merged.get(key)
        if isinstance(inherited, dict) and isinstance(value, dict):
            merged[key] = merge_globals(inherited, value)
        elif isinstance(inherited, list) and isinstance(value, list):
            merged[key] = inherited + value
        else:
            merged[key] = value
    return merged


def global_properties(template: Mapping[str, Any], section: str) -> dict[str, Any]:
    """The template's `Globals.<section>` (`Function`, `Api`, …)."""
    return dict((template.get("Globals") or {}).get(section) or {})


def function_properties(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's Properties with `Globals.Function` applied."""
    functions = resources_of_type(template, FUNCTION_TYPE)
    if logical_id not in functions:
        raise KeyError(f"{logical_id} is not an {FUNCTION_TYPE} in the template")
    return merge_globals(global_properties(template, "Function"), functions[logical_id])


@dataclass(frozen=True)
class FunctionSpec:
    """What it takes to run one function like Lambda does."""

    logical_id: str
    code_dir: Path
    handler: str
    runtime: str
    timeout_seconds: int
    memory_mb: int
    layer_dirs: tuple[Path, ...]


def functions(
    template: Mapping[str, Any], base_dir: Path, resolver: Resolver | None = None
) -> dict[str, FunctionSpec]:
    """Every function, with Globals applied and its local code and layer folders (relative to `base_dir`)."""
    resolver = resolver or Resolver(template)
    layers = resources_of_type(template, LAYER_TYPE)
    specs = {}
    for logical_id in resources_of_type(template, FUNCTION_TYPE):
        properties = function_properties(template, logical_id)
        where = properties_place(logical_id)
        code_uri = properties.get("CodeUri")
        if not isinstance(code_uri, str) or properties.get("PackageType", "Zip") != "Zip":
            raise ValueError(f"{logical_id}: only a local CodeUri folder (Zip package) can run locally")
        layer_dirs = []
        for layer in properties.get("Layers", []):
            # A template layer is its ContentUri's python/ folder, as in /opt/python; layers from outside
            # the template (the public Powertools layer) are expected to be installed in the virtualenv.
            layer_id = layer.get("Ref") if isinstance(layer, dict) else None
            if layer_id in layers:
                layer_dirs.append(base_dir / str(layers[layer_id]["ContentUri"]) / "python")
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=base_dir / code_uri,
            handler=str(properties["Handler"]),
            runtime=str(properties.get("Runtime", "")),
            timeout_seconds=int(
                resolver.resolve(properties.get("Timeout", DEFAULT_TIMEOUT_SECONDS), f"{where}.Timeout")
            ),
            memory_mb=int(
                resolver.resolve(properties.get("MemorySize", DEFAULT_MEMORY_MB), f"{where}.MemorySize")
            ),
            layer_dirs=tuple(layer_dirs),
        )
    return specs


def environment_variables(properties: Mapping[str, Any], resolver: Resolver, where: str) -> dict[str, str]:
    """`Environment.Variables` of function properties (that stand at `where`), resolved to strings as Lambda
    sees them."""
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    resolved = resolver.resolve(variables, f"{where}.Environment.Variables")
    return {name: as_text(value) for name, value in resolved.items()}


def function_environment(
    template: Mapping[str, Any],
    logical_id: str,
    physical_names: Mapping[str, Any],
    *,
    attributes: Mapping[str, Mapping[str, Any]] | None = None,
    parameters: Mapping[str, Any] | None = None,
    region: str = DEFAULT_REGION,
) -> dict[str, str]:
    """The function's environment variables (Globals merged) as Lambda would see them.

    `physical_names` is what `!Ref` gives for each resource (table → name, topic → ARN); parameters
    resolve to `parameters` or their Default.
    """
    resolver = Resolver(
        template, refs=physical_names, attributes=attributes or {}, parameters=parameters or {}, region=region
    )
    return environment_variables(
        function_properties(template, logical_id), resolver, properties_place(logical_id)
    )


@dataclass(frozen=True)
class Route:
    """One `Type: Api` event of a function."""

    api_id: str
    function_id: str
    event_id: str
    path: str
    method: str  # upper case; "ANY" matches every method
    authorizer: str | None  # a name in the API's Auth.Authorizers, None when the route is open
    api_key_required: bool = False  # Auth.ApiKeyRequired, the event's or else the API's


def api_properties(template: Mapping[str, Any], api_id: str) -> dict[str, Any]:
    """An API's Properties with `Globals.Api` applied (the implicit API has only the Globals)."""
    own = resources_of_type(template, API_TYPE).get(api_id)
    if own is None and api_id != IMPLICIT_API_ID:
        raise KeyError(f"{api_id} is not an {API_TYPE} in the template")
    return merge_globals(global_properties(template, "Api"), own or {})


def api_routes(template: Mapping[str, Any]) -> list[Route]:
    """Every Api event of every function, with the authorizer that guards it."""
    routes = []
    for function_id, properties in resources_of_type(template, FUNCTION_TYPE).items():
        for event_id, event in (properties.get("Events") or {}).items():
            if event.get("Type") != "Api":
                continue
            event_properties = event["Properties"]
            api_ref = event_properties.get("RestApiId")
            api_id = api_ref["Ref"] if isinstance(api_ref, dict) else str(api_ref or IMPLICIT_API_ID)
            api_auth = api_properties(template, api_id).get("Auth") or {}
            default_authorizer = api_auth.get("DefaultAuthorizer")
            authorizer = (event_properties.get("Auth") or {}).get("Authorizer", default_authorizer)
            api_key_required = (event_properties.get("Auth") or {}).get(
                "ApiKeyRequired", api_auth.get("ApiKeyRequired", False)
            )
            routes.append(
                Route(
                    api_id=api_id,
                    function_id=function_id,
                    event_id=event_id,
                    path=str(event_properties["Path"]),
                    method=str(event_properties["Method"]).upper(),
                    authorizer=None if authorizer in (None, "NONE") else str(authorizer),
                    api_key_required=as_text(api_key_required).lower() == "true",
                )
            )
    return routes


@dataclass(frozen=True)
class AuthorizerSpec:
    """A Lambda REQUEST authorizer of an API."""

    name: str
    function_id: str
    identity_headers: tuple[str, ...]
    identity_query_strings: tuple[str, ...]
    ttl_seconds: int


def authorizers(
    template: Mapping[str, Any], api_id: str, resolver: Resolver | None = None
) -> dict[str, AuthorizerSpec]:
    """The API's Lambda authorizers by name; only REQUEST authorizers are supported locally."""
    resolver = resolver or Resolver(template)
    specs = {}
    for name, authorizer in (
        (api_properties(template, api_id).get("Auth") or {}).get("Authorizers") or {}
    ).items():
        function_arn = authorizer.get("FunctionArn")
        if not (isinstance(function_arn, dict) and "Fn::GetAtt" in function_arn):
            raise ValueError(
                f"authorizer {name}: only Lambda authorizers with FunctionArn: !GetAtt <Function>.Arn"
            )
        if authorizer.get("FunctionPayloadType", "TOKEN") != "REQUEST":
            raise ValueError(f"authorizer {name}: only FunctionPayloadType REQUEST is supported locally")
        identity = authorizer.get("Identity") or {}
        spec = AuthorizerSpec(
            name=name,
            function_id=str(function_arn["Fn::GetAtt"][0]),
            identity_headers=tuple(identity.get("Headers") or ()),
            identity_query_strings=tuple(identity.get("QueryStrings") or ()),
            ttl_seconds=int(
                resolver.resolve(
                    identity.get("ReauthorizeEvery", DEFAULT_AUTHORIZER_TTL_SECONDS),
                    f"{properties_place(api_id)}.Auth.Authorizers.{name}.Identity.ReauthorizeEvery",
                )
            ),
        )
        # API Gateway keys its cache by the identity sources, so caching needs one; without caching none is
        # needed and the authorizer is called for every request (SAM refuses the first, accepts the second).
        if spec.ttl_seconds > 0 and not (spec.identity_headers or spec.identity_query_strings):
            raise ValueError(
                f"authorizer {name}: caching (Identity.ReauthorizeEvery {spec.ttl_seconds}) needs an "
                "identity source in Identity.Headers or Identity.QueryStrings; set ReauthorizeEvery: 0 to "
                "call the authorizer for every request"
            )
        specs[name] = spec
    return specs


# The `$context` variables a gateway response header may map (`context.<variable>`) locally: those the local
# gateway knows when it answers on its own. `Gateway.gateway_response` gives each its value.
GATEWAY_RESPONSE_CONTEXT_VARIABLES: Final = ("requestId", "extendedRequestId", "apiId", "stage")


@dataclass(frozen=True)
class ContextVariable:
    """A gateway response header mapped from `context.<name>`: its value is the request's, per response."""

    name: str


@dataclass(frozen=True)
class GatewayResponse:
    """A customised API Gateway response: status, headers (a literal text, or a context variable to evaluate
    per response) and body templates by content type."""

    status_code: int | None
    headers: Mapping[str, str | ContextVariable]
    templates: Mapping[str, str]


def _header_mapping(response_type: str, name: str, value: Any) -> str | ContextVariable:
    # API Gateway header values are mapping expressions: quoted text is a literal, `context.<variable>` a
    # context variable; the others read the request (`method.request.…`) or stage variables, which the local
    # gateway does not evaluate.
    text = str(value)
    if len(text) >= 2 and text.startswith("'") and text.endswith("'"):
        return text[1:-1]
    known = ", ".join(f"context.{variable}" for variable in GATEWAY_RESPONSE_CONTEXT_VARIABLES)
    variable = text.removeprefix("context.")
    if variable != text:
        if variable in GATEWAY_RESPONSE_CONTEXT_VARIABLES:
            return ContextVariable(variable)
        raise ValueError(
            f"gateway response {response_type}: header {name} maps {text}, a context variable the local "
            f"gateway does not provide (it provides {known})"
        )
    raise ValueError(
        f"gateway response {response_type}: header {name} must be a quoted literal or context.<variable> "
        f"({known}), got {text}"
    )


def gateway_responses(
    template: Mapping[str, Any], api_id: str | None = None, resolver: Resolver | None = None
) -> dict[str, GatewayResponse]:
    """The API's GatewayResponses by response type (the only API when `api_id` is None)."""
    resolver = resolver or Resolver(template)
    if api_id is None:
        api_ids = sorted(
            {route.api_id for route in api_routes(template)} | set(resources_of_type(template, API_TYPE))
        )
        if len(api_ids) != 1:
            raise ValueError(f"the template has {len(api_ids)} APIs: say which one")
        api_id = api_ids[0]
    configured = resolver.resolve(
        api_properties(template, api_id).get("GatewayResponses") or {},
        f"{properties_place(api_id)}.GatewayResponses",
    )
    responses = {}
    for response_type, response in configured.items():
        headers = (response.get("ResponseParameters") or {}).get("Headers") or {}
        status = response.get("StatusCode")
        responses[response_type] = GatewayResponse(
            status_code=None if status is None else int(status),
            headers={name: _header_mapping(response_type, name, value) for name, value in headers.items()},
            templates=dict(response.get("ResponseTemplates") or {}),
        )
    return responses


# SAM's logical id of the usage plan it creates for `Auth.UsagePlan`, by `CreateUsagePlan`.
_USAGE_PLAN_IDS: Final = {"PER_API": "{api_id}UsagePlan", "SHARED": "ServerlessUsagePlan"}


@dataclass(frozen=True)
class UsagePlanSpec:
    """An API's usage plan (SAM's `Auth.UsagePlan`): API Gateway throttles each API key in it with a token
    bucket of `burst_limit` tokens, refilled at `rate_limit` a second (None: the plan does not throttle)."""

    logical_id: str
    rate_limit: float | None
    burst_limit: int | None


def usage_plan(
    template: Mapping[str, Any], api_id: str, resolver: Resolver | None = None
) -> UsagePlanSpec | None:
    """The API's usage plan, None when it has none; a quota is refused (it does not run locally)."""
    resolver = resolver or Resolver(template)
    where = f"{properties_place(api_id)}.Auth.UsagePlan"
    plan = resolver.resolve((api_properties(template, api_id).get("Auth") or {}).get("UsagePlan"), where)
    if not plan or as_text(plan.get("CreateUsagePlan", "NONE")) == "NONE":
        return None
    create = as_text(plan["CreateUsagePlan"])
    if create not in _USAGE_PLAN_IDS:
        raise ValueError(f"{where}.CreateUsagePlan: one of PER_API, SHARED or NONE, got {create}")
    if plan.get("Quota"):
        raise ValueError(f"{where}.Quota: quotas are not enforced locally; only Throttle is")
    throttle = plan.get("Throttle") or {}
    rate, burst = throttle.get("RateLimit"), throttle.get("BurstLimit")
    if (rate is None) != (burst is None):
        raise ValueError(f"{where}.Throttle: give both RateLimit and BurstLimit, or neither")
    return UsagePlanSpec(
        logical_id=_USAGE_PLAN_IDS[create].format(api_id=api_id),
        rate_limit=None if rate is None else float(as_text(rate)),
        burst_limit=None if burst is None else int(as_text(burst)),
    )


@dataclass(frozen=True)
class ApiSpec:
    """Everything the local gateway needs to know about one REST API."""

    logical_id: str
    stage: str
    stage_variables: Mapping[str, str] | None
    routes: tuple[Route, ...]
    authorizers: Mapping[str, AuthorizerSpec]
    gateway_responses: Mapping[str, GatewayResponse]
    api_key_source: str = "HEADER"
    """Where a route that requires an API key finds it: `HEADER` (X-API-Key) or `AUTHORIZER`
    (the authorizer's `usageIdentifierKey`), as the API's ApiKeySourceType says."""
    usage_plan: UsagePlanSpec | None = None


def rest_api(template: Mapping[str, Any], resolver: Resolver | None = None) -> ApiSpec:
    """The template's REST API; the local gateway serves one API on one port."""
    resolver = resolver or Resolver(template)
    routes = api_routes(template)
    api_ids = sorted({route.api_id for route in routes})
    if len(api_ids) != 1:
        raise ValueError(f"the local gateway serves exactly one API with routes; the template has {api_ids}")
    (api_id,) = api_ids
    properties = api_properties(template, api_id)
    api_authorizers = authorizers(template, api_id, resolver)
    for route in routes:
        if route.authorizer is not None and route.authorizer not in api_authorizers:
            raise ValueError(
                f"{route.function_id}.{route.event_id}: authorizer {route.authorizer} is not supported"
            )
    variables = resolver.resolve(properties.get("Variables"), f"{properties_place(api_id)}.Variables")
    return ApiSpec(
        logical_id=api_id,
        stage=as_text(
            resolver.resolve(properties.get("StageName", "Prod"), f"{properties_place(api_id)}.StageName")
        ),
        stage_variables={name: as_text(value) for name, value in variables.items()} if variables else None,
        routes=tuple(routes),
        authorizers=api_authorizers,
        gateway_responses=gateway_responses(template, api_id, resolver),
        api_key_source=as_text(
            resolver.resolve(
                properties.get("ApiKeySourceType", "HEADER"), f"{properties_place(api_id)}.ApiKeySourceType"
            )
        ),
        usage_plan=usage_plan(template, api_id, resolver),
    )


# EventBridge's rate units: singular for a value of 1, plural otherwise.
_RATE_UNITS: Final = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"rate\(\s*(\d+)\s+([a-z]+)\s*\)")


def rate_seconds(expression: str) -> int:
    """The period of an EventBridge `rate(...)` expression; anything else is refused."""
    if expression.startswith("cron("):
        raise ValueError(
            f"{expression}: cron schedules do not run locally; use a rate(...) expression, or trigger "
            "the function with POST /_local/schedules/<function>"
        )
    match = _RATE.fullmatch(expression.strip())
    if match:
        value, unit = int(match[1]), match[2]
        singular = unit.removesuffix("s")
        if value >= 1 and singular in _RATE_UNITS and (unit == singular) == (value == 1):
            return value * _RATE_UNITS[singular]
    raise ValueError(
        f"{expression!r} is not an EventBridge rate: rate(1 minute), rate(5 minutes), rate(2 hours), …"
    )


@dataclass(frozen=True)
class ScheduleSpec:
    """One `Type: Schedule` event of a function: an EventBridge rule invoking it on a rate."""

    function_id: str
    event_id: str
    expression: str
    period_seconds: float
    enabled: bool
    rule_name: str
    input: Any  # the rule's constant Input (parsed JSON), None when EventBridge sends its scheduled event


def _schedule_enabled(properties: Mapping[str, Any]) -> bool:
    # SAM takes either Enabled (a boolean, or a string from a parameter) or the rule's State.
    if "State" in properties:
        return as_text(properties["State"]) != "DISABLED"
    return as_text(properties.get("Enabled", True)).lower() == "true"


def schedules(template: Mapping[str, Any], resolver: Resolver | None = None) -> list[ScheduleSpec]:
    """Every Schedule event of every function; a schedule that cannot run locally is an error."""
    resolver = resolver or Resolver(template)
    specs = []
    for function_id, properties in resources_of_type(template, FUNCTION_TYPE).items():
        for event_id, event in (properties.get("Events") or {}).items():
            if event.get("Type") != "Schedule":
                continue
            event_properties = resolver.resolve(
                event.get("Properties") or {}, f"{properties_place(function_id)}.Events.{event_id}.Properties"
            )
            expression = as_text(event_properties.get("Schedule", ""))
            constant_input = event_properties.get("Input")
            try:
                period = rate_seconds(expression)
                parsed_input = None if constant_input is None else json.loads(as_text(constant_input))
            except ValueError as error:  # json.JSONDecodeError is one too
                raise ValueError(f"{function_id}.{event_id}: {error}") from None
            specs.append(
                ScheduleSpec(
                    function_id=function_id,
                    event_id=event_id,
                    expression=expression,
                    period_seconds=period,
                    enabled=_schedule_enabled(event_properties),
                    # The rule's logical id as SAM makes it; CloudFormation adds the stack and a suffix.
                    rule_name=str(event_properties.get("Name", f"{function_id}{event_id}")),
                    input=parsed_input,
                )
            )
    return specs
