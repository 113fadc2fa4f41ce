"""A tiny SAM app written into a folder: a few handlers, a REQUEST authorizer, a table, a topic and secrets.

The authorizer appends every Authorization value it sees to `authorizer-calls.log`, so tests can count
its invocations. Its tokens: `Bearer allow…` allows every method of the API, `Bearer deny…` denies,
`Bearer reject…` raises Unauthorized, `Bearer broken…` fails.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31

Parameters:
  StageName:
    Type: String
    Default: test
  Greeting:
    Type: String
    Default: hello
  AuthorizerCacheSeconds:
    Type: Number
    Default: 300

Globals:
  Function:
    Runtime: python3.13
    Timeout: 3
    MemorySize: 256
    Environment:
      Variables:
        GREETING: !Ref Greeting
        ITEMS_TABLE: !Ref ItemsTable
        EVENTS_TOPIC_ARN: !Ref EventsTopic
        CALLS_LOG: {calls_log}

Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref StageName
      Auth:
        DefaultAuthorizer: TokenAuthorizer
        Authorizers:
          TokenAuthorizer:
            FunctionArn: !GetAtt AuthorizerFunction.Arn
            FunctionPayloadType: REQUEST
            Identity:
              Headers: [Authorization]
              ReauthorizeEvery: !Ref AuthorizerCacheSeconds
      GatewayResponses:
        UNAUTHORIZED:
          StatusCode: 401
          ResponseParameters:
            Headers:
              WWW-Authenticate: "'Bearer realm=\\"sample\\"'"
          ResponseTemplates:
            application/json: '{{"error":"unauthorized"}}'
        MISSING_AUTHENTICATION_TOKEN:
          StatusCode: 404
          ResponseTemplates:
            application/json: '{{"error":"no such resource"}}'
        DEFAULT_5XX:
          ResponseTemplates:
            application/json: '{{"error":"try again later"}}'

{functions}  GeneratedSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString:
        PasswordLength: 40
        ExcludePunctuation: true
        ExcludeCharacters: "aeiouAEIOU"

  FixedSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: !Sub "fixed-${{Greeting}}"

  ItemsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {{ AttributeName: pk, AttributeType: S }}
      KeySchema:
        - {{ AttributeName: pk, KeyType: HASH }}

  EventsTopic:
    Type: AWS::SNS::Topic
"""


def _function(function_id: str, handler: str, more: str = "", code_uri: str = "handlers/") -> str:
    """A function resource of TEMPLATE; `more` is the rest of its Properties, as YAML at that indentation."""
    return f"""\
  {function_id}:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {code_uri}
      Handler: {handler}
{more}
"""


def _open_get(event: str, path: str) -> str:
    """An Api event of the sample API: GET `path`, without the authorizer."""
    return f"""\
        {event}:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: {path}
            Method: GET
            Auth:
              Authorizer: NONE
"""


def _with_an_open_get(function_id: str, handler: str, event: str, path: str, more: str = "") -> str:
    """A function whose one route is GET `path`, without the authorizer."""
    return _function(function_id, f"app.{handler}", more + "      Events:\n" + _open_get(event, path))


_ECHO = """\
      Environment:
        Variables:
          ECHO_ONLY: "yes"
      Events:
        Item:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /items/{id}
            Method: GET
"""

_SECRETS = """\
      Environment:
        Variables:
          GENERATED_SECRET_ARN: !Ref GeneratedSecret
          FIXED_SECRET_ARN: !Ref FixedSecret
"""

# TEMPLATE's functions: every one but the authorizer runs app.py of handlers/.
_FUNCTIONS = "".join(
    [
        _function("AuthorizerFunction", "app.handler", code_uri="authorizer/"),
        _function("EchoFunction", "app.echo", _ECHO + _open_get("Health", "/health")),
        _with_an_open_get("SleepFunction", "sleepy", "Sleep", "/sleep"),
        _with_an_open_get("TableFunction", "table_status", "Table", "/table"),
        _with_an_open_get("FailingFunction", "boom", "Boom", "/boom"),
        _with_an_open_get("CrashingFunction", "crash", "Crash", "/crash"),
        _with_an_open_get("SlowFunction", "slow", "Slow", "/slow", more="      Timeout: 1\n"),
        _function("NumbersFunction", "app.numbers"),
        _function("MisconfiguredFunction", "missing_module.handler"),
        _function("NotifyFunction", "app.notify"),
        _function("SecretsFunction", "app.read_secrets", _SECRETS),
    ]
)


HANDLERS = """\
import json
import os
import time
from decimal import Decimal

import boto3


def _reply(body, status=200):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "X-Handler": "sample"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps(body),
    }


def echo(event, context):
    names = ["GREETING", "ITEMS_TABLE", "EVENTS_TOPIC_ARN", "ECHO_ONLY", "AWS_LAMBDA_FUNCTION_NAME", "TZ"]
    return _reply({
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "resource": event["resource"],
        "path": event["path"],
        "pathParameters": event["pathParameters"],
        "query": event["queryStringParameters"],
        "multiQuery": event["multiValueQueryStringParameters"],
        "authorizer": event["requestContext"].get("authorizer"),
        "stage": event["requestContext"]["stage"],
        "sourceIp": event["requestContext"]["identity"]["sourceIp"],
        "environment": {name: os.environ.get(name) for name in names},
        "context": {
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "invoked_function_arn": context.invoked_function_arn,
        },
    })


def sleepy(event, context):
    time.sleep(0.5)
    return _reply({"pid": os.getpid()})


def table_status(event, context):
    table = boto3.client("dynamodb").describe_table(TableName=os.environ["ITEMS_TABLE"])["Table"]
    return _reply({"table": table["TableName"], "status": table["TableStatus"]})


def boom(event, context):
    raise RuntimeError("the handler failed")


def numbers(event, context):
    if event.get("unserialisable"):
        return {"value": object()}
    return {"whole": Decimal("12"), "fraction": Decimal("1.5")}


def _query(event):
    return event.get("queryStringParameters") or {}


def notify(event, context):
    sns = boto3.client("sns")
    sms = sns.publish(PhoneNumber=event["phone"], Message=event["text"])
    email = sns.publish(
        TopicArn=os.environ["EVENTS_TOPIC_ARN"],
        Subject="Your code",
        Message=event["text"],
        MessageAttributes={
            "channel": {"DataType": "String", "StringValue": "email"},
            "destination": {"DataType": "String", "StringValue": event["email"]},
        },
    )
    return {"sms": sms["MessageId"], "email": email["MessageId"]}


def read_secrets(event, context):
    client = boto3.client("secretsmanager")
    names = {"generated": "GENERATED_SECRET_ARN", "fixed": "FIXED_SECRET_ARN"}
    secrets = {key: client.get_secret_value(SecretId=os.environ[name]) for key, name in names.items()}
    return {key: {"arn": secret["ARN"], "value": secret["SecretString"]} for key, secret in secrets.items()}


def crash(event, context):
    if _query(event).get("die"):
        os._exit(3)
    return _reply({"pid": os.getpid()})


def slow(event, context):
    time.sleep(float(_query(event).get("seconds", 0)))
    return _reply({"pid": os.getpid()})
"""

AUTHORIZER = """\
import os


def handler(event, context):
    token = event["headers"]["Authorization"]
    with open(os.environ["CALLS_LOG"], "a") as calls:
        calls.write(token + "\\n")
    kind = token.removeprefix("Bearer ")
    if kind.startswith("reject"):
        raise Exception("Unauthorized")
    if kind.startswith("broken"):
        raise RuntimeError("the user store is down")
    api = "/".join(event["methodArn"].split("/")[:2])
    return {
        "principalId": "user-" + kind,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Deny" if kind.startswith("deny") else "Allow",
                    "Resource": api + "/*",
                }
            ],
        },
        "context": {"user": kind, "level": 3, "admin": True},
    }
"""


def write_sample_app(root: Path) -> Path:
    """Write the app under `root`; returns its template's path."""
    (root / "handlers").mkdir(parents=True)
    (root / "authorizer").mkdir()
    (root / "handlers" / "app.py").write_text(HANDLERS)
    (root / "authorizer" / "app.py").write_text(AUTHORIZER)
    template = root / "template.yaml"
    template.write_text(TEMPLATE.format(calls_log=root / "authorizer-calls.log", functions=_FUNCTIONS))
    return template


def authorizer_calls(root: Path, token: str | None = None) -> int:
    """How many times the sample authorizer was invoked (with this Authorization value, if given)."""
    log = root / "authorizer-calls.log"
    calls = log.read_text().splitlines() if log.exists() else []
    return len(calls) if token is None else calls.count(token)
