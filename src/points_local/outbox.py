"""What the embedded SNS "sent": SMS to phone numbers and email-channel topic messages, in publishing order.

The API never answers a validation code, so locally the outbox is where a developer reads it.

Deliveries are captured by wrapping moto's `SNSBackend.publish` (moto runs in this process): every publish
is recorded by the request that makes it, before the caller gets its answer. Reading moto's stores
afterwards would lose both the order between SMS and topic messages and the time each was sent.
"""

from __future__ import annotations

import inspect
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from moto.sns.models import SNSBackend

SMS: Final = "sms"
EMAIL: Final = "email"
DEFAULT_LIMIT: Final = 50
# The message attributes an email-channel topic message carries: its channel and its address.
CHANNEL_ATTRIBUTE: Final = "channel"
DESTINATION_ATTRIBUTE: Final = "destination"


@dataclass(frozen=True)
class Delivery:
    """One message as SNS would have delivered it."""

    id: str
    sent_at: datetime
    channel: str  # SMS or EMAIL
    destination: str  # the phone number as published, or the email address
    subject: str | None
    message: str
    attributes: Mapping[str, str]  # message attributes: name → value

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sent_at": self.sent_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "channel": self.channel,
            "destination": self.destination,
            "subject": self.subject,
            "message": self.message,
            "attributes": dict(self.attributes),
        }


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def matches(delivery: Delivery, destination: str) -> bool:
    """Emails compare case-insensitively, phone numbers by their digits (`919…` is `+919…`)."""
    if "@" in destination:
        return delivery.channel == EMAIL and delivery.destination.casefold() == destination.casefold()
    digits = _digits(destination)
    return bool(digits) and delivery.channel == SMS and _digits(delivery.destination) == digits


class Outbox:
    """Deliveries since the stack started; `listener` hears each one as it is recorded, in order."""

    def __init__(self, listener: Callable[[Delivery], None] | None = None) -> None:
        self._listener = listener
        self._deliveries: list[Delivery] = []
        self._lock = threading.Lock()

    def messages(self, destination: str | None = None, limit: int = DEFAULT_LIMIT) -> list[Delivery]:
        """Newest first, to `destination` only when given."""
        with self._lock:
            newest_first = self._deliveries[::-1]
        if destination is not None:
            newest_first = [delivery for delivery in newest_first if matches(delivery, destination)]
        return newest_first[:limit]

    def record_publish(
        self,
        message_id: str,
        message: str,
        phone_number: str | None,
        subject: str | None,
        message_attributes: Mapping[str, Mapping[str, Any]] | None,
    ) -> None:
        """Keep an SMS, or a topic message whose `channel` attribute is `email`; ignore anything else."""
        # moto keeps message attributes as {"Type": …, "Value": …}.
        attributes = {name: str(value.get("Value")) for name, value in (message_attributes or {}).items()}
        if phone_number:
            channel, destination = SMS, phone_number
        elif attributes.get(CHANNEL_ATTRIBUTE) == EMAIL:
            channel, destination = EMAIL, attributes.get(DESTINATION_ATTRIBUTE, "")
        else:
            return
        with self._lock:
            delivery = Delivery(
                message_id, datetime.now(UTC), channel, destination, subject, message, attributes
            )
            self._deliveries.append(delivery)
            # Under the lock: the listener hears deliveries in the outbox's order.
            if self._listener is not None:
                self._listener(delivery)


@contextmanager
def capture_sns(outbox: Outbox) -> Iterator[None]:
    """Record into `outbox` what moto's SNS publishes (in this process) until the block ends."""
    original = SNSBackend.publish
    signature = inspect.signature(original)

    def publish(backend: SNSBackend, *args: Any, **kwargs: Any) -> str:
        message_id = original(backend, *args, **kwargs)
        # Only a publish that succeeded counts; targets that are neither a phone nor a topic are ignored.
        call = signature.bind(backend, *args, **kwargs)
        call.apply_defaults()
        arguments = call.arguments
        if arguments["phone_number"] or arguments["arn"] in backend.topics:
            outbox.record_publish(
                message_id,
                arguments["message"],
                arguments["phone_number"],
                arguments["subject"],
                arguments["message_attributes"],
            )
        return message_id

    SNSBackend.publish = publish  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        SNSBackend.publish = original  # type: ignore[method-assign]
