"""Scheduled (EventBridge, every five minutes): remove expired validation codes and send counters that TTL
has not removed yet."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from points_core.aws.clock import utc_now
from points_core.aws.observability import logger, metrics, tracer
from points_core.services.otp_cleanup import remove_expired


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = remove_expired(utc_now())
    metrics.add_metric(name="OtpRecordsRemoved", unit="Count", value=result.removed)
    logger.info(
        "expired validation-code records removed",
        extra={
            "removed": result.removed,
            "skipped": result.already_gone_or_renewed,
            "hours_read": result.hours_read,
        },
    )
    return {
        "removed": result.removed,
        "already_gone_or_renewed": result.already_gone_or_renewed,
        "hours_read": result.hours_read,
    }
