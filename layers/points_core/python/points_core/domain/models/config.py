"""An org's configuration: programs and their redemption rules, stores, OTP settings, policies."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

PositiveDecimal = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
NonNegativeDecimal = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]

DEFAULT_BLOCKING_FRAUD_STATUSES = frozenset({"Marked", "Confirmed", "Reconfirmed"})
FRAUD_STATUSES = frozenset({"Marked", "Confirmed", "Reconfirmed", "Not_Fraud", "Internal"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RedemptionRules(_Model):
    """One redemption strategy. Absent limits do not apply."""

    min_points: NonNegativeDecimal = Decimal(0)
    max_points_per_redemption: PositiveDecimal | None = None
    multiples_of: PositiveDecimal | None = None
    min_lifetime_points: NonNegativeDecimal = Decimal(0)
    min_lifetime_purchases: NonNegativeDecimal = Decimal(0)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> RedemptionRules:
        if self.max_points_per_redemption is not None and self.min_points > self.max_points_per_redemption:
            raise ValueError("min_points is above max_points_per_redemption")
        return self


class Program(_Model):
    program_id: Annotated[int, Field(gt=0)]
    name: str = ""
    points_currency_ratio: PositiveDecimal = Field(
        description="Value of one point in the org's base currency"
    )
    rules: RedemptionRules = RedemptionRules()
    tier_rules: dict[str, RedemptionRules] = Field(
        default_factory=dict, description="Rules per tier name; a customer without a listed tier gets `rules`"
    )

    def rules_for(self, tier: str | None) -> RedemptionRules:
        if tier is not None and tier in self.tier_rules:
            return self.tier_rules[tier]
        return self.rules


class ProgramGroup(_Model):
    """Programs that redeem from one another's points (`group_redemption=true`): a redemption in one of them
    draws from the customer's points in all of them, earliest expiry first."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    program_ids: Annotated[tuple[Annotated[int, Field(gt=0)], ...], Field(min_length=2, max_length=10)]
    enabled: bool = True


class Store(_Model):
    store_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: str = ""
    program_id: int | None = Field(default=None, description="The program a till of this store redeems from")


class OtpSettings(_Model):
    length: Annotated[int, Field(ge=6, le=10)] = 6
    alphabet: Literal["numeric", "alphanumeric"] = "numeric"
    validity_minutes: Annotated[int, Field(ge=1, le=1440)] = 10
    channels: Literal["sms", "email", "both"] = "sms"
    max_sends: Annotated[int, Field(ge=1, le=1000)] = 5
    window_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 5
    message: Annotated[str, Field(min_length=1, max_length=300)] = (
        "{code} is your validation code to redeem {points} points. It is valid for {minutes} minutes."
    )

    @field_validator("message")
    @classmethod
    def _message_template(cls, value: str) -> str:
        """The text sent with a code: `{code}` is required; `{points}` and `{minutes}` may appear."""
        try:
            filled = value.format(code="\x00", points="1", minutes="1")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"only {{code}}, {{points}} and {{minutes}} may appear in braces ({error})"
            ) from None
        if "\x00" not in filled:
            raise ValueError("the message must contain {code}")
        return value


class OrgConfig(_Model):
    org_id: Annotated[int, Field(gt=0)]
    name: str = ""
    timezone: str = "UTC"
    timezone_rules: str = Field(
        default="",
        repr=False,
        description="Compiled zone rules (TZif, base64) from apply-config, for runtimes without tzdata",
    )
    country_code: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}$")] = Field(
        description="Default country calling code, prefixed to national mobile numbers"
    )
    mobile_national_digits: Annotated[int, Field(ge=6, le=12)] = Field(
        default=10, description="Digits of a national mobile number, without country code or trunk 0"
    )
    base_currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "INR"
    currency_decimals: Annotated[int, Field(ge=0, le=4)] = 2
    local_currency_ratio: PositiveDecimal = Field(
        default=Decimal(1), description="Local currency units per base currency unit"
    )
    blocking_fraud_statuses: frozenset[str] = DEFAULT_BLOCKING_FRAUD_STATUSES
    default_program_id: int | None = None
    programs: tuple[Program, ...] = ()
    stores: tuple[Store, ...] = ()
    program_groups: tuple[ProgramGroup, ...] = Field(
        default=(),
        description="Programs that redeem from one another's points (group_redemption=true); a program is in "
        "at most one group",
    )
    otp: OtpSettings = OtpSettings()
    backdating_days: Annotated[int, Field(ge=0, le=366)] = 7
    reversal_enabled: bool = True
    allow_skip_validation: bool = False
    validation_required: bool = Field(
        default=True,
        description="Whether a redemption must give a validation code; when not, one with no code passes "
        "(a code that is given is still checked)",
    )
    v2_error_http_status: Literal[200, 400] = Field(
        default=200,
        description="HTTP status of a v2 business refusal: 200 (default; clients read errors[] only from a "
        "2xx) or 400",
    )
    till_ids: frozenset[str] | None = Field(
        default=None,
        description="The org's tills (their usernames, the till_id a caller is known by), written by "
        "apply-config from its tills: a body's till_id naming one is kept as an attribution without a read; "
        "None in a configuration saved before it listed them (then the org's record of the till is read)",
    )

    @field_serializer("till_ids")
    def _sorted_tills(self, value: frozenset[str] | None) -> list[str] | None:
        """The same tills, the same document."""
        return sorted(value) if value is not None else None

    @field_validator("blocking_fraud_statuses")
    @classmethod
    def _known_fraud_statuses(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = value - FRAUD_STATUSES
        if unknown:
            raise ValueError(f"unknown fraud statuses {sorted(unknown)}; known: {sorted(FRAUD_STATUSES)}")
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> OrgConfig:
        program_ids = [program.program_id for program in self.programs]
        if len(set(program_ids)) != len(program_ids):
            raise ValueError("program_id values must be unique")
        store_ids = [store.store_id for store in self.stores]
        if len(set(store_ids)) != len(store_ids):
            raise ValueError("store_id values must be unique")
        known = set(program_ids)
        if self.default_program_id is not None and self.default_program_id not in known:
            raise ValueError(f"default_program_id {self.default_program_id} is not one of the programs")
        for store in self.stores:
            if store.program_id is not None and store.program_id not in known:
                raise ValueError(f"store {store.store_id} maps to unknown program {store.program_id}")
        grouped: list[int] = []
        for group in self.program_groups:
            if unknown := set(group.program_ids) - known:
                raise ValueError(f"program group {group.name} names unknown programs {sorted(unknown)}")
            if len(set(group.program_ids)) != len(group.program_ids):
                raise ValueError(f"program group {group.name} names a program twice")
            grouped.extend(group.program_ids)
        if len(set(grouped)) != len(grouped):
            raise ValueError("a program is in more than one program group")
        return self

    def program_group(self, program_id: int) -> ProgramGroup | None:
        """The program group a program redeems with, when it is in one."""
        return next((group for group in self.program_groups if program_id in group.program_ids), None)

    def program(self, program_id: int) -> Program | None:
        return next((program for program in self.programs if program.program_id == program_id), None)

    def store(self, store_id: str) -> Store | None:
        return next((store for store in self.stores if store.store_id == store_id), None)


TILL_USERNAME_MAX = 128
TILL_USERNAME_PATTERN = r"^[A-Za-z0-9._@-]+$"
"""What a till's username may be: the authorizer refuses any other before reading anything."""


class TillLogin(_Model):
    """A till's credentials and where it belongs. `password_hash` is never the password or its MD5.

    `api_key` is the value of the till's API Gateway API key, in the API's usage plan (the operator tool
    creates both): the authorizer hands it to API Gateway as `usageIdentifierKey`, which throttles each till
    on its own. None only for a login saved before tills had keys: API Gateway refuses it (403) until
    apply-config is run again.
    """

    username: Annotated[str, Field(min_length=1, max_length=TILL_USERNAME_MAX, pattern=TILL_USERNAME_PATTERN)]
    org_id: Annotated[int, Field(gt=0)]
    store_id: str
    password_hash: str
    api_key: Annotated[str | None, Field(min_length=20, max_length=128, repr=False)] = None
