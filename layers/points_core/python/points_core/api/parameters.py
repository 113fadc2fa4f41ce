"""Query and header parameters every route shares, declared so that the OpenAPI document tells the truth."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import BaseModel, Field

from points_core.capillary.formats import WireFormat
from points_core.capillary.patterns import SPACE, words_pattern
from points_core.domain.errors import InvalidInput
from points_core.domain.models.group import GroupRequest
from points_core.domain.validation_codes import ValidationType

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"

OptionalText = str | None

IDEMPOTENCY_KEY_MAX_LENGTH = 255

# What the OpenAPI document says each parameter takes is exactly what the code reads (a blank one is absent);
# the code checks them itself (a clear 400), the patterns only document it.
FORMAT_PATTERN = words_pattern((wire_format.value for wire_format in WireFormat), blank=True)
VALIDATION_TYPE_PATTERN = words_pattern((kind.value for kind in ValidationType), blank=True)
# Some character that is not a space, none that is a control character.
IDEMPOTENCY_KEY_PATTERN = rf"^[^\x00-\x1f]*[^{SPACE}\x00-\x1f][^\x00-\x1f]*$"

Format = Annotated[
    OptionalText,
    Query(
        description=(
            "json or xml, any case. Without it: the method suffix (.json, .xml), else the Accept header "
            "(a JSON or an XML media type), else xml (Capillary's v1.1 default)"
        ),
        json_schema_extra={"pattern": FORMAT_PATTERN},
    ),
]
ProgramId = Annotated[OptionalText, Query(description="Program; default: the till's store mapping")]
ValidationTypeParam = Annotated[
    OptionalText,
    Query(
        description="SMS (default), MISSED_CALL, INVALID; any case",
        json_schema_extra={"pattern": VALIDATION_TYPE_PATTERN},
    ),
]
IdempotencyKey = Annotated[
    OptionalText,
    Header(
        alias=IDEMPOTENCY_KEY_HEADER,
        description=(
            "Any retry with the same key and body replays the first answer byte for byte (kept 24 hours); "
            "the same key with another request is HTTP 422; while the first is still running, HTTP 409"
        ),
        json_schema_extra={
            "minLength": 1,
            "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
            "pattern": IDEMPOTENCY_KEY_PATTERN,
        },
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
    """Absent is SMS; anything outside the reference's enum (in any ASCII case) is invalid input (400)."""
    if text is None or not text.strip():
        return ValidationType.SMS
    name = text.strip()
    try:
        # ASCII only: str.upper() reads a long s or a dotless i as S or I, and sharp s as SS.
        return ValidationType(name.upper() if name.isascii() else name)
    except ValueError:
        raise InvalidInput(
            f"validation_type={text.strip()} is not one of SMS, MISSED_CALL, INVALID"
        ) from None


class GroupParameters(BaseModel):
    """The group redemption parameters of isredeemable and redeem (reference §2.1, §4.1); empty values are
    absent. Naming a UserGroup2 group takes one of the first four (or the primary member's identifier)."""

    user_group2_id: str | None = Field(default=None, description="UserGroup2 group id (int32)")
    user_group2_external_id: str | None = Field(default=None, description="UserGroup2 group external id")
    user_group2_primary_user_id: str | None = Field(
        default=None, description="The group's primary member, by customer id"
    )
    use_default_user_group2: str | None = Field(
        default=None, description="true: the named customer's default group"
    )
    user_group2_primary_user_identifier_type: str | None = Field(
        default=None, description="mobile, email, cardnumber, cardExternalId, externalId or id"
    )
    user_group2_primary_user_identifier_value: str | None = Field(
        default=None, description="The primary member's identifier of that type"
    )
    user_group2_primary_user_source: str | None = Field(
        default=None, description="INSTORE, WECHAT, ... (accepted; every source names the org's customers)"
    )
    user_group2_primary_user_accountId: str | None = Field(
        default=None, description="Account id of a multi-account source (accepted)"
    )
    group_redemption: str | None = Field(
        default=None, description="true: redeem from the points of the program's program group too"
    )

    def as_request(self) -> GroupRequest:
        return GroupRequest(
            group_redemption=truthy(self.group_redemption),
            group_id=self.user_group2_id or "",
            external_id=self.user_group2_external_id or "",
            primary_user_id=self.user_group2_primary_user_id or "",
            primary_identifier_type=self.user_group2_primary_user_identifier_type or "",
            primary_identifier_value=self.user_group2_primary_user_identifier_value or "",
            primary_source=self.user_group2_primary_user_source or "",
            primary_account_id=self.user_group2_primary_user_accountId or "",
            use_default=truthy(self.use_default_user_group2),
        )
