"""The OpenAPI document says exactly what the code reads: a value matches a parameter's or a field's
documented pattern if and only if the code accepts it (schemathesis sends values that match as valid, and
values that do not as invalid, and expects them answered so)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from points_core.api.negotiation import check_format
from points_core.api.parameters import FORMAT_PATTERN, VALIDATION_TYPE_PATTERN, parse_validation_type
from points_core.capillary.bodies import ReverseIdentifier
from points_core.domain.errors import InvalidInput
from points_core.domain.identifiers import V2_TYPE_NAMES, v2_identifier_type

V2_TYPE_PATTERN = ReverseIdentifier.model_json_schema()["properties"]["type"]["pattern"]
# Characters that str.lower(), str.upper() or str.strip() treat unlike ASCII letters and spaces.
# Long s, dotless i, Kelvin sign, sharp s, dotted capital I, no-break and ideographic spaces, ...
TRICKY = "\u017f\u0131\u212a\u00df\u0130\u00a0\u3000\x1c\x85\ufeff_ -\t\n"


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
    assert (re.search(pattern, text) is not None) == read(text), repr(text)


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
    assert (re.search(pattern, text) is not None) == read(text)
