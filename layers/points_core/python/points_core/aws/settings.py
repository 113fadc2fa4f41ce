"""The function environment, validated once per container and read through a cached getter."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from points_core.domain.lockout import LockoutPolicy

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
    # The key OAuth access tokens are signed with: the authorizer and the token function only.
    oauth_signing_secret_arn: str = ""
    oauth_signing_secret: str = Field(default="", repr=False, description="Local runs and tests only")
    config_cache_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    # Repeated wrong passwords (or OAuth secrets) of one till: this many in the window lock it out.
    lockout_max_failures: Annotated[int, Field(ge=1, le=1000)] = 10
    lockout_window_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    lockout_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    # How long an authorizer container keeps a till it verified (API Gateway's own cache is off).
    authorizer_cache_seconds: Annotated[int, Field(ge=0, le=3600)] = 300

    @model_validator(mode="after")
    def _a_secret_source(self) -> Settings:
        if not self.otp_secret_arn and not self.otp_secret:
            raise ValueError("OTP_SECRET_ARN (or, in local runs, OTP_SECRET) is required")
        return self

    @property
    def lockout_policy(self) -> LockoutPolicy:
        return LockoutPolicy(
            max_failures=self.lockout_max_failures,
            window=timedelta(minutes=self.lockout_window_minutes),
            lock=timedelta(minutes=self.lockout_minutes),
        )


@cache
def get_settings() -> Settings:
    names = Settings.model_fields.keys()
    return Settings.model_validate(
        {name: os.environ[name.upper()] for name in names if name.upper() in os.environ}
    )
