"""Basic-auth of a till for the API Gateway REQUEST authorizer.

A till locked out by repeated failures (`domain.lockout`) is refused before its password is checked: a
locked till costs no slow hash. Every wrong password counts, of a known till or of an unknown username
alike: both make the same calls (one read of the login and its lockout, the slow hash, the count), so timing
does not tell whether a till exists.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime

from points_core.aws.observability import tracer
from points_core.aws.settings import get_settings
from points_core.domain.errors import Unauthenticated
from points_core.domain.models import Caller
from points_core.domain.models.config import TILL_USERNAME_MAX, TILL_USERNAME_PATTERN
from points_core.domain.passwords import verify_password
from points_core.repositories import login_repository


def _credentials(authorization: str | None) -> tuple[str, str]:
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise Unauthenticated("not basic auth")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # ValueError: not ASCII (b64decode); UnicodeDecodeError is one
        raise Unauthenticated("undecodable credentials") from None
    username, separator, password = decoded.partition(":")
    if not separator or not username or not password:
        raise Unauthenticated("incomplete credentials")
    # A username no till can have is refused before any read (one past DynamoDB's 2,048-byte key would be a
    # ValidationException, a 5xx): its form is public, so the quicker answer tells nothing about any till.
    if len(username) > TILL_USERNAME_MAX or not re.fullmatch(TILL_USERNAME_PATTERN.strip("^$"), username):
        raise Unauthenticated("no till has such a username")
    return username, password


@tracer.capture_method(capture_response=False)
def authenticate(authorization: str | None, now: datetime) -> Caller:
    username, password_md5 = _credentials(authorization)
    logins = login_repository()
    login, lockout = logins.till(username)
    if lockout.locked(now):
        raise Unauthenticated("locked out")
    # verify_password runs the same slow hash for an unknown username, so timing tells nothing.
    if not verify_password(password_md5, login.password_hash if login else None) or login is None:
        logins.count_failure(username, now, get_settings().lockout_policy)
        raise Unauthenticated("wrong credentials")
    return Caller(org_id=login.org_id, till_id=login.username, store_id=login.store_id, api_key=login.api_key)


def api_wide_resource(method_arn: str) -> str:
    """`arn:…:api-id/stage/GET/v1.1/points/x` → `arn:…:api-id/stage/*/*`. API Gateway caches the policy per
    Authorization header, so it must cover every route of the API, not just the first one called."""
    api_arn, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0]
    return f"{api_arn}/{stage}/*/*"


def allow_policy(caller: Caller, method_arn: str) -> dict[str, object]:
    """The authorizer's answer. `usageIdentifierKey` is the till's API key (the API's key source is the
    authorizer): API Gateway's usage plan throttles each till by it, and refuses a key not in the plan."""
    policy: dict[str, object] = {
        "principalId": caller.till_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": api_wide_resource(method_arn)}
            ],
        },
        "context": {"org_id": str(caller.org_id), "till_id": caller.till_id, "store_id": caller.store_id},
    }
    if caller.api_key is not None:
        policy["usageIdentifierKey"] = caller.api_key
    return policy
