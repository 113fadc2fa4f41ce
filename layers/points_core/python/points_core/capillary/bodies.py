"""Request bodies. v1.1: `{"root": {"redeem": {...} | [{...}, ...]}}` and `{"root": {"revert": ...}}`; v2:
the reverse request. The resolver reads them with exact decimals (never floats) and validates them against
these models; a structural problem is a request-level 400 that names the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from points_core.capillary.patterns import NOT_BLANK, words_pattern
from points_core.domain.errors import InvalidInput
from points_core.domain.identifiers import V2_TYPE_NAMES, IdentifierType, v2_identifier_type
from points_core.domain.models import CustomField

MAX_ITEMS = 20
# Input bounds (product.md): a body, JSON or XML, is at most 64 KiB; free text is bounded by field.
MAX_BODY_BYTES = 64 * 1024
MAX_NOTES_CHARS = 1000
MAX_REFERENCE_CHARS = 100
MAX_CUSTOM_FIELDS = 20


def _text(value: Any) -> Any:
    """Clients send numbers or strings for the same field: keep the exact text of a number."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return str(value)
    return value


# A text field takes a JSON number too, as its exact text: documented as a string, a number or null.
Text = Annotated[str | None, BeforeValidator(_text, json_schema_input_type=str | float | None)]
# Free text kept with a redemption: a bound each, so that no record nears DynamoDB's 400 KB item limit.
_Reference = Annotated[str, Field(max_length=MAX_REFERENCE_CHARS)]
_Notes = Annotated[str, Field(max_length=MAX_NOTES_CHARS)]
Reference = Annotated[
    _Reference | None, BeforeValidator(_text, json_schema_input_type=_Reference | float | None)
]
Notes = Annotated[_Notes | None, BeforeValidator(_text, json_schema_input_type=_Notes | float | None)]
# Points: a JSON number (read exactly) or a string.
Amount = Annotated[
    str | None,
    BeforeValidator(_text),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]}),
]


def _flag(value: Any) -> Any:
    """A Capillary boolean, sent as a JSON boolean or a string ("false" in the reference's examples)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _text(value)


Flag = Annotated[
    str | None,
    BeforeValidator(_flag),
    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "string"}, {"type": "null"}]}),
]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class BodyCustomer(_Lenient):
    mobile: Text = None
    email: Text = None
    external_id: Text = None
    id: Text = None
    user_id: Text = None
    card_number: Text = None
    card_external_id: Text = None

    def identifiers(self) -> dict[str, str | None]:
        values = self.model_dump(exclude={"user_id"})
        values["id"] = self.id or self.user_id
        return values


class BodyCustomFields(_Lenient):
    field: Annotated[list[CustomField], Field(max_length=MAX_CUSTOM_FIELDS)] | CustomField = Field(
        default_factory=list
    )

    def as_tuple(self) -> tuple[CustomField, ...]:
        return tuple(self.field) if isinstance(self.field, list) else (self.field,)


class BodyItem(_Lenient):
    points_redeemed: Amount = None
    customer: BodyCustomer = BodyCustomer()
    transaction_number: Reference = None
    external_reference_number: Reference = None
    validation_code: Text = None
    redemption_time: Text = None
    notes: Notes = None
    till_id: Reference = None
    redemption_purpose: Notes = None
    custom_fields: BodyCustomFields | None = None
    group_redemption: Flag = Field(
        default=None,
        description='true (or "true"): redeem from the points of the program\'s program group too',
    )


# The list form's bounds, as documented; `require_items` checks them (with its own message).
_ITEMS_SCHEMA = Field(json_schema_extra={"minItems": 1, "maxItems": MAX_ITEMS})


class RedeemRoot(BaseModel):
    redeem: BodyItem | Annotated[list[BodyItem], _ITEMS_SCHEMA]


class RevertItemBody(_Lenient):
    transaction_number: Reference = None
    customer: BodyCustomer = BodyCustomer()
    points_redeemed: Amount = Field(
        default=None, description="What was redeemed on the bill; when given, it must match (810)"
    )


class RevertRoot(BaseModel):
    revert: RevertItemBody | Annotated[list[RevertItemBody], _ITEMS_SCHEMA]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class RedeemBody(BaseModel):
    root: RedeemRoot

    @property
    def items(self) -> list[BodyItem]:
        return _listed(self.root.redeem)


class RevertBody(BaseModel):
    root: RevertRoot

    @property
    def items(self) -> list[RevertItemBody]:
        return _listed(self.root.revert)


def require_items(body: RedeemBody | RevertBody, name: str = "root.redeem") -> None:
    if not body.items or len(body.items) > MAX_ITEMS:
        raise InvalidInput(f"{name}: between 1 and {MAX_ITEMS} items")


def _identifier_type(value: Any) -> Any:
    if isinstance(value, str) and v2_identifier_type(value) is None:
        raise ValueError("use ID, PHONE, mobile, EMAIL, externalId, cardnumber or cardExternalId")
    return value


class ReverseIdentifier(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: Annotated[
        str,
        BeforeValidator(_identifier_type),
        Field(
            description="ID, PHONE (or mobile), EMAIL, externalId, cardnumber, cardExternalId; any case",
            json_schema_extra={"pattern": words_pattern(V2_TYPE_NAMES, ignored="_")},
        ),
    ]
    value: Annotated[str, BeforeValidator(_text, json_schema_input_type=str | float)]

    @property
    def identifier_type(self) -> IdentifierType:
        found = v2_identifier_type(self.type)
        assert found is not None  # checked by the validator
        return found


# A redemptionId or externalReferenceNumber that names one: some character other than a space, or a number.
_NAMED: dict[str, Any] = {"anyOf": [{"type": "string", "pattern": NOT_BLANK}, {"type": "number"}]}


class ReverseBody(BaseModel):
    """`POST /v2/points/reverse`: by `redemptionId` or `externalReferenceNumber` (both: the same one)."""

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        # What `_names_a_redemption` requires, documented.
        json_schema_extra={
            "anyOf": [
                {"properties": {name: _NAMED}, "required": [name]}
                for name in ("redemptionId", "externalReferenceNumber")
            ]
        },
    )

    redemptionId: Text = Field(default=None, description="The redemption_id of the redeem response")
    externalReferenceNumber: Text = Field(
        default=None, description="The external_reference_number the redemption was made with"
    )
    pointsToBeReversed: Amount = Field(
        default=None, description="At most 3 decimals; absent: everything not reversed yet"
    )
    identifier: ReverseIdentifier

    @model_validator(mode="after")
    def _names_a_redemption(self) -> ReverseBody:
        if not (self.redemptionId or "").strip() and not (self.externalReferenceNumber or "").strip():
            raise ValueError("redemptionId or externalReferenceNumber is required")
        return self
