"""Lambda REQUEST authorizer: HTTP Basic as a till, or an OAuth access token in X-CAP-API-OAUTH-TOKEN. On
success the policy allows the whole API and the context carries `org_id`, `till_id` and `store_id`; otherwise
API Gateway answers 401 with the Capillary envelope. API Gateway calls it for every request (no identity
source, no API Gateway cache); it keeps the tills it verified for AUTHORIZER_CACHE_SECONDS."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from points_core.aws.clock import utc_now
from points_core.aws.observability import logger, metrics, tracer
from points_core.domain.errors import Unauthenticated
from points_core.services.authentication import allow_policy
from points_core.services.credentials import authenticate_request


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    try:
        caller = authenticate_request(headers, utc_now())
    except Unauthenticated as failure:
        logger.info("authentication failed", extra={"reason": str(failure)})
        metrics.add_metric(name="AuthenticationFailures", unit="Count", value=1)
        if str(failure) == "locked out":
            metrics.add_metric(name="LockedOutRequests", unit="Count", value=1)
        # API Gateway turns exactly this message into its UNAUTHORIZED (401) gateway response.
        raise Exception("Unauthorized") from None
    metrics.add_metric(name="AuthenticationSuccesses", unit="Count", value=1)
    return allow_policy(caller, event["methodArn"])
