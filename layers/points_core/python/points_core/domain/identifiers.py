"""Customer identifiers: which one a request names, and their canonical form.

Mobile numbers are ASCII digits only (`domain.digits`) with the country code. A number written with `+` or
`00` is international as written. Otherwise a number of the org's national length (10 by default; a single
trunk `0` before it is dropped) gets the org's country code, and a longer one is taken to carry its country
code already. So
`9777785205`, `09777785205`, `+91 97777 85205` and `919777785205` are the same customer in an org whose
country code is 91, and normalizing a normalized number changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from points_core.domain.digits import ascii_digits
from points_core.domain.errors import MalformedIdentifier

DEFAULT_NATIONAL_DIGITS = 10
E164_MAX_DIGITS = 15
MOBILE_MIN_DIGITS = 7
FREE_TEXT_MAX_LENGTH = 128

_MOBILE_DECORATION = re.compile(r"[\s().\-/]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class IdentifierType(StrEnum):
    """In the order of precedence used when a request names several."""

    ID = "id"
    MOBILE = "mobile"
    EMAIL = "email"
    EXTERNAL_ID = "external_id"
    CARD_NUMBER = "card_number"
    CARD_EXTERNAL_ID = "card_external_id"


@dataclass(frozen=True, slots=True)
class Identifier:
    type: IdentifierType
    value: str


def normalize_mobile(raw: str, country_code: str, national_digits: int = DEFAULT_NATIONAL_DIGITS) -> str:
    text = _MOBILE_DECORATION.sub("", raw.strip())
    international = text.startswith(("+", "00"))
    digits = text.removeprefix("+").removeprefix("00") if international else text
    if not ascii_digits(digits):
        raise MalformedIdentifier("a mobile number has digits only")
    if not international:
        if len(digits) == national_digits + 1 and digits.startswith("0"):
            digits = digits[1:]
        if len(digits) == national_digits:
            digits = country_code + digits
        elif len(digits) < national_digits:
            raise MalformedIdentifier("too short for a mobile number")
    if not MOBILE_MIN_DIGITS <= len(digits) <= E164_MAX_DIGITS or digits.startswith("0"):
        raise MalformedIdentifier("not a valid mobile number")
    return digits


def normalize(
    identifier_type: IdentifierType,
    raw: str,
    country_code: str,
    national_digits: int = DEFAULT_NATIONAL_DIGITS,
) -> str:
    value = raw.strip()
    if identifier_type is IdentifierType.MOBILE:
        return normalize_mobile(value, country_code, national_digits)
    if identifier_type is IdentifierType.EMAIL:
        if len(value) > 254 or not _EMAIL.match(value):
            raise MalformedIdentifier("not a valid email address")
        return value.lower()
    if identifier_type is IdentifierType.ID:
        if not ascii_digits(value) or len(value) > 19 or int(value) == 0:
            raise MalformedIdentifier("a customer id is a positive integer")
        return str(int(value))
    if len(value) > FREE_TEXT_MAX_LENGTH or any(ord(char) < 32 for char in value):
        raise MalformedIdentifier(f"not a valid {identifier_type.value}")
    return value


def pick_identifier(
    values: dict[str, str | None], country_code: str, national_digits: int = DEFAULT_NATIONAL_DIGITS
) -> Identifier:
    """The first non-empty identifier by precedence, normalized.

    POS clients often send every identifier key, with empty strings for the unknown ones: empty is absent.
    """
    for identifier_type in IdentifierType:
        raw = values.get(identifier_type.value)
        if raw is not None and raw.strip():
            return Identifier(identifier_type, normalize(identifier_type, raw, country_code, national_digits))
    raise MalformedIdentifier("no customer identifier given")


# The identifier type names of v2 requests (`identifier.type`): every spelling the reference records, read
# case-insensitively, with `_` ignored.
V2_TYPE_NAMES = {
    "id": IdentifierType.ID,
    "phone": IdentifierType.MOBILE,
    "mobile": IdentifierType.MOBILE,
    "email": IdentifierType.EMAIL,
    "externalid": IdentifierType.EXTERNAL_ID,
    "cardnumber": IdentifierType.CARD_NUMBER,
    "cardexternalid": IdentifierType.CARD_EXTERNAL_ID,
}


def v2_identifier_type(name: str) -> IdentifierType | None:
    return V2_TYPE_NAMES.get(name.strip().replace("_", "").lower())
