"""Query and header parameters every route shares, declared so that the OpenAPI document tells the truth."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import BaseModel, Field

from points_core.domain.errors import InvalidInput
from points_core.domain.validation_codes import ValidationType

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"

OptionalText = str | None

Format = Annotated[
    OptionalText,
    Query(
        description=(
            "json or xml, any case. Without it: the method suffix (.json, .xml), else the Accept header "
            "(a JSON or an XML media type), else xml (Capillary's v1.1 default)"
        )
    ),
]
ProgramId = Annotated[OptionalText, Query(description="Program; default: the till's store mapping")]
ValidationTypeParam = Annotated[OptionalText, Query(description="SMS (default), MISSED_CALL, INVALID")]
IdempotencyKey = Annotated[
    OptionalText,
    Header(
        alias=IDEMPOTENCY_KEY_HEADER,
        description=(
            "Any retry with the same key and body replays the first answer byte for byte (kept 24 hours); "
            "the same key with another request is HTTP 422; while the first is still running, HTTP 409"
        ),
    ),
]


class CustomerIdentifiers(BaseModel):
    """The customer identifier query parameters every v1.1 points GET accepts; empty values are absent."""

    mobile: str | None = Field(default=None, description="Mobile number, with or without country code")
    email: str | None = Field(default=None, description="Email address")
    external_id: str | None = Field(default=None, description="The org's customer id")
    id: str | None = Field(default=None, description="Customer id")
    user_id: str | None = Field(default=None, description="Customer id (older clients' name for id)")
    card_number: str | None = Field(default=None, description="Loyalty card number")
    card_external_id: str | None = Field(default=None, description="Loyalty card external id")

    def as_identifiers(self) -> dict[str, str | None]:
        values = self.model_dump(exclude={"user_id"})
        values["id"] = self.id or self.user_id
        return values


def truthy(value: str | None) -> bool:
    """Capillary booleans: only `true` (any case) or `1` is true; anything else, including junk, is false."""
    return value is not None and value.strip().lower() in ("true", "1")


def parse_validation_type(text: str | None) -> ValidationType:
    """Absent is SMS; anything outside the reference's enum is invalid input (400)."""
    if text is None or not text.strip():
        return ValidationType.SMS
    try:
        return ValidationType(text.strip().upper())
    except ValueError:
        raise InvalidInput(
            f"validation_type={text.strip()} is not one of SMS, MISSED_CALL, INVALID"
        ) from None
