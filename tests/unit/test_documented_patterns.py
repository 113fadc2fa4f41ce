"""The OpenAPI document says exactly what the code reads: a value matches a parameter's or a field's
documented pattern if and only if the code accepts it (schemathesis sends values that match as valid, and
values that do not as invalid, and expects them answered so)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from points_core.api.negotiation import check_format
from points_core.api.parameters import FORMAT_PATTERN, VALIDATION_TYPE_PATTERN, parse_validation_type
from points_core.capillary.bodies import ReverseIdentifier
from points_core.capillary.patterns import NOT_BLANK, SPACE
from points_core.domain.errors import InvalidInput
from points_core.domain.identifiers import V2_TYPE_NAMES, v2_identifier_type

V2_TYPE_PATTERN = ReverseIdentifier.model_json_schema()["properties"]["type"]["pattern"]
# Characters that str.lower(), str.upper() or str.strip() treat unlike ASCII letters and spaces.
# Long s, dotless i, Kelvin sign, sharp s, dotted capital I, no-break and ideographic spaces, ...
TRICKY = "\u017f\u0131\u212a\u00df\u0130\u00a0\u3000\x1c\x85\ufeff_ -\t\n"


def _matches(pattern: str, text: str) -> bool:
    """Whether `text` matches, to Python's `re` (how schemathesis draws values) and to a JSON Schema validator
    (ECMA-262, how it judges them), which must agree."""
    python = _python(pattern).search(text) is not None
    ecma = _ecma(pattern).is_valid(text)
    assert python == ecma, (pattern, text)
    return python


@cache
def _python(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@cache
def _ecma(pattern: str) -> Any:
    return jsonschema_rs.validator_for({"type": "string", "pattern": pattern})


def _refuses(read: Callable[[str], object], text: str) -> bool:
    try:
        read(text)
    except InvalidInput:
        return True
    return False


def _format_read(text: str) -> bool:
    return not _refuses(check_format, text)


def _validation_type_read(text: str) -> bool:
    return not _refuses(parse_validation_type, text)


def _v2_type_read(text: str) -> bool:
    return v2_identifier_type(text) is not None


def _spellings(words: list[str]) -> st.SearchStrategy[str]:
    """A word in a random case, with tricky characters put in: mostly near misses and hits."""

    def spell(word: str, flips: list[bool], inserts: list[tuple[int, str]]) -> str:
        chars = [c.swapcase() if flip else c for c, flip in zip(word, flips, strict=False)]
        chars += list(word[len(chars) :])
        for position, char in sorted(inserts, reverse=True):
            chars.insert(position % (len(chars) + 1), char)
        return "".join(chars)

    return st.builds(
        spell,
        st.sampled_from(words),
        st.lists(st.booleans(), max_size=16),
        st.lists(st.tuples(st.integers(0, 20), st.sampled_from(TRICKY)), max_size=3),
    )


CASES = [
    (FORMAT_PATTERN, _format_read, ["json", "xml", "yaml", ""]),
    (VALIDATION_TYPE_PATTERN, _validation_type_read, ["SMS", "MISSED_CALL", "INVALID", "ssms", ""]),
    (V2_TYPE_PATTERN, _v2_type_read, [*V2_TYPE_NAMES, "cardExternalId", "external_id", "ids"]),
]


@pytest.mark.parametrize(("pattern", "read", "words"), CASES, ids=["format", "validation_type", "v2 type"])
@given(data=st.data())
def test_a_value_matches_the_documented_pattern_exactly_when_the_code_reads_it(
    pattern: str, read: Callable[[str], bool], words: list[str], data: st.DataObject
) -> None:
    text = data.draw(st.one_of(st.from_regex(pattern), _spellings(words), st.text(max_size=12)))
    assert _matches(pattern, text) == read(text), repr(text)


@pytest.mark.parametrize(
    ("pattern", "read", "text"),
    [
        (FORMAT_PATTERN, _format_read, " XmL\t"),
        (FORMAT_PATTERN, _format_read, "j\u017fon"),
        (VALIDATION_TYPE_PATTERN, _validation_type_read, "missed_call"),
        (VALIDATION_TYPE_PATTERN, _validation_type_read, "\u017fms"),
        (VALIDATION_TYPE_PATTERN, _validation_type_read, "MI\u00dfED_CALL"),
        (V2_TYPE_PATTERN, _v2_type_read, "_card_External_ID_ "),
        (V2_TYPE_PATTERN, _v2_type_read, "_ id"),
        (V2_TYPE_PATTERN, _v2_type_read, ""),
    ],
)
def test_the_near_misses_agree(pattern: str, read: Callable[[str], bool], text: str) -> None:
    assert _matches(pattern, text) == read(text)


def _every_character() -> list[str]:
    return [chr(code) for code in (*range(0xD800), *range(0xE000, 0x110000))]


def test_space_is_what_strip_removes_to_python_and_to_ecma() -> None:
    spaces = {char for char in _every_character() if char.isspace()}
    assert {char for char in _every_character() if _matches(f"^[{SPACE}]$", char)} == spaces


@given(st.text(alphabet=st.sampled_from(TRICKY + "ab"), max_size=6) | st.text(max_size=6))
def test_not_blank_is_what_strip_leaves_something_of(text: str) -> None:
    assert _matches(NOT_BLANK, text) == bool(text.strip())
