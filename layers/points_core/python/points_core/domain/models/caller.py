"""Who is calling: the till the authorizer recognised, and its org and store."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)

    org_id: Annotated[int, Field(gt=0)]
    till_id: Annotated[str, Field(min_length=1)]
    store_id: str
    api_key: Annotated[str | None, Field(repr=False)] = None
    """The till's API key value (`TillLogin.api_key`): API Gateway's usage plan throttles each till by it."""
