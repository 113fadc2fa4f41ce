"""Numbers as clients write them: ASCII digits only.

`str.isdigit()`, `int()` and `Decimal()` also take other scripts' digits (Arabic-Indic, Devanagari,
full-width; `isdigit()` even superscripts, `²`, which `int()` then refuses) and `_` separators (`1_000`).
No point of sale means any of them, so every number a request carries is read with this module: an
identifier, a program id or points written otherwise is refused with the field's code.
"""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]+")
# A decimal as JSON and Capillary's clients write one: sign, digits with an optional point, exponent.
_ASCII_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def ascii_digits(text: str) -> bool:
    """One or more of 0-9 and nothing else (no sign, no space, no other digits)."""
    return _ASCII_DIGITS.fullmatch(text) is not None


def ascii_decimal(text: str) -> bool:
    """A decimal number in ASCII: `100`, `-1.5`, `.5`, `1e3`, `1E+3`; not `1_000`, `²`, `Infinity`."""
    return _ASCII_DECIMAL.fullmatch(text) is not None
