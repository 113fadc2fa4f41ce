"""Reading a SAM template: short-form tags, intrinsic functions, Globals, functions, routes, schedules and the
API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from points_local.template import (
    EVALUATED_FUNCTIONS,
    GATEWAY_RESPONSE_CONTEXT_VARIABLES,
    TABLE_TYPE,
    ContextVariable,
    Resolver,
    UnsupportedIntrinsic,
    api_routes,
    function_environment,
    functions,
    gateway_responses,
    load_template,
    rate_seconds,
    rest_api,
    schedules,
    secrets,
    tables,
    topics,
    usage_plan,
)

ROOT = Path(__file__).resolve().parents[2]


def _load(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return load_template(path)


SHORT_FORMS = """\
Resources:
  Thing:
    Type: Custom::Thing
    Properties:
      Ref: !Ref Other
      Sub: !Sub "arn:${AWS::Partition}:${Other}"
      SubList: !Sub ["${A}-${B}", {A: !Ref Other, B: b}]
      GetAttDotted: !GetAtt Other.Arn
      GetAttNested: !GetAtt Other.Endpoint.Address
      GetAttList: !GetAtt [Other, Arn]
      If: !If [IsProd, big, small]
      Equals: !Equals [!Ref Stage, prod]
      Not: !Not [!Condition IsProd]
      And: !And [!Condition IsProd, !Equals [a, a]]
      Or: !Or [!Condition IsProd, !Equals [a, b]]
      Join: !Join [",", [a, !Ref Other]]
      Select: !Select [1, !Split [",", "a,b,c"]]
      FindInMap: !FindInMap [Sizes, !Ref Stage, memory]
      Base64: !Base64 text
      GetAZs: !GetAZs ""
      ImportValue: !ImportValue shared-vpc
"""


def test_every_short_form_becomes_its_long_form(tmp_path: Path) -> None:
    # When
    properties = _load(tmp_path, SHORT_FORMS)["Resources"]["Thing"]["Properties"]

    # Then
    assert properties == {
        "Ref": {"Ref": "Other"},
        "Sub": {"Fn::Sub": "arn:${AWS::Partition}:${Other}"},
        "SubList": {"Fn::Sub": ["${A}-${B}", {"A": {"Ref": "Other"}, "B": "b"}]},
        "GetAttDotted": {"Fn::GetAtt": ["Other", "Arn"]},
        "GetAttNested": {"Fn::GetAtt": ["Other", "Endpoint.Address"]},
        "GetAttList": {"Fn::GetAtt": ["Other", "Arn"]},
        "If": {"Fn::If": ["IsProd", "big", "small"]},
        "Equals": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "Not": {"Fn::Not": [{"Condition": "IsProd"}]},
        "And": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": ["a", "a"]}]},
        "Or": {"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": ["a", "b"]}]},
        "Join": {"Fn::Join": [",", ["a", {"Ref": "Other"}]]},
        "Select": {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]},
        "FindInMap": {"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "memory"]},
        "Base64": {"Fn::Base64": "text"},
        "GetAZs": {"Fn::GetAZs": ""},
        "ImportValue": {"Fn::ImportValue": "shared-vpc"},
    }


def test_an_unknown_tag_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(yaml.constructor.ConstructorError, match="!Bogus"):
        _load(tmp_path, "Resources:\n  A:\n    Type: X\n    Properties:\n      P: !Bogus x\n")


def test_a_file_without_resources_is_not_a_template(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a CloudFormation template"):
        _load(tmp_path, "just: text\n")


RESOLVABLE = """\
Parameters:
  Stage: {Type: String, Default: dev}
  Names: {Type: CommaDelimitedList, Default: "a, b"}
  Size: {Type: Number, Default: 5}
  Required: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsSmall: !Not [!Condition IsProd]
Mappings:
  Sizes:
    dev: {memory: 128}
    prod: {memory: 1024}
Resources:
  Other:
    Type: Custom::Other
"""


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    template = _load(tmp_path, RESOLVABLE)
    return Resolver(
        template,
        refs={"Other": "other-name"},
        attributes={"Other": {"Arn": "arn:other"}},
        parameters={"Required": "given"},
        region="eu-central-1",
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Ref": "Other"}, "other-name"),
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "Size"}, "5"),
        ({"Ref": "Names"}, ["a", "b"]),
        ({"Ref": "Required"}, "given"),
        ({"Ref": "AWS::Region"}, "eu-central-1"),
        ({"Fn::GetAtt": ["Other", "Arn"]}, "arn:other"),
        (
            {"Fn::Sub": "${AWS::AccountId}/${Other}/${Other.Arn}/${!Literal}"},
            "123456789012/other-name/arn:other/${Literal}",
        ),
        ({"Fn::Sub": ["${A}-${B}", {"A": {"Ref": "Stage"}, "B": "b"}]}, "dev-b"),
        ([1, {"Ref": "AWS::NoValue"}, 2], [1, 2]),
    ],
)
def test_intrinsics_resolve_against_local_values(resolver: Resolver, expression: Any, expected: Any) -> None:
    assert resolver.resolve(expression) == expected


@pytest.mark.parametrize(
    ("expression", "function", "where"),
    [
        ({"Fn::Join": ["-", ["x", {"Ref": "Other"}, 3]]}, "Fn::Join", "value"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "Fn::Select", "value"),
        ({"Fn::Split": [",", "a,b,c"]}, "Fn::Split", "value"),
        ({"Fn::If": ["IsProd", "big", "small"]}, "Fn::If", "value"),
        ({"Fn::If": ["IsSmall", "small", "big"]}, "Fn::If", "value"),
        ({"Fn::If": ["Undeclared", 1, 2]}, "Fn::If", "value"),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "memory"]}, "Fn::FindInMap", "value"),
        ({"Fn::Base64": "hi"}, "Fn::Base64", "value"),
        ({"Fn::Equals": [{"Ref": "Size"}, 5]}, "Fn::Equals", "value"),
        ({"Fn::ToJsonString": {"a": {"Ref": "Stage"}}}, "Fn::ToJsonString", "value"),
        ({"Keep": 1, "Drop": {"Fn::If": ["IsProd", 2, {"Ref": "AWS::NoValue"}]}}, "Fn::If", "value.Drop"),
        ([1, {"Fn::Not": [{"Condition": "IsProd"}]}], "Fn::Not", "value[1]"),
        ({"Fn::Sub": ["${A}", {"A": {"Fn::Base64": "x"}}]}, "Fn::Base64", "value.Fn::Sub[1].A"),
    ],
)
def test_intrinsics_template_yaml_does_not_use_fail_naming_the_function_and_place(
    resolver: Resolver, expression: Any, function: str, where: str
) -> None:
    with pytest.raises(
        UnsupportedIntrinsic, match=f"^{re.escape(f'{function} at {where}')} cannot be evaluated"
    ):
        resolver.resolve(expression)


def test_an_unsupported_intrinsic_in_a_resource_names_the_resource_property(tmp_path: Path) -> None:
    # Given
    template = _load(
        tmp_path,
        "Resources:\n  Data:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
        "      BillingMode: !If [IsProd, PROVISIONED, PAY_PER_REQUEST]\n",
    )

    # When
    with pytest.raises(UnsupportedIntrinsic) as raised:
        Resolver(template).resolved_resources(TABLE_TYPE)

    # Then
    assert (raised.value.function, raised.value.where) == ("Fn::If", "Resources.Data.Properties.BillingMode")


def test_ref_to_a_parameter_override_wins_over_its_default(resolver: Resolver) -> None:
    overridden = Resolver(resolver.template, parameters={"Stage": "prod", "Required": "x"})

    assert overridden.resolve({"Ref": "Stage"}) == "prod"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ({"Ref": "Nothing"}, "neither a parameter nor a resource"),
        ({"Fn::GetAtt": ["Other", "StreamArn"]}, "no local value"),
        ({"Fn::ImportValue": "x"}, "cannot be evaluated locally"),
    ],
)
def test_what_cannot_be_resolved_locally_is_an_error(
    resolver: Resolver, expression: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        resolver.resolve(expression)


def test_a_parameter_without_default_needs_an_override(resolver: Resolver) -> None:
    with pytest.raises(ValueError, match="Required has no Default"):
        Resolver(resolver.template).resolve({"Ref": "Required"})


APP = """\
Parameters:
  Level: {Type: String, Default: INFO}
  Stage: {Type: String, Default: live}
Globals:
  Function:
    Timeout: 10
    MemorySize: 512
    Layers: [!Ref CoreLayer, !Ref ExternalLayerArn]
    Environment:
      Variables:
        LOG_LEVEL: !Ref Level
        TABLE: !Ref DataTable
        TOPIC_ARN: !Ref NewsTopic
        FLAG: true
        OVERRIDDEN: global
  Api:
    Auth:
      DefaultAuthorizer: Checker
      Authorizers:
        Checker:
          FunctionArn: !GetAtt AuthFunction.Arn
          FunctionPayloadType: REQUEST
          Identity: {Headers: [X-Key]}
Resources:
  CoreLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layers/core/}
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: fn/auth/, Handler: app.handler}
  ReadFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/read/
      Handler: pkg.app.handler
      Timeout: 3
      Layers: [!Ref OtherLayer]
      Environment:
        Variables: {OVERRIDDEN: own, STAGE: !Sub "stage-${Stage}"}
      Events:
        Get: {Type: Api, Properties: {Path: "/things/{id}", Method: get}}
        Open: {Type: Api, Properties: {Path: /ping, Method: ANY, Auth: {Authorizer: NONE}}}
        Queue: {Type: SQS, Properties: {Queue: arn:queue}}
  DataTable:
    Type: AWS::DynamoDB::Table
    Properties: {KeySchema: []}
  NewsTopic:
    Type: AWS::SNS::Topic
"""


def test_function_specs_apply_globals_and_sam_defaults(tmp_path: Path) -> None:
    # When
    specs = functions(_load(tmp_path, APP), tmp_path)

    # Then
    read = specs["ReadFunction"]
    assert read.code_dir == tmp_path / "fn" / "read"
    assert read.handler == "pkg.app.handler"
    assert (read.timeout_seconds, read.memory_mb) == (3, 512)
    # Globals' layers come first; only the template's own layers are folders.
    assert read.layer_dirs == (tmp_path / "layers" / "core" / "python",)
    assert specs["AuthFunction"].timeout_seconds == 10


def test_function_environment_merges_globals_and_resolves_refs(tmp_path: Path) -> None:
    # Given
    template = _load(tmp_path, APP)
    physical = {"DataTable": "DataTable", "NewsTopic": "arn:aws:sns:eu-west-1:123456789012:NewsTopic"}

    # When
    environment = function_environment(template, "ReadFunction", physical, parameters={"Level": "DEBUG"})

    # Then
    assert environment == {
        "LOG_LEVEL": "DEBUG",
        "TABLE": "DataTable",
        "TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:NewsTopic",
        "FLAG": "true",
        "OVERRIDDEN": "own",
        "STAGE": "stage-live",
    }


def test_routes_come_from_api_events_with_their_authorizer(tmp_path: Path) -> None:
    routes = api_routes(_load(tmp_path, APP))

    assert [(route.api_id, route.path, route.method, route.authorizer) for route in routes] == [
        ("ServerlessRestApi", "/things/{id}", "GET", "Checker"),
        ("ServerlessRestApi", "/ping", "ANY", None),
    ]


def test_the_implicit_api_gets_the_api_globals(tmp_path: Path) -> None:
    api = rest_api(_load(tmp_path, APP))

    assert api.logical_id == "ServerlessRestApi"
    assert api.stage == "Prod"
    assert api.authorizers["Checker"].function_id == "AuthFunction"
    assert api.authorizers["Checker"].identity_headers == ("X-Key",)
    assert api.authorizers["Checker"].ttl_seconds == 300


def test_only_request_authorizers_run_locally(tmp_path: Path) -> None:
    template = _load(tmp_path, APP.replace("FunctionPayloadType: REQUEST", "FunctionPayloadType: TOKEN"))

    with pytest.raises(ValueError, match="only FunctionPayloadType REQUEST"):
        rest_api(template)


def test_gateway_response_headers_are_unquoted_literals(tmp_path: Path) -> None:
    # Given
    template = _load(tmp_path, APP)
    template["Globals"]["Api"]["GatewayResponses"] = {
        "UNAUTHORIZED": {
            "StatusCode": 401,
            "ResponseParameters": {"Headers": {"WWW-Authenticate": "'Basic realm=\"x\"'"}},
            "ResponseTemplates": {"application/json": '{"m":1}'},
        }
    }

    # When
    responses = gateway_responses(template)

    # Then
    assert responses["UNAUTHORIZED"].status_code == 401
    assert responses["UNAUTHORIZED"].headers == {"WWW-Authenticate": 'Basic realm="x"'}
    assert responses["UNAUTHORIZED"].templates == {"application/json": '{"m":1}'}


def test_a_gateway_response_header_may_map_a_context_variable(tmp_path: Path) -> None:
    # Given
    template = _load(tmp_path, APP)
    template["Globals"]["Api"]["GatewayResponses"] = {
        "DEFAULT_4XX": {
            "ResponseParameters": {
                "Headers": {
                    "X-Cap-RequestID": "context.requestId",
                    "X-Stage": "context.stage",
                    "X-Lit": "'a'",
                }
            }
        }
    }

    # When
    responses = gateway_responses(template)

    # Then
    assert responses["DEFAULT_4XX"].headers == {
        "X-Cap-RequestID": ContextVariable("requestId"),
        "X-Stage": ContextVariable("stage"),
        "X-Lit": "a",
    }


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        pytest.param(
            "context.somethingUnknown",
            r"header X-Echo maps context\.somethingUnknown, a context variable the local gateway does not "
            r"provide \(it provides context\.requestId, ",
            id="an unknown context variable",
        ),
        pytest.param(
            "method.request.header.X-Echo",
            r"header X-Echo must be a quoted literal or context\.<variable> \(context\.requestId, .*\), got "
            r"method\.request\.header\.X-Echo",
            id="a request header",
        ),
        pytest.param(
            "stageVariables.name", "header X-Echo must be a quoted literal or context", id="a stage variable"
        ),
        pytest.param(
            "'unterminated", "header X-Echo must be a quoted literal or context", id="an unterminated literal"
        ),
    ],
)
def test_a_gateway_response_header_the_local_gateway_cannot_evaluate_is_refused(
    tmp_path: Path, expression: str, error: str
) -> None:
    template = _load(tmp_path, APP)
    template["Globals"]["Api"]["GatewayResponses"] = {
        "DEFAULT_4XX": {"ResponseParameters": {"Headers": {"X-Echo": expression}}}
    }

    with pytest.raises(ValueError, match=f"gateway response DEFAULT_4XX: {error}"):
        gateway_responses(template)


def test_every_gateway_response_of_the_project_carries_the_request_id_and_speaks_json_and_xml() -> None:
    responses = gateway_responses(load_template(ROOT / "template.yaml"))

    expected = {
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "THROTTLED",
        "MISSING_AUTHENTICATION_TOKEN",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    }
    assert expected <= set(responses)
    assert "requestId" in GATEWAY_RESPONSE_CONTEXT_VARIABLES
    for response_type in expected:
        response = responses[response_type]
        assert response.headers["X-Cap-RequestID"] == ContextVariable("requestId"), response_type
        assert set(response.templates) == {"application/json", "application/xml"}, response_type


def test_the_project_template_is_understood() -> None:
    # Given
    template = load_template(ROOT / "template.yaml")
    physical = {name: name for name in tables(template)}
    physical |= {name: f"arn:aws:sns:eu-west-1:123456789012:{name}" for name in topics(template)}
    physical |= {
        name: f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{name}-AbCdEf"
        for name in secrets(template)
    }

    # When
    api = rest_api(template)
    specs = functions(template, ROOT)
    scheduled = schedules(template)

    # Then: every function's code exists and its environment resolves to strings
    assert api.routes
    for function_id, spec in specs.items():
        assert (spec.code_dir / f"{spec.handler.rpartition('.')[0].replace('.', '/')}.py").is_file()
        environment = function_environment(template, function_id, physical)
        assert all(isinstance(value, str) for value in environment.values())
        assert {environment[name] for name in environment if name.endswith("_TABLE")} <= set(tables(template))
    assert all(schedule.function_id in specs for schedule in scheduled)


def _intrinsics(value: Any, where: str) -> Iterator[tuple[str, str, Any]]:
    """(place, function, expression) of every intrinsic in `value`, nested ones included."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _intrinsics(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                yield where, key, value
                yield from _intrinsics(argument, f"{where}.{key}")
                return
        for key, item in value.items():
            yield from _intrinsics(item, f"{where}.{key}")


def test_every_intrinsic_of_the_project_template_resolves() -> None:
    # Given: a local value for every resource, as the local stack gives them
    template = load_template(ROOT / "template.yaml")
    # Besides the template's resources, the usage plan SAM makes of PointsApi's Auth.UsagePlan (an output).
    plan = usage_plan(template, "PointsApi")
    assert plan is not None
    resolver = Resolver(
        template,
        refs={logical_id: f"local-{logical_id}" for logical_id in [*template["Resources"], plan.logical_id]},
        attributes={logical_id: {"Arn": f"arn:local:{logical_id}"} for logical_id in template["Resources"]},
    )
    found = [
        (where, function, expression)
        for section, content in template.items()
        for where, function, expression in _intrinsics(content, section)
    ]

    # When
    resolved = {where: resolver.resolve(expression, where) for where, _, expression in found}

    # Then: the resolver evaluates exactly the functions the template uses, each to a plain value
    assert {function for _, function, _ in found} == set(EVALUATED_FUNCTIONS)
    assert all(isinstance(value, str) and "${" not in value for value in resolved.values()), resolved
    assert resolved["Outputs.ApiUrl.Value"] == (
        "https://local-PointsApi.execute-api.eu-west-1.amazonaws.com/prod"
    )


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("rate(12 hours)", 43200),
        ("rate(1 day)", 86400),
        ("rate(7 days)", 604800),
    ],
)
def test_rate_expressions_give_their_period(expression: str, seconds: int) -> None:
    assert rate_seconds(expression) == seconds


@pytest.mark.parametrize(
    "expression",
    [
        "rate(5 minute)",
        "rate(1 minutes)",
        "rate(0 minutes)",
        "rate(5 seconds)",
        "rate(5)",
        "every 5 minutes",
        "",
    ],
)
def test_what_eventbridge_would_refuse_is_refused(expression: str) -> None:
    with pytest.raises(ValueError, match="is not an EventBridge rate"):
        rate_seconds(expression)


def test_cron_schedules_are_refused_with_a_way_out() -> None:
    with pytest.raises(
        ValueError, match=r"cron schedules do not run locally; use a rate\(\.\.\.\) .*/_local/"
    ):
        rate_seconds("cron(0 12 * * ? *)")


SCHEDULED = """\
Parameters:
  CleanupEnabled: {Type: String, Default: "false"}
  Every: {Type: String, Default: "10"}
Resources:
  CleanupFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Events:
        Often:
          Type: Schedule
          Properties: {Schedule: !Sub "rate(${Every} minutes)"}
        Nightly:
          Type: Schedule
          Properties: {Schedule: rate(1 day), Enabled: !Ref CleanupEnabled, Name: nightly-cleanup}
        Paused:
          Type: Schedule
          Properties: {Schedule: rate(1 hour), State: DISABLED, Input: '{"mode": "dry-run"}'}
        Get:
          Type: Api
          Properties: {Path: /cleanup, Method: post}
"""


def test_schedule_events_are_read_with_their_rate_and_state(tmp_path: Path) -> None:
    # When
    specs = schedules(_load(tmp_path, SCHEDULED))

    # Then: Api events are routes, not schedules
    assert [(s.event_id, s.expression, s.period_seconds, s.enabled) for s in specs] == [
        ("Often", "rate(10 minutes)", 600, True),
        ("Nightly", "rate(1 day)", 86400, False),
        ("Paused", "rate(1 hour)", 3600, False),
    ]
    # SAM's rule logical id, unless the event names the rule
    assert [s.rule_name for s in specs] == [
        "CleanupFunctionOften",
        "nightly-cleanup",
        "CleanupFunctionPaused",
    ]
    assert [s.input for s in specs] == [None, None, {"mode": "dry-run"}]


def test_a_schedule_that_cannot_run_locally_names_its_event(tmp_path: Path) -> None:
    template = _load(tmp_path, SCHEDULED.replace("rate(1 day)", '"cron(0 3 * * ? *)"'))

    with pytest.raises(ValueError, match=r"CleanupFunction\.Nightly: cron\(0 3 \* \* \? \*\)"):
        schedules(template)


def test_a_schedule_input_that_is_not_json_names_its_event(tmp_path: Path) -> None:
    template = _load(tmp_path, SCHEDULED.replace("""Input: '{"mode": "dry-run"}'""", "Input: dry-run"))

    with pytest.raises(ValueError, match=r"CleanupFunction\.Paused: Expecting value"):
        schedules(template)
