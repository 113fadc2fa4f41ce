"""An OAuth client of an org: a key and a secret that get access tokens acting as one of the org's tills."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from points_core.domain.models.config import TillLogin

MAX_TOKEN_MINUTES = 60

ClientKey = Annotated[str, Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._@-]+$")]


class OAuthClient(BaseModel):
    """`secret_hash` is never the secret: a salted scrypt of it (`domain.passwords.hash_secret`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: ClientKey
    org_id: Annotated[int, Field(gt=0)]
    till_id: Annotated[str, TillLogin.model_fields["username"]]
    secret_hash: str
    token_minutes: Annotated[int, Field(ge=1, le=MAX_TOKEN_MINUTES)] = 60
    enabled: bool = True
