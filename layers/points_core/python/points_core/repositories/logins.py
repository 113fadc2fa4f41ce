"""What authentication reads and writes in the Config table: till logins, their lockout records, and OAuth
clients (with the org's own record of each, which the operator tool writes and removes).

A lockout record (`keys.lockout`) counts a till's failed logins: `failures` in the window that opened at
`window_start`, `locked_until` once they reached the limit (epoch seconds), and `expires_at`, its TTL.
Counting is atomic (conditional `UpdateItem`s), so concurrent failures are each counted once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from points_core.aws.observability import tracer
from points_core.domain.lockout import Lockout, LockoutPolicy, epoch, kept_until, window_cutoff
from points_core.domain.models import OAuthClient, TillLogin
from points_core.repositories import keys
from points_core.repositories.batch import batch_get
from points_core.repositories.codec import from_item
from points_core.repositories.org_records import (
    delete_with_org_record,
    org_record_names,
    put_with_org_record,
)

# A new window is opened only when none is open, and counting in an open one only while it is: two
# conditions that cannot both refuse twice in a row unless windows keep closing between two calls.
MAX_COUNT_ATTEMPTS = 4


def _conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def lockout_of(item: dict[str, Any] | None) -> Lockout:
    if not item:
        return Lockout()
    values = from_item(item)

    def number(name: str) -> int | None:
        value = values.get(name)
        return int(value) if value is not None else None

    return Lockout(
        failures=number("failures") or 0,
        window_start=number("window_start"),
        locked_until=number("locked_until"),
    )


class LoginRepository:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    @tracer.capture_method(capture_response=False)
    def till(self, username: str) -> tuple[TillLogin | None, Lockout]:
        """The till's login (None when there is no such till) and its lockout, in one round trip, whether
        the till exists or not. Consistent, so a lock is seen as soon as it is set."""
        login_key, lockout_key = keys.till_login(username), keys.lockout(username)
        found = {
            item["pk"]["S"]: item
            for item in batch_get(self._client, self._table, [login_key, lockout_key], consistent=True)
        }
        login = found.get(login_key["pk"]["S"])
        return (
            TillLogin.model_validate(from_item(login)) if login else None,
            lockout_of(found.get(lockout_key["pk"]["S"])),
        )

    @tracer.capture_method(capture_response=False)
    def oauth_client(self, client_key: str) -> OAuthClient | None:
        response = self._client.get_item(TableName=self._table, Key=keys.oauth_client(client_key))
        item = response.get("Item")
        return OAuthClient.model_validate(from_item(item)) if item else None

    @tracer.capture_method(capture_response=False)
    def oauth_login(self, client_key: str) -> tuple[OAuthClient | None, str, Lockout]:
        """An OAuth client (None when the key names none), whose lockout its failures count toward (its
        till's, or the unknown key's own), and that lockout: the same two reads whether the key exists."""
        client = self.oauth_client(client_key)
        subject = client.till_id if client is not None else keys.oauth_subject(client_key)
        return client, subject, self.lockout(subject)

    @tracer.capture_method(capture_response=False)
    def client_and_till(self, client_key: str, username: str) -> tuple[OAuthClient | None, TillLogin | None]:
        """An OAuth client and the till a token says it acts as, in one round trip."""
        client_key_item, login_key = keys.oauth_client(client_key), keys.till_login(username)
        found = {
            item["pk"]["S"]: item
            for item in batch_get(self._client, self._table, [client_key_item, login_key])
        }
        client, login = found.get(client_key_item["pk"]["S"]), found.get(login_key["pk"]["S"])
        return (
            OAuthClient.model_validate(from_item(client)) if client else None,
            TillLogin.model_validate(from_item(login)) if login else None,
        )

    @tracer.capture_method(capture_response=False)
    def oauth_client_keys(self, org_id: int) -> list[str]:
        return org_record_names(self._client, self._table, org_id, keys.ORG_OAUTH_PREFIX)

    @tracer.capture_method(capture_response=False)
    def save_oauth_client(self, client: OAuthClient) -> None:
        """The client and the org's record of it, together; refused if the key is another org's."""
        put_with_org_record(
            self._client,
            self._table,
            client.org_id,
            (client.model_dump(), keys.oauth_client(client.key)),
            ({"till_id": client.till_id}, keys.org_oauth_client(client.org_id, client.key)),
        )

    @tracer.capture_method(capture_response=False)
    def delete_oauth_client(self, org_id: int, client_key: str) -> None:
        delete_with_org_record(
            self._client,
            self._table,
            org_id,
            keys.oauth_client(client_key),
            keys.org_oauth_client(org_id, client_key),
        )

    @tracer.capture_method(capture_response=False)
    def lockout(self, subject: str) -> Lockout:
        response = self._client.get_item(
            TableName=self._table, Key=keys.lockout(subject), ConsistentRead=True
        )
        return lockout_of(response.get("Item"))

    @tracer.capture_method(capture_response=False)
    def count_failure(self, subject: str, now: datetime, policy: LockoutPolicy) -> Lockout:
        """Count one failed login of `subject`, and lock it if that reaches the limit; the lockout after."""
        state = self._count(subject, now, policy)
        if state.reached(policy) and not state.locked(now):
            state = self._lock(subject, now, policy) or state
        return state

    def _update(self, subject: str, **request: Any) -> Lockout | None:
        """None when the condition refused."""
        try:
            response = self._client.update_item(
                TableName=self._table, Key=keys.lockout(subject), ReturnValues="ALL_NEW", **request
            )
        except ClientError as error:
            if _conditional_failure(error):
                return None
            raise
        return lockout_of(response["Attributes"])

    def _count(self, subject: str, now: datetime, policy: LockoutPolicy) -> Lockout:
        values = {
            ":one": {"N": "1"},
            ":cutoff": {"N": str(window_cutoff(now, policy))},
            ":expires": {"N": str(kept_until(now, policy))},
        }
        for _ in range(MAX_COUNT_ATTEMPTS):
            counted = self._update(
                subject,
                UpdateExpression="ADD failures :one SET expires_at = :expires",
                ConditionExpression="window_start > :cutoff",
                ExpressionAttributeValues=values,
            )
            if counted is not None:
                return counted
            # No window is open: open one with this failure (a lock in force is kept as it is).
            opened = self._update(
                subject,
                UpdateExpression="SET failures = :one, window_start = :now, expires_at = :expires",
                ConditionExpression="attribute_not_exists(window_start) OR window_start <= :cutoff",
                ExpressionAttributeValues={**values, ":now": {"N": str(epoch(now))}},
            )
            if opened is not None:
                return opened
        raise RuntimeError("the lockout record kept changing")  # windows closing between calls: unreachable

    def _lock(self, subject: str, now: datetime, policy: LockoutPolicy) -> Lockout | None:
        """Lock from now, unless a lock is already in force (a lock is never extended)."""
        return self._update(
            subject,
            UpdateExpression="SET locked_until = :until",
            ConditionExpression="attribute_not_exists(locked_until) OR locked_until <= :now",
            ExpressionAttributeValues={
                ":until": {"N": str(epoch(now) + policy.lock_seconds)},
                ":now": {"N": str(epoch(now))},
            },
        )
