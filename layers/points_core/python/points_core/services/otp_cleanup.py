"""Scheduled removal of validation-code records that expired and that TTL has not deleted yet (TTL is lazy:
typically within two days). Reads the `by_expiry` index hour by hour, never the whole table; removes at most
`limit` records a run; a delete happens only if the record is still expired at that moment, so a code issued
meanwhile survives, and two runs at once cannot remove anything live."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from points_core.aws.observability import tracer
from points_core.repositories import otp_repository
from points_core.repositories.otp import expiry_bucket

MAX_REMOVALS_PER_RUN = 1000
# Older records are TTL's: DynamoDB deletes expired items within about 48 hours.
LOOKBACK_HOURS = 48


@dataclass(frozen=True, slots=True)
class CleanupResult:
    removed: int
    already_gone_or_renewed: int
    hours_read: int


@tracer.capture_method(capture_response=False)
def remove_expired(now: datetime, *, limit: int = MAX_REMOVALS_PER_RUN) -> CleanupResult:
    repository = otp_repository()
    epoch = int(now.timestamp())
    removed = skipped = hours = 0
    for hours_back in range(LOOKBACK_HOURS, -1, -1):
        if removed + skipped >= limit:
            break
        hours += 1
        bucket = expiry_bucket(int((now - timedelta(hours=hours_back)).timestamp()))
        for record in repository.expired(bucket, epoch, limit - removed - skipped):
            if repository.delete_if_expired(record, epoch):
                removed += 1
            else:
                skipped += 1
    return CleanupResult(removed=removed, already_gone_or_renewed=skipped, hours_read=hours)
