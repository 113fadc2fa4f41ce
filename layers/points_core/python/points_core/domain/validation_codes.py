"""Validation codes, pure: derivation, checking, send windows. No boto3, no clock (time is passed in).

A code is never stored. It is derived, as HOTP derives its codes, from a server secret and a random nonce
kept with the code's state: HMAC-SHA256(secret, org | customer | program | nonce), read in the org's
alphabet. Re-sending the same code while it is valid needs only the nonce; checking a code recomputes it and
compares in constant time. A code is bound to the points stored beside its nonce, which never grow: more
points take a new nonce, so a new code.

Its verifier, HMAC-SHA256(secret, "verify" | org | customer | program | code), is stored with it: anyone can
compute it from a given code without reading first, but only with the secret, so a check compares verifiers
inside the conditional write that counts a wrong one, and never a code in plain text.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from points_core.domain.amounts import decimal_text
from points_core.domain.models import OtpSettings

NUMERIC = "0123456789"
# 32 symbols without the look-alikes 0/O and 1/I, so a code read aloud or copied is not misread.
ALPHANUMERIC = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def derive_code(
    secret: bytes, org_id: int, customer_id: str, program_id: int, nonce: str, settings: OtpSettings
) -> str:
    alphabet = NUMERIC if settings.alphabet == "numeric" else ALPHANUMERIC
    message = f"{org_id}|{customer_id}|{program_id}|{nonce}".encode()
    number = int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest(), "big")
    symbols = []
    # 256 bits read in base 10 or 32: the bias over at most 10 symbols is far below anything measurable.
    for _ in range(settings.length):
        number, remainder = divmod(number, len(alphabet))
        symbols.append(alphabet[remainder])
    return "".join(symbols)


def code_verifier(secret: bytes, org_id: int, customer_id: str, program_id: int, code: str) -> str:
    """What is stored to check a code by: not the code, and useless without the secret. Computed alike for
    the code issued and for a given one (case and surrounding spaces aside), so a check needs no read."""
    message = f"verify:{org_id}:{customer_id}:{program_id}:{code.strip().upper()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class CodeState:
    """One program's code as stored: everything but the code."""

    nonce: str
    issued_at: int
    expires_at: int
    points: Decimal
    attempts: int = 0
    verifier: str | None = None
    """The code's verifier (`code_verifier`); None for a code issued before codes had one."""

    def usable(self, now: int, max_attempts: int) -> bool:
        """Unexpired (checked here: TTL deletion is lazy) and not killed by wrong attempts."""
        return self.expires_at > now and self.attempts < max_attempts


class ValidationType(StrEnum):
    SMS = "SMS"
    MISSED_CALL = "MISSED_CALL"
    INVALID = "INVALID"
    """Capillary's way of saying: skip validation."""


class Rejection(StrEnum):
    """Why a code was refused; the caller only ever sees 808."""

    NONE_ISSUED = "none issued"
    EXPIRED = "expired"
    TOO_MANY_ATTEMPTS = "too many wrong attempts"
    WRONG = "wrong code"
    MORE_POINTS = "more points than the code was issued for"
    UNVERIFIABLE = "issued before codes had a verifier"


def refusal_before_comparing(
    state: CodeState | None, *, points: Decimal, now: int, settings: OtpSettings
) -> Rejection | None:
    """Why a code is refused whatever was given: none issued, expired, dead, or asked for more points than it
    was issued for. Nothing is compared, so nothing counts as an attempt."""
    if state is None:
        return Rejection.NONE_ISSUED
    if state.expires_at <= now:
        return Rejection.EXPIRED
    if state.attempts >= settings.max_attempts:
        return Rejection.TOO_MANY_ATTEMPTS
    if points > state.points:
        return Rejection.MORE_POINTS
    return None


def refusal_after_uncounted_check(
    state: CodeState | None, given_verifier: str, *, points: Decimal, now: int, settings: OtpSettings
) -> Rejection | None:
    """A check whose counting write was refused, read from the code's state as that write found it: None when
    it was refused only because `given_verifier` is the code's (the right code: nothing counted), else why it
    was refused whatever was given. The verifiers are compared (in constant time) only for a code nothing else
    refuses, that is, only when the write's own comparison found them equal."""
    refused = refusal_before_comparing(state, points=points, now=now, settings=settings)
    if refused is not None or state is None:
        return refused or Rejection.NONE_ISSUED
    if state.verifier is None:
        return Rejection.UNVERIFIABLE
    matches = hmac.compare_digest(state.verifier.encode(), given_verifier.encode())
    return None if matches else Rejection.WRONG


def window_index(now: int, settings: OtpSettings) -> int:
    """Sends are counted per fixed window of `window_minutes`."""
    return now // (settings.window_minutes * 60)


def window_end(now: int, settings: OtpSettings) -> int:
    return (window_index(now, settings) + 1) * settings.window_minutes * 60


def message_text(code: str, points: Decimal, settings: OtpSettings) -> str:
    return settings.message.format(code=code, points=decimal_text(points), minutes=settings.validity_minutes)
