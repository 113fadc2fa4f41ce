"""JSON Schema patterns for the words the wire reads in any ASCII case, so that the OpenAPI document says
exactly which values the code accepts (a generated request matches the schema if and only if it is read).

The patterns mean the same to Python's `re` and to ECMA-262 (which JSON Schema names, and schemathesis
follows): anchored, character classes, no flags, and no `\\s`, which ECMA-262 and Python read differently
(U+0085, U+001C-U+001F, U+FEFF): `SPACE` is spelled out as the characters `str.strip()` removes (the code
strips first).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Every character str.isspace() is true of, as a character class body.
SPACE = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = f"[^{SPACE}]"
"""Some character that str.strip() keeps (anywhere in the value: JSON Schema patterns are not anchored)."""


def words_pattern(words: Iterable[str], *, blank: bool = False, ignored: str = "") -> str:
    """One of `words`, any ASCII case, spaces around; `blank`: or nothing but spaces; `ignored`: a character
    that may appear any number of times before, between and after the letters."""
    filler = f"{re.escape(ignored)}*" if ignored else ""

    def letters(word: str) -> str:
        return filler.join(
            f"[{char.lower()}{char.upper()}]" if char.isalpha() else re.escape(char) for char in word
        )

    alternatives = "|".join(letters(word) for word in sorted(words))
    return f"^[{SPACE}]*{filler}(?:{alternatives}){'?' if blank else ''}{filler}[{SPACE}]*$"
