"""The REQUEST authorizer's identity sources, as API Gateway applies them: with caching, the identity sources
are the cache key and must all be present (else 401 without calling the authorizer), so two alternative
credential headers (Authorization or X-CAP-API-OAUTH-TOKEN) cannot both be identity sources; without caching
none is needed and the authorizer is called for every request, whatever it carries."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from points_local.functions import InvocationResult
from points_local.template import load_template, rest_api
from tests.local_stack.test_gateway import API_ARN, _echo, _gateway, _policy, _request

TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"


def _either_credential(event: Mapping[str, Any]) -> Any:
    """Allows a request with a Basic header or a token header, as the project's authorizer does."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if not (headers.get("authorization") or headers.get(TOKEN_HEADER.lower())):
        return InvocationResult(
            "request-id", error={"errorMessage": "Unauthorized", "errorType": "Exception"}
        )
    return {"principalId": "till", "policyDocument": _policy("Allow", f"{API_ARN}/*")}


def test_without_caching_and_identity_sources_every_request_reaches_the_authorizer() -> None:
    gateway, functions = _gateway(
        [("GET", "/a", "A")], {"Auth": _either_credential, "A": _echo}, ttl_seconds=0, identity_headers=()
    )

    basic = _request(gateway, "/a", token="Basic x")
    oauth = _request(gateway, "/a", token=None, headers=[(TOKEN_HEADER, "jwt")])
    neither = _request(gateway, "/a", token=None)
    again = _request(gateway, "/a", token="Basic x")

    assert (basic.status, oauth.status, neither.status, again.status) == (200, 200, 401, 200)
    assert functions.calls("Auth") == 4
    # The authorizer event carries every header, so the authorizer sees whichever credential was sent.
    events = [event for called, event in functions.events if called == "Auth"]
    assert events[1]["headers"][TOKEN_HEADER] == "jwt"


def test_with_caching_a_request_without_the_identity_header_is_401_without_calling_the_authorizer() -> None:
    # Why the project's template turns API Gateway's cache off: a token-only request would never get in.
    gateway, functions = _gateway([("GET", "/a", "A")], {"Auth": _either_credential, "A": _echo})

    refused = _request(gateway, "/a", token=None, headers=[(TOKEN_HEADER, "jwt")])

    assert refused.status == 401
    assert functions.calls("Auth") == 0


def test_both_headers_as_identity_sources_need_both() -> None:
    gateway, functions = _gateway(
        [("GET", "/a", "A")],
        {"Auth": _either_credential, "A": _echo},
        identity_headers=("Authorization", TOKEN_HEADER),
    )

    only_basic = _request(gateway, "/a", token="Basic x")
    only_token = _request(gateway, "/a", token=None, headers=[(TOKEN_HEADER, "jwt")])
    both = _request(gateway, "/a", token="Basic x", headers=[(TOKEN_HEADER, "jwt")])

    assert (only_basic.status, only_token.status, both.status) == (401, 401, 200)
    assert functions.calls("Auth") == 1


def test_declared_identity_sources_are_checked_even_without_caching() -> None:
    gateway, functions = _gateway(
        [("GET", "/a", "A")], {"Auth": _either_credential, "A": _echo}, ttl_seconds=0
    )

    assert _request(gateway, "/a", token=None, headers=[(TOKEN_HEADER, "jwt")]).status == 401
    assert functions.calls("Auth") == 0


TEMPLATE = """\
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Auth:
        DefaultAuthorizer: Guard
        Authorizers:
          Guard:
            FunctionArn: !GetAtt AuthFunction.Arn
            FunctionPayloadType: REQUEST
            Identity: {IDENTITY}
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: fn/auth/, Handler: app.handler}
  ReadFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/read/
      Handler: app.handler
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /things, Method: get}}
"""


def _api(tmp_path: Path, identity: str) -> Any:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.replace("{IDENTITY}", identity))
    return rest_api(load_template(path))


def test_a_template_without_caching_needs_no_identity_source(tmp_path: Path) -> None:
    guard = _api(tmp_path, "{ReauthorizeEvery: 0}").authorizers["Guard"]
    assert (guard.identity_headers, guard.identity_query_strings, guard.ttl_seconds) == ((), (), 0)


@pytest.mark.parametrize("identity", ["{ReauthorizeEvery: 300}", "{}"])
def test_a_template_caching_without_an_identity_source_is_refused_as_sam_refuses_it(
    tmp_path: Path, identity: str
) -> None:
    with pytest.raises(ValueError, match="needs an identity source"):
        _api(tmp_path, identity)


def test_the_project_template_calls_the_authorizer_for_every_request() -> None:
    guard = rest_api(load_template(Path(__file__).resolve().parents[2] / "template.yaml"))
    (authorizer,) = guard.authorizers.values()
    assert (authorizer.identity_headers, authorizer.identity_query_strings, authorizer.ttl_seconds) == (
        (),
        (),
        0,
    )
