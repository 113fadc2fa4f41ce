"""moto's DynamoDB serialized, as DynamoDB's per-request atomicity requires; and restored afterwards."""

from __future__ import annotations

from moto.dynamodb.models import DynamoDBBackend

from points_local import atomic_dynamodb


def test_install_wraps_the_data_operations_once_and_uninstall_restores_them() -> None:
    original = DynamoDBBackend.update_item
    atomic_dynamodb.install()
    wrapped = DynamoDBBackend.update_item
    atomic_dynamodb.install()
    try:
        assert wrapped is not original
        assert DynamoDBBackend.update_item is wrapped
        assert wrapped.__wrapped__ is original  # type: ignore[attr-defined]
    finally:
        atomic_dynamodb.uninstall()
    assert DynamoDBBackend.update_item is original
