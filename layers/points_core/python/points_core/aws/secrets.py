"""The server secrets: the one validation codes are derived from, and the key OAuth access tokens are signed
with. Each from Secrets Manager in AWS (declared in template.yaml, cached for five minutes per container), or
`OTP_SECRET` / `OAUTH_SIGNING_SECRET` where a local configuration sets it."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parameters import get_secret

from points_core.aws.settings import get_settings
from points_core.domain.errors import SecretUnavailable

SECRET_CACHE_SECONDS = 300
MIN_SECRET_LENGTH = 32


def otp_secret() -> bytes:
    settings = get_settings()
    value = settings.otp_secret or (
        str(get_secret(settings.otp_secret_arn, max_age=SECRET_CACHE_SECONDS))
        if settings.otp_secret_arn
        else ""
    )
    if len(value) < MIN_SECRET_LENGTH:
        raise SecretUnavailable(
            f"the validation-code secret must have at least {MIN_SECRET_LENGTH} characters"
        )
    return value.encode()


def oauth_signing_key() -> bytes:
    settings = get_settings()
    value = settings.oauth_signing_secret or (
        str(get_secret(settings.oauth_signing_secret_arn, max_age=SECRET_CACHE_SECONDS))
        if settings.oauth_signing_secret_arn
        else ""
    )
    if len(value) < MIN_SECRET_LENGTH:
        raise SecretUnavailable(f"the OAuth signing secret must have at least {MIN_SECRET_LENGTH} characters")
    return value.encode()
