"""JSON Schema patterns for the words the wire reads in any ASCII case, so that the OpenAPI document says
exactly which values the code accepts (a generated request matches the schema if and only if it is read).

The patterns mean the same to Python's `re` and to ECMA-262: anchored, character classes, `\\s` for what
`str.strip()` removes (the code strips first), no flags.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def words_pattern(words: Iterable[str], *, blank: bool = False, ignored: str = "") -> str:
    """One of `words`, any ASCII case, whitespace around; `blank`: or nothing but whitespace; `ignored`: a
    character that may appear any number of times before, between and after the letters."""
    filler = f"{re.escape(ignored)}*" if ignored else ""

    def letters(word: str) -> str:
        return filler.join(
            f"[{char.lower()}{char.upper()}]" if char.isalpha() else re.escape(char) for char in word
        )

    alternatives = "|".join(letters(word) for word in sorted(words))
    return rf"^\s*{filler}(?:{alternatives}){'?' if blank else ''}{filler}\s*$"
