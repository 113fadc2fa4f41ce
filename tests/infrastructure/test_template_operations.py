"""What keeps the deployed stack operable: state that survives a stack deletion or a replacement.

Each check iterates over everything of a kind in the transformed template (every stateful resource), so
resources added later are covered without touching this file.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.infra

# Resource types that hold data (or a secret, or logs) which a stack deletion or a replacement would destroy.
# A new stateful type the template starts using belongs here.
STATEFUL_TYPES = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::SecretsManager::Secret",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::Kinesis::Stream",
        "AWS::Cognito::UserPool",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::EFS::FileSystem",
    }
)
# Not here: AWS::SNS::Topic. A topic stores no messages; its subscriptions are the operator's, made outside
# the stack, and would not follow a replaced topic to its new ARN any better if the old one were retained.


def _stateful(transformed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in transformed["Resources"].items()
        if resource["Type"] in STATEFUL_TYPES
    }


def test_every_stateful_resource_is_retained_on_delete_and_on_replacement(
    transformed: dict[str, Any],
) -> None:
    stateful = _stateful(transformed)
    assert {"AWS::DynamoDB::Table", "AWS::SecretsManager::Secret"} <= {r["Type"] for r in stateful.values()}
    not_retained = {
        logical_id: (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
        for logical_id, resource in stateful.items()
        if (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) != ("Retain", "Retain")
    }
    assert not_retained == {}, "give these DeletionPolicy: Retain and UpdateReplacePolicy: Retain"
