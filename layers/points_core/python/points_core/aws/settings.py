"""The function environment, validated once per container and read through a cached getter."""

from __future__ import annotations

import os
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

TableName = Annotated[str, Field(min_length=3, max_length=255)]


class Settings(BaseModel):
    """Every function gets the same environment (template.yaml's Globals), so a missing variable fails here,
    at the first read, not at the first AWS call that needs it."""

    model_config = ConfigDict(frozen=True)

    config_table: TableName
    customers_table: TableName
    ledger_table: TableName
    otp_table: TableName
    redemptions_table: TableName
    idempotency_table: TableName
    email_codes_topic_arn: Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:sns:")]
    otp_secret_arn: str = ""
    otp_secret: str = Field(default="", repr=False, description="Local runs and tests only; AWS uses the ARN")
    config_cache_seconds: Annotated[int, Field(ge=0, le=3600)] = 60

    @model_validator(mode="after")
    def _a_secret_source(self) -> Settings:
        if not self.otp_secret_arn and not self.otp_secret:
            raise ValueError("OTP_SECRET_ARN (or, in local runs, OTP_SECRET) is required")
        return self


@cache
def get_settings() -> Settings:
    names = Settings.model_fields.keys()
    return Settings.model_validate(
        {name: os.environ[name.upper()] for name in names if name.upper() in os.environ}
    )
