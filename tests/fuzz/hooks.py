"""Schemathesis hooks for tests/fuzz (schemathesis.toml names this file)."""

from __future__ import annotations

import schemathesis
from schemathesis.core.failures import AcceptedNegativeData, Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response

XML_BODY_TYPES = ("application/xml", "text/xml")
EXTRA_PARAMETER = ("additionalProperties",)


@schemathesis.hook
def filter_failure(
    context: schemathesis.HookContext, failure: Failure, case: schemathesis.Case, response: Response
) -> bool:
    """Drop "schema-violating request accepted" (ST201) when what violates the schema is an XML body (and
    perhaps a parameter the schema does not name, which schemathesis itself lets pass alone).

    XML has no types and no null: schemathesis writes a number, a boolean or null where the schema wants a
    string as text (`<notes>5</notes>`, `<notes>null</notes>`), which is a string; an empty string or object,
    blank text or only characters XML cannot carry as an empty element, which is not given (the XML body's
    schema says every element sent has content; an empty one is read as absent); and an empty list as
    nothing at all. Such a body is valid once it is XML, and accepting it is right. The same structure is
    negated, and judged, in JSON bodies; every other check (server errors, the answer against the schema,
    ...) still applies to XML bodies."""
    media_type = (case.media_type or "").split(";", 1)[0].strip().lower()
    if not isinstance(failure, AcceptedNegativeData) or media_type not in XML_BODY_TYPES:
        return True
    return not _only_the_body_is_negated(case)


def _only_the_body_is_negated(case: schemathesis.Case) -> bool:
    meta = case.meta
    if meta is None:
        return False
    negated = {location for location, info in meta.components.items() if info.mode.is_negative}
    if ParameterLocation.BODY not in negated:
        return False
    mutations = getattr(meta.phase.data, "mutations", ())
    if not mutations:  # the coverage phase negates one component at a time
        return negated == {ParameterLocation.BODY}
    return all(
        mutation.parameter_location == ParameterLocation.BODY or mutation.keywords == EXTRA_PARAMETER
        for mutation in mutations
    )
