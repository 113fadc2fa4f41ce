"""The caller's org: every use case starts here."""

from __future__ import annotations

from points_core.aws.observability import logger, tracer
from points_core.domain.codes import Item
from points_core.domain.errors import RuleFailure
from points_core.domain.models import Caller, OrgConfig
from points_core.repositories import config_repository


@tracer.capture_method(capture_response=False)
def load_org(caller: Caller) -> OrgConfig:
    """The configuration of the caller's org (cached per container); 895 when the org has none."""
    org = config_repository().org(caller.org_id)
    if org is None:
        logger.warning("org has no configuration")
        raise RuleFailure(Item.PROGRAM_NOT_CONFIGURED)
    return org
