"""The OAuth token endpoint's wire format, as Capillary's `POST /v3/oauth/token/generate` has it.

Request `{"key": ..., "secret": ...}`; answer `{"data": {"accessToken": "<JWT>", "ttlSeconds": N},
"errors": null}`, or `{"data": null, "errors": [{"status": false, "code", "message"}]}` (401 for a wrong
key or secret, 400 for a body without them).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from points_core.capillary.envelope import v3_errors
from points_core.capillary.responses import V2Message
from points_core.services.oauth import IssuedToken


class TokenRequest(BaseModel):
    """Other fields a client sends are ignored, as Capillary does."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    key: Annotated[str, Field(min_length=1, max_length=128, description="The OAuth client's key")]
    secret: Annotated[str, Field(min_length=1, max_length=256, description="The OAuth client's secret")]


class TokenData(BaseModel):
    model_config = ConfigDict(frozen=True)

    accessToken: str = Field(description="A JWT: send it as X-CAP-API-OAUTH-TOKEN on every other call")
    ttlSeconds: int = Field(description="Seconds from now until the token expires")


class TokenEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    data: TokenData
    errors: None = None


class V3ErrorEnvelope(BaseModel):
    """A refusal: 401 for a wrong key or secret (or a till locked out), 400 for a body without them."""

    model_config = ConfigDict(frozen=True)

    data: None = None
    errors: list[V2Message]


def token_issued(issued: IssuedToken) -> dict[str, Any]:
    return {"data": {"accessToken": issued.token, "ttlSeconds": issued.ttl_seconds}, "errors": None}


__all__ = ["TokenEnvelope", "TokenRequest", "V3ErrorEnvelope", "token_issued", "v3_errors"]
