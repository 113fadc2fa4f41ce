"""Request bodies sent as XML (`text/xml`, `application/xml`), read into the JSON body's shape so one model
validates both: `<root><redeem>...</redeem></root>` is `{"root": {"redeem": {...}}}`.

- each child element is a key; a repeated element is a list (`<redeem>` twice), as is an element whose
  children are all `<element>` (the old v1.1 docs' list form);
- an element's text is a string; an empty element is not given (`<email></email>` is no email);
- attributes, comments and processing instructions carry nothing.

Read with the standard library's expat, safely: a DOCTYPE (and so any entity declaration) is refused, as is
any reference to an entity XML does not predefine (no billion laughs, no external entities); the size and
the depth are bounded."""

from __future__ import annotations

import xml.parsers.expat
from typing import Any

from points_core.capillary.bodies import MAX_BODY_BYTES
from points_core.domain.errors import InvalidInput

MAX_XML_BODY_BYTES = MAX_BODY_BYTES
MAX_XML_DEPTH = 32
LIST_ITEM = "element"


class _Refused(Exception):
    pass


class _Node:
    __slots__ = ("children", "name", "text")

    def __init__(self, name: str) -> None:
        self.name = name
        self.text: list[str] = []
        self.children: list[_Node] = []

    def value(self) -> Any:
        """The JSON value of this element; None when it is empty (not given)."""
        if not self.children:
            text = "".join(self.text)
            return text if text.strip() else None
        grouped: dict[str, list[Any]] = {}
        for child in self.children:
            value = child.value()
            if value is not None:
                grouped.setdefault(child.name, []).append(value)
        if all(child.name == LIST_ITEM for child in self.children):
            return grouped.get(LIST_ITEM)
        return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()} or None


def parse(text: str) -> dict[str, Any]:
    """The body's value, keyed by its document element; `InvalidInput` for anything that is not such a
    document (malformed, too large, too deep, with a DOCTYPE or an unknown entity)."""
    data = text.encode("utf-8", errors="surrogatepass")
    if len(data) > MAX_XML_BODY_BYTES:
        raise InvalidInput(f"the XML body is larger than {MAX_XML_BODY_BYTES // 1024} KiB")
    parser = xml.parsers.expat.ParserCreate(encoding="UTF-8")
    stack: list[_Node] = []
    root: list[_Node] = []

    def refuse(*_: Any) -> int:
        raise _Refused("a DOCTYPE or entity declaration is not accepted")

    def start(name: str, _attributes: Any) -> None:
        if len(stack) >= MAX_XML_DEPTH:
            raise _Refused(f"the XML body is nested deeper than {MAX_XML_DEPTH} elements")
        node = _Node(name)
        (stack[-1].children if stack else root).append(node)
        stack.append(node)

    def end(_name: str) -> None:
        stack.pop()

    def characters(data: str) -> None:
        if stack:
            stack[-1].text.append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except _Refused as refused:
        raise InvalidInput(str(refused)) from None
    except (xml.parsers.expat.ExpatError, UnicodeError) as error:
        raise InvalidInput(f"the body is not XML ({error})") from None
    document = root[0]
    value = document.value()
    return {document.name: value if value is not None else {}}
