"""The XML renderer, the XML body reader and format negotiation, on their own; and the property that matters
most: for every response model, the XML answer read back into a tree is the JSON answer."""

from __future__ import annotations

import json
import types
import typing
from decimal import Decimal
from typing import Any, Literal, get_args, get_origin
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from points_core.api.negotiation import accepted_format, body_format, check_format, named_format
from points_core.capillary import json_renderer, xml_bodies, xml_renderer
from points_core.capillary.formats import WireFormat, media_format
from points_core.capillary.responses import (
    ErrorEnvelope,
    IsRedeemableEnvelope,
    RedeemEnvelope,
    RevertEnvelope,
    ValidationCodeEnvelope,
)
from points_core.domain.errors import InvalidInput, UnsupportedMediaType

# Text XML 1.0 can carry: no C0 controls but tab, newline and carriage return, no surrogates.
XML_TEXT = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[chr(c) for c in range(32) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"],
    ),
    max_size=12,
)
POINTS = st.decimals(min_value=-(10**12), max_value=10**12, places=3, allow_nan=False, allow_infinity=False)


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list


def _union_args(annotation: Any) -> tuple[Any, ...] | None:
    return get_args(annotation) if get_origin(annotation) in (typing.Union, types.UnionType) else None


def values(annotation: Any) -> st.SearchStrategy[Any]:
    """Any value a response model field may hold."""
    if get_origin(annotation) is typing.Annotated:
        return values(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return models(annotation)
    if annotation is str:
        return XML_TEXT
    if annotation is int:
        return st.integers(min_value=-(2**53), max_value=2**53)
    if annotation is Decimal:
        return POINTS
    if get_origin(annotation) is Literal:
        return st.sampled_from(get_args(annotation))
    if _is_list(annotation):
        return st.lists(values(get_args(annotation)[0]), max_size=3)
    options = _union_args(annotation)
    if options is not None:
        strategies = []
        for option in options:
            if option is type(None):
                strategies.append(st.none())
            elif option is str:  # null and "" are the same empty element: the answers never mix them
                strategies.append(XML_TEXT.filter(bool))
            elif _is_list(option):  # an object for one item, a list for two or more
                strategies.append(st.lists(values(get_args(option)[0]), min_size=2, max_size=3))
            else:
                strategies.append(values(option))
        return st.one_of(strategies)
    raise TypeError(f"no strategy for {annotation!r}")


def models(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    required = {name: values(f.annotation) for name, f in model.model_fields.items() if f.is_required()}
    optional = {name: values(f.annotation) for name, f in model.model_fields.items() if not f.is_required()}
    return st.fixed_dictionaries(required, optional=optional)


def decode(element: ElementTree.Element, annotation: Any) -> Any:
    """An XML element read back as the JSON value the model says it holds."""
    if get_origin(annotation) is typing.Annotated:
        return decode(element, get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        tree: dict[str, Any] = {}
        for name, field in annotation.model_fields.items():
            children = element.findall(name)
            if _is_list(field.annotation):
                tree[name] = [decode(child, get_args(field.annotation)[0]) for child in children]
            elif len(children) > 1:
                item = next(a for a in _union_args(field.annotation) or () if _is_list(a))
                tree[name] = [decode(child, get_args(item)[0]) for child in children]
            elif children:
                tree[name] = decode(children[0], field.annotation)
        return tree
    options = _union_args(annotation)
    if options is not None:
        if type(None) in options and not element.text and not len(element):
            return None
        single = [option for option in options if option is not type(None) and not _is_list(option)]
        return decode(element, single[0])
    text = element.text or ""
    if annotation is Decimal:
        return Decimal(text)
    if annotation is int:
        return int(text)
    return text


ENVELOPES = [IsRedeemableEnvelope, ValidationCodeEnvelope, RedeemEnvelope, RevertEnvelope, ErrorEnvelope]


@pytest.mark.parametrize("envelope", ENVELOPES, ids=lambda model: model.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_the_xml_answer_read_back_is_the_json_answer(envelope: type[BaseModel], data: st.DataObject) -> None:
    payload = data.draw(models(envelope))
    as_json = json.loads(json_renderer.dumps(payload), parse_float=Decimal)
    document = ElementTree.fromstring(xml_renderer.dumps(payload))
    assert document.tag == "response"
    read_back = {"response": decode(document, envelope.model_fields["response"].annotation)}
    assert envelope.model_validate(read_back).model_dump() == envelope.model_validate(as_json).model_dump()


def test_numbers_are_exact_and_without_exponent() -> None:
    payload = {"response": {"a": Decimal("1E+3"), "b": Decimal("0.000001"), "c": Decimal("-12.500"), "d": 7}}
    document = ElementTree.fromstring(xml_renderer.dumps(payload))
    assert [child.text for child in document] == ["1000", "0.000001", "-12.5", "7"]


def test_null_is_an_empty_element_and_a_list_its_element_repeated() -> None:
    text = xml_renderer.dumps({"response": {"user_id": None, "points": [{"n": 1}, {"n": 2}], "none": []}})
    assert text == (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<response><user_id/><points><n>1</n></points><points><n>2</n></points></response>"
    )


def test_text_is_escaped_and_what_xml_cannot_carry_is_replaced() -> None:
    text = xml_renderer.dumps({"response": {"notes": "a<b>&c\r\x00\ud800\x1f"}})
    assert ElementTree.fromstring(text).findtext("notes") == "a<b>&c\r\ufffd\ufffd\ufffd"


@pytest.mark.parametrize(
    "payload",
    [{"response": {"bad name": "x"}}, {"response": {"x": 1.5}}, {"response": {"x": [[1]]}}, {"a": 1, "b": 2}],
)
def test_what_has_no_xml_shape_is_a_programming_error(payload: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        xml_renderer.dumps(payload)


# The XML body reader.
def test_an_xml_body_reads_into_the_json_shape() -> None:
    body = (
        "<root><redeem><points_redeemed> 100 </points_redeemed><customer><mobile>9190</mobile>"
        "<email></email><external_id/></customer><notes></notes><custom_fields><field><name>a</name>"
        "<value>1</value></field></custom_fields></redeem></root>"
    )
    assert xml_bodies.parse(body) == {
        "root": {
            "redeem": {
                "points_redeemed": " 100 ",
                "customer": {"mobile": "9190"},
                "custom_fields": {"field": {"name": "a", "value": "1"}},
            }
        }
    }


@pytest.mark.parametrize(
    "body",
    [
        "<root><redeem><a>1</a></redeem><redeem><a>2</a></redeem></root>",
        "<root><redeem><element><a>1</a></element><element><a>2</a></element></redeem></root>",
        "<root>\n  <redeem><element><a>1</a></element>\n<element><a>2</a></element></redeem>\n</root>",
    ],
)
def test_several_items_are_repeated_elements_or_elements(body: str) -> None:
    assert xml_bodies.parse(body) == {"root": {"redeem": [{"a": "1"}, {"a": "2"}]}}


def test_attributes_comments_and_instructions_carry_nothing() -> None:
    body = '<?xml version="1.0" encoding="ISO-8859-1"?><root x="1"><!-- c --><?pi x?><a>é</a></root>'
    assert xml_bodies.parse(body) == {"root": {"a": "é"}}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('<!DOCTYPE root [<!ENTITY a "b">]><root>&a;</root>', "DOCTYPE"),
        ("<!DOCTYPE root><root/>", "DOCTYPE"),
        ("<root>&a;</root>", "undefined entity"),
        ("<root><a></root>", "mismatched tag"),
        ("", "no element found"),
        ("<a/><b/>", "junk after document element"),
        ("<root>\ud800</root>", "not XML"),
        ("<a>" * 33 + "</a>" * 33, "deeper than 32"),
        ("<root>" + "x" * (64 * 1024) + "</root>", "larger than 64 KiB"),
    ],
)
def test_what_is_not_a_plain_document_is_invalid_input(body: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        xml_bodies.parse(body)


# Negotiation.
@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        ("application/json", WireFormat.JSON),
        ("APPLICATION/JSON; charset=UTF-8", WireFormat.JSON),
        ("text/json", WireFormat.JSON),
        ("application/problem+json", WireFormat.JSON),
        ("application/xml", WireFormat.XML),
        (" Text/XML ;charset=utf-8", WireFormat.XML),
        ("application/soap+xml", WireFormat.XML),
        ("text/plain", None),
        ("text/html+xml", None),
        ("*/*", None),
        ("", None),
    ],
)
def test_media_types_name_a_format_whatever_their_case_and_parameters(
    media_type: str, expected: WireFormat | None
) -> None:
    assert media_format(media_type) is expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, None),
        ("*/*", None),
        ("application/xml", WireFormat.XML),
        ("application/json, application/xml", WireFormat.JSON),
        ("application/json;q=0.5, application/xml", WireFormat.XML),
        ("application/json;q=0, */*;q=0.1", None),
        ("application/json;q=junk, text/xml;q=0.1", WireFormat.XML),
    ],
)
def test_accept_names_the_most_preferred_json_or_xml_type(
    accept: str | None, expected: WireFormat | None
) -> None:
    assert accepted_format(accept) is expected


def test_the_format_parameter_is_json_or_xml_in_any_case() -> None:
    assert named_format(" XmL ") is WireFormat.XML
    assert named_format("") is None
    check_format(None)
    check_format(" ")
    check_format("JSON")
    with pytest.raises(InvalidInput, match="format=html is not supported"):
        check_format("html")


def test_a_body_without_a_content_type_is_read_by_its_first_character() -> None:
    assert body_format(None, "  <root/>") is WireFormat.XML
    assert body_format("", '{"root": 1}') is WireFormat.JSON
    with pytest.raises(UnsupportedMediaType, match="text/plain is not accepted"):
        body_format("text/plain; charset=utf-8", "<root/>")
