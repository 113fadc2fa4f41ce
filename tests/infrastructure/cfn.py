"""Helpers for the template tests: parse template.yaml, run the SAM transform offline, follow references."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from points_local import template as template_loader

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"
EVENTS_DIR = ROOT / "events"

# Any region works; the transform only needs one for pseudo parameters and ARN partitions.
REGION = "eu-west-1"
POWERTOOLS_LAYER_ARN = (
    f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:1"
)
# Values for parameters SAM cannot resolve offline (SSM-typed); the others keep their defaults.
PARAMETER_VALUES: dict[str, Any] = {"PowertoolsLayerArn": POWERTOOLS_LAYER_ARN}

# What IAM's ListPolicies would return for the AWS managed policies SAM attaches to function roles.
MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
}

SAM_FUNCTION = "AWS::Serverless::Function"
SAM_LAYER = "AWS::Serverless::LayerVersion"
SAM_API = "AWS::Serverless::Api"
DYNAMODB_TABLE = "AWS::DynamoDB::Table"


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return template_loader.load_template(path)


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id → the whole resource (Type, Properties, policies) of every resource of one type."""
    return {
        lid: res for lid, res in template.get("Resources", {}).items() if res.get("Type") == resource_type
    }


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """Translate the SAM template to plain CloudFormation, offline (no IAM, no SSM, no credentials).

    Local CodeUri/ContentUri folders become S3 URIs, as `sam package` would make them.
    """
    sam_template = copy.deepcopy(template)
    for resource in sam_template.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = f"s3://artifacts-bucket/{properties[key].strip('/')}"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    return translator.translate(
        sam_template, parameter_values=dict(PARAMETER_VALUES), get_managed_policy_map=lambda: MANAGED_POLICIES
    )


_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def referenced_ids(node: Any) -> set[str]:
    """Logical ids that a value refers to through Ref, Fn::GetAtt or Fn::Sub (pseudo parameters excluded)."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= referenced_ids(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
                found.add(target)
            elif key == "Fn::Sub":
                text, local_vars = (value, {}) if isinstance(value, str) else (value[0], value[1])
                for name in _SUB_VARIABLE.findall(text):
                    base = name.split(".", 1)[0]
                    if base not in local_vars:
                        found.add(base)
                found |= referenced_ids(local_vars)
            else:
                found |= referenced_ids(value)
    return {ref for ref in found if not ref.startswith("AWS::")}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def event_file_for(function_id: str) -> Path:
    """events/<snake_case of the logical id without the Function suffix>.json"""
    return EVENTS_DIR / f"{snake_case(function_id.removesuffix('Function'))}.json"


def api_routes(function: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, METHOD, event properties) of a SAM function's Api events."""
    for event in (function.get("Properties", {}).get("Events") or {}).values():
        if event.get("Type") == "Api":
            props = event.get("Properties", {})
            yield props["Path"], props["Method"].upper(), props


def tool(name: str) -> str:
    """A console script of this virtualenv (sam, cfn-lint), else from PATH."""
    candidate = Path(sys.executable).with_name(name)
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed; run `make install` (it is a dev dependency)")
    return found


def run_sam(*arguments: str, cwd: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    """The SAM CLI, offline and without telemetry; the caller asserts on the result."""
    return subprocess.run(
        [tool("sam"), *arguments],
        cwd=cwd,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
