"""Lambda REQUEST authorizer: HTTP Basic as a till. On success the policy allows the whole API and the context
carries `org_id`, `till_id` and `store_id`; otherwise API Gateway answers 401 with the Capillary envelope."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from points_core.aws.clock import utc_now
from points_core.aws.observability import logger, metrics, tracer
from points_core.domain.errors import Unauthenticated
from points_core.services.authentication import allow_policy, authenticate


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    try:
        caller = authenticate(headers.get("authorization"), utc_now())
    except Unauthenticated as failure:
        logger.info("authentication failed", extra={"reason": str(failure)})
        metrics.add_metric(name="AuthenticationFailures", unit="Count", value=1)
        # API Gateway turns exactly this message into its UNAUTHORIZED (401) gateway response.
        raise Exception("Unauthorized") from None
    metrics.add_metric(name="AuthenticationSuccesses", unit="Count", value=1)
    return allow_policy(caller, event["methodArn"])
