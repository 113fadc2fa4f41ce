"""Validation-code state and send counters (the Otp table).

One item per customer: for each program `c<program>_nonce/_issued/_expires/_points/_attempts/_verifier`,
and the send count of each window in `w<minutes>_<window index>`. Issuing is one conditional UpdateItem that
re-uses a valid code issued for at least the points asked (`if_not_exists`: its nonce, points and verifier are
kept, so its points never grow), creates one where there is none, and counts the send, refusing past the
limit; its old image says which happened. A code that expired or died while still stored, a live one issued
for fewer points than now asked, or one without a verifier (issued before codes had one), needs a second
write: a new nonce, so a new code, and the old one is dead.
`expires_at` (TTL, epoch seconds) and `expiry_bucket` (the hour it falls in) feed the `by_expiry` index the
cleanup reads.

Checking a given code (isredeemable) is one conditional UpdateItem that counts it as a wrong attempt unless
its verifier is the stored one: the verifiers are compared inside the write that counts, so however many
guesses arrive at once no more than `max_attempts` wrong ones can ever be answered; a right code fails the
condition, counts nothing, and is recognised from the old image the refusal returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from points_core.aws.observability import tracer
from points_core.domain.errors import CodeChanged, SendLimitReached
from points_core.domain.models import OtpSettings
from points_core.domain.validation_codes import CodeState, window_end, window_index
from points_core.repositories import keys
from points_core.repositories.codec import from_item, serialize

EXPIRY_INDEX = "by_expiry"
MAX_ISSUE_ATTEMPTS = 3
# DynamoDB refuses placeholders an expression does not use, and each attempt uses a different set.
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


def code_names(program_id: int) -> dict[str, str]:
    prefix = f"c{program_id}_"
    fields = ("nonce", "issued", "expires", "points", "attempts", "verifier")
    return {f"#{field}": prefix + field for field in fields}


def _window_name(now: int, settings: OtpSettings) -> str:
    return f"w{settings.window_minutes}_{window_index(now, settings)}"


def _previous_window_name(now: int, settings: OtpSettings) -> str:
    return f"w{settings.window_minutes}_{window_index(now, settings) - 1}"


def expiry_bucket(epoch: int) -> str:
    """The hour an expiry falls in: the `by_expiry` index's partition."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H")


def code_state(values: Mapping[str, Any], program_id: int) -> CodeState | None:
    names = code_names(program_id)
    if names["#nonce"] not in values:
        return None
    return CodeState(
        nonce=values[names["#nonce"]],
        issued_at=int(values[names["#issued"]]),
        expires_at=int(values[names["#expires"]]),
        points=Decimal(values[names["#points"]]),
        attempts=int(values[names["#attempts"]]),
        verifier=values.get(names["#verifier"]),
    )


@dataclass(frozen=True, slots=True)
class Issued:
    state: CodeState
    fresh: bool
    """A new code (else the valid one was re-used)."""
    replaced: CodeState | None
    """The live code a new one replaced (it was issued for fewer points), put back if delivery fails."""
    window: str


def _issue_values(
    nonce: str, verifier: str, now: int, expires: int, points: Decimal, settings: OtpSettings
) -> dict[str, Any]:
    ttl = max(expires, window_end(now, settings))
    return {
        ":nonce": serialize(nonce),
        ":verifier": serialize(verifier),
        ":now": serialize(now),
        ":expires": serialize(expires),
        ":points": serialize(points),
        ":zero": serialize(0),
        ":one": serialize(1),
        ":ttl": serialize(ttl),
        ":bucket": serialize(expiry_bucket(ttl)),
        ":max_attempts": serialize(settings.max_attempts),
        ":max_sends": serialize(settings.max_sends),
    }


def _issue_forms(window: str, previous_window: str) -> tuple[dict[str, str], dict[str, str]]:
    """The two updates that issue a code: re-use the valid one issued for at least these points (keeping its
    points and its verifier) or create one where there is none; replace one that expired, died, was issued for
    fewer points or has no verifier (issued before codes had one). Each counts the send, refuses past the
    limit, and forgets the previous window's count."""
    common = f"expires_at = :ttl, expiry_bucket = :bucket ADD {window} :one REMOVE {previous_window}"
    within_limit = f"(attribute_not_exists({window}) OR {window} < :max_sends)"
    reuse_or_create = {
        "UpdateExpression": (
            "SET #nonce = if_not_exists(#nonce, :nonce), #issued = if_not_exists(#issued, :now), "
            "#expires = if_not_exists(#expires, :expires), #points = if_not_exists(#points, :points), "
            "#attempts = if_not_exists(#attempts, :zero), #verifier = if_not_exists(#verifier, :verifier), "
            + common
        ),
        "ConditionExpression": (
            "(attribute_not_exists(#nonce) OR (#expires > :now AND #attempts < :max_attempts AND "
            "#points >= :points AND attribute_exists(#verifier))) AND " + within_limit
        ),
    }
    replace_stale = {
        "UpdateExpression": (
            "SET #nonce = :nonce, #issued = :now, #expires = :expires, #points = :points, #attempts = :zero, "
            "#verifier = :verifier, " + common
        ),
        "ConditionExpression": f"#nonce = :stale_nonce AND {within_limit}",
    }
    return reuse_or_create, replace_stale


def _reusable(stored: CodeState, points: Decimal, now: int, settings: OtpSettings) -> bool:
    """A code is re-sent only while valid, for no more points than it was issued for, and checkable."""
    checkable = stored.verifier is not None
    return checkable and stored.usable(now, settings.max_attempts) and stored.points >= points


@dataclass(frozen=True, slots=True)
class Checked:
    """A given code checked by its verifier."""

    counted: bool
    """It was wrong, and counted as a wrong attempt."""
    found: CodeState | None
    """When nothing was counted: the code's state as the refused write found it (None: no code)."""


@dataclass(frozen=True, slots=True)
class ExpiredRecord:
    """A customer's validation-code record that had expired when the cleanup read it."""

    org_id: int
    customer_id: str


class OtpRepository:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    @property
    def table(self) -> str:
        return self._table

    @tracer.capture_method(capture_response=False)
    def issue(
        self,
        org_id: int,
        customer_id: str,
        program_id: int,
        points: Decimal,
        now: int,
        nonce: str,
        verifier: str,
        settings: OtpSettings,
    ) -> Issued:
        """Re-use the customer's valid code for this program when it was issued for at least `points` (it
        stays bound to what it was issued for), or create one from `nonce` (the code's verifier `verifier`),
        bound to `points`, and count the send; `SendLimitReached` past `settings.max_sends` in the window
        (nothing written)."""
        names = code_names(program_id)
        window = _window_name(now, settings)
        expires = now + settings.validity_minutes * 60
        values = _issue_values(nonce, verifier, now, expires, points, settings)
        reuse_or_create, replace_stale = _issue_forms(window, _previous_window_name(now, settings))
        update = reuse_or_create
        for _ in range(MAX_ISSUE_ATTEMPTS):
            try:
                old = self._update(org_id, customer_id, names, values, update)
            except _Refused as refused:
                if int(refused.old.get(window, 0)) >= settings.max_sends:
                    raise SendLimitReached(window_end(now, settings) - now) from None
                # Decide again from what is stored now: a concurrent request may have renewed the code.
                stored = code_state(refused.old, program_id)
                if stored is None or _reusable(stored, points, now, settings):
                    update = reuse_or_create
                else:
                    values[":stale_nonce"] = serialize(stored.nonce)
                    update = replace_stale
                continue
            previous = code_state(old, program_id)
            if update is reuse_or_create and previous is not None:
                # The condition held: it was valid and issued for at least these points.
                return Issued(previous, fresh=False, replaced=None, window=window)
            live = previous is not None and previous.usable(now, settings.max_attempts)
            return Issued(
                CodeState(nonce, now, expires, points, verifier=verifier),
                fresh=True,
                replaced=previous if live else None,
                window=window,
            )
        raise CodeChanged("the validation code kept changing; nothing was sent")

    @tracer.capture_method(capture_response=False)
    def undo_issue(self, org_id: int, customer_id: str, program_id: int, issued: Issued) -> None:
        """After a failed delivery: the send does not count, a code nobody received does not exist, and the
        live code it replaced (if any) is the customer's code again."""
        names = code_names(program_id)
        values = {":nonce": serialize(issued.state.nonce), ":minus_one": serialize(-1)}
        replaced = issued.replaced
        if issued.fresh and replaced is not None:
            values |= {
                ":old_nonce": serialize(replaced.nonce),
                ":old_issued": serialize(replaced.issued_at),
                ":old_expires": serialize(replaced.expires_at),
                ":old_points": serialize(replaced.points),
                ":old_attempts": serialize(replaced.attempts),
            }
            expression = (
                "SET #nonce = :old_nonce, #issued = :old_issued, #expires = :old_expires, "
                "#points = :old_points, #attempts = :old_attempts"
            )
            if replaced.verifier is None:
                expression += " REMOVE #verifier"
            else:
                values[":old_verifier"] = serialize(replaced.verifier)
                expression += ", #verifier = :old_verifier"
            expression += " ADD " + issued.window + " :minus_one"
        elif issued.fresh:
            expression = (
                "REMOVE #nonce, #issued, #expires, #points, #attempts, #verifier ADD "
                + issued.window
                + " :minus_one"
            )
        else:
            expression = "ADD " + issued.window + " :minus_one"
            names = {"#nonce": names["#nonce"]}
        self._client.update_item(
            TableName=self._table,
            Key=keys.otp_state(org_id, customer_id),
            UpdateExpression=expression,
            ConditionExpression="#nonce = :nonce",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    @tracer.capture_method(capture_response=False)
    def count_unless_right(
        self,
        org_id: int,
        customer_id: str,
        program_id: int,
        verifier: str,
        points: Decimal,
        now: int,
        max_attempts: int,
    ) -> Checked:
        """Check a given code by its verifier and count it if wrong, in one conditional UpdateItem: an attempt
        is added only while the code exists, has a verifier, is unexpired, has fewer than `max_attempts`
        counted, was issued for at least `points`, and its verifier is not `verifier`. So a wrong code is
        compared only inside the write that counts it, and a right one, or one refused whatever was given,
        fails the condition and counts nothing: `counted` False with the state that write found."""
        names = code_names(program_id)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=keys.otp_state(org_id, customer_id),
                UpdateExpression="ADD #attempts :one",
                ConditionExpression=(
                    "attribute_exists(#nonce) AND attribute_exists(#verifier) AND #expires > :now AND "
                    "(attribute_not_exists(#attempts) OR #attempts < :max_attempts) AND "
                    "#points >= :points AND #verifier <> :verifier"
                ),
                ExpressionAttributeNames={
                    name: names[name] for name in ("#attempts", "#nonce", "#verifier", "#expires", "#points")
                },
                ExpressionAttributeValues={
                    ":one": serialize(1),
                    ":now": serialize(now),
                    ":max_attempts": serialize(max_attempts),
                    ":points": serialize(points),
                    ":verifier": serialize(verifier),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old_item: dict[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
            return Checked(counted=False, found=code_state(from_item(old_item), program_id))
        return Checked(counted=True, found=None)

    @tracer.capture_method(capture_response=False)
    def expired(self, bucket: str, now: int, limit: int) -> Iterator[ExpiredRecord]:
        """Records in one expiry hour that expired before `now`, oldest first, at most `limit`."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName=EXPIRY_INDEX,
            KeyConditionExpression="expiry_bucket = :bucket AND expires_at < :now",
            ExpressionAttributeValues={":bucket": serialize(bucket), ":now": serialize(now)},
            PaginationConfig={"MaxItems": limit, "PageSize": min(limit, 100)},
        )
        for page in pages:
            for item in page["Items"]:
                yield ExpiredRecord(*keys.otp_state_owner(item))

    @tracer.capture_method(capture_response=False)
    def delete_if_expired(self, record: ExpiredRecord, now: int) -> bool:
        """Delete a record only if it is still expired: a code issued since moved its expiry forward."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=keys.otp_state(record.org_id, record.customer_id),
                ConditionExpression="expires_at < :now",
                ExpressionAttributeValues={":now": serialize(now)},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _update(
        self,
        org_id: int,
        customer_id: str,
        names: dict[str, str],
        values: dict[str, Any],
        update: dict[str, Any],
    ) -> dict[str, Any]:
        used = set(_PLACEHOLDER.findall(update["UpdateExpression"] + " " + update["ConditionExpression"]))
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=keys.otp_state(org_id, customer_id),
                ExpressionAttributeNames={name: value for name, value in names.items() if name in used},
                ExpressionAttributeValues={name: value for name, value in values.items() if name in used},
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **update,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                old_item: dict[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
                raise _Refused(from_item(old_item)) from None
            raise
        return from_item(response.get("Attributes") or {})


class _Refused(Exception):
    def __init__(self, old: dict[str, Any]) -> None:
        super().__init__("condition refused")
        self.old = old
