"""Powertools Logger, Tracer and Metrics, created once and imported everywhere, and PII masking.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE.
No log line may carry an unmasked mobile number or email address, or a validation code.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def mask_mobile(mobile: str) -> str:
    """`919777785205` → `91******5205`."""
    if len(mobile) <= 6:
        return "*" * len(mobile)
    return mobile[:2] + "*" * (len(mobile) - 6) + mobile[-4:]


def mask_email(email: str) -> str:
    """`jane.doe@example.com` → `j***@e***.com`."""
    local, _, domain = email.partition("@")
    host, dot, suffix = domain.rpartition(".")
    if not host:
        host, suffix, dot = domain, "", ""
    return f"{local[:1]}***@{host[:1]}***{dot}{suffix}"


def mask_identifier(identifier_type: str, value: str) -> str:
    if identifier_type == "mobile":
        return mask_mobile(value)
    if identifier_type == "email":
        return mask_email(value)
    return value
