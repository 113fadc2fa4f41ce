"""Between models and DynamoDB attribute values. Numbers stay `Decimal`; times are ISO-8601 with offset."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool | str | Decimal | None):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    raise TypeError(f"cannot store {type(value).__name__}")


def to_item(values: Mapping[str, Any], key: Mapping[str, Any] | None = None) -> dict[str, Any]:
    item = {name: serialize(value) for name, value in values.items()}
    if key:
        item.update(key)
    return item


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: _deserializer.deserialize(value) for name, value in item.items() if name not in ("pk", "sk")
    }


def serialize(value: Any) -> dict[str, Any]:
    return dict(_serializer.serialize(_plain(value)))


def load_model(model: type[ModelT], item: Mapping[str, Any]) -> ModelT:
    """A model from an item, ignoring attributes the model does not have (keys, `kind`, markers)."""
    values = from_item(item)
    return model.model_validate({name: values[name] for name in model.model_fields if name in values})
