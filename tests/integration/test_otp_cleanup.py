"""The scheduled cleanup: only what has expired, bounded, safe to run twice, by the expiry index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from points_core.domain.models import OtpSettings
from points_core.repositories import otp_repository
from points_core.repositories.keys import otp_state
from points_core.services.otp_cleanup import remove_expired
from tests.conftest import Aws
from tests.invoke import invoke

SETTINGS = OtpSettings(validity_minutes=10, window_minutes=15)
NOW = datetime.now(UTC).replace(microsecond=0)


def issue(customer_id: str, at: datetime) -> None:
    otp_repository().issue(
        100737, customer_id, 973, Decimal(10), int(at.timestamp()), "nonce", "verifier", SETTINGS
    )


def stored(aws: Aws) -> set[str]:
    items: list[dict[str, Any]] = aws.dynamodb.scan(TableName="OtpTable")["Items"]
    return {item["pk"]["S"].rsplit("#", 1)[-1] for item in items}


def test_only_expired_records_are_removed(aws: Aws) -> None:
    issue("1", NOW - timedelta(hours=3))
    issue("2", NOW - timedelta(minutes=20))
    issue("3", NOW - timedelta(minutes=5))
    issue("4", NOW)

    result = remove_expired(NOW)

    assert (result.removed, result.already_gone_or_renewed) == (2, 0)
    assert stored(aws) == {"3", "4"}
    assert remove_expired(NOW).removed == 0


def test_a_record_renewed_since_it_was_found_survives(aws: Aws) -> None:
    issue("1", NOW - timedelta(hours=1))
    repository = otp_repository()
    bucket = aws.dynamodb.get_item(TableName="OtpTable", Key=otp_state(100737, "1"))["Item"]["expiry_bucket"][
        "S"
    ]
    (key,) = list(repository.expired(bucket, int(NOW.timestamp()), 10))
    issue("1", NOW)

    assert repository.delete_if_expired(key, int(NOW.timestamp())) is False
    assert stored(aws) == {"1"}


def test_each_run_is_bounded(aws: Aws) -> None:
    for customer in range(25):
        issue(str(customer), NOW - timedelta(hours=2, minutes=customer))

    assert remove_expired(NOW, limit=10).removed == 10
    assert remove_expired(NOW, limit=10).removed == 10
    assert remove_expired(NOW, limit=10).removed == 5
    assert stored(aws) == set()


def test_records_older_than_the_lookback_are_left_to_ttl(aws: Aws) -> None:
    issue("old", NOW - timedelta(days=4))
    assert remove_expired(NOW).removed == 0
    assert stored(aws) == {"old"}


def test_the_scheduled_function_reports_and_counts_what_it_removed(aws: Aws) -> None:
    issue("1", NOW - timedelta(hours=1))
    event = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    result = invoke("otp_cleanup", event)
    assert result["removed"] == 1
    assert result["hours_read"] == 49
