"""The function environment, validated once per container and read through a cached getter."""

from __future__ import annotations

import os
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    config_table: Annotated[str, Field(min_length=3)]
    customers_table: Annotated[str, Field(min_length=3)]
    ledger_table: Annotated[str, Field(min_length=3)]
    otp_table: Annotated[str, Field(min_length=3)]
    redemptions_table: str = ""
    idempotency_table: str = ""
    email_codes_topic_arn: str = ""
    otp_secret_arn: str = ""
    otp_secret: str = Field(default="", repr=False, description="Local runs and tests only; AWS uses the ARN")
    config_cache_seconds: Annotated[int, Field(ge=0, le=3600)] = 60


@cache
def get_settings() -> Settings:
    names = Settings.model_fields.keys()
    return Settings.model_validate(
        {name: os.environ[name.upper()] for name in names if name.upper() in os.environ}
    )
