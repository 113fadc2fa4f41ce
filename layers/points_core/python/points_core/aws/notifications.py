"""Delivering validation codes through SNS.

SMS: a direct publish to the normalized number, as a transactional SMS. Email: a publish to the email-codes
topic, for a mail sender subscribed to it; the address travels in the `destination` message attribute and
`channel` is `email` (the subscription contract is in the README). The message text holds the code, so it is
never logged; failures are logged by channel and error type only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from points_core.aws.clients import sns_client
from points_core.aws.observability import logger, metrics
from points_core.aws.settings import get_settings
from points_core.domain.errors import DeliveryFailed

EMAIL_SUBJECT = "Your validation code"


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


CHANNELS = {"sms": (Channel.SMS,), "email": (Channel.EMAIL,), "both": (Channel.SMS, Channel.EMAIL)}


@dataclass(frozen=True, slots=True)
class Destination:
    mobile: str
    email: str

    def reachable(self, channels: str) -> tuple[Channel, ...]:
        wanted = CHANNELS[channels]
        return tuple(c for c in wanted if (self.mobile if c is Channel.SMS else self.email))


def _publish(channel: Channel, destination: Destination, text: str, org_id: int) -> None:
    client: Any = sns_client()
    if channel is Channel.SMS:
        client.publish(
            PhoneNumber=f"+{destination.mobile}",
            Message=text,
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )
        return
    client.publish(
        TopicArn=get_settings().email_codes_topic_arn,
        Subject=EMAIL_SUBJECT,
        Message=text,
        MessageAttributes={
            "channel": {"DataType": "String", "StringValue": "email"},
            "destination": {"DataType": "String", "StringValue": destination.email},
            "org_id": {"DataType": "String", "StringValue": str(org_id)},
        },
    )


def deliver(text: str, destination: Destination, channels: str, org_id: int) -> tuple[Channel, ...]:
    """Send `text` on each configured channel the customer can be reached on; the channels that took it.
    `DeliveryFailed` when none did."""
    delivered: list[Channel] = []
    for channel in destination.reachable(channels):
        try:
            _publish(channel, destination, text, org_id)
        except (ClientError, BotoCoreError) as error:
            logger.warning(
                "validation code not delivered",
                extra={"channel": channel, "error_type": type(error).__name__},
            )
            metrics.add_metric(name="OtpDeliveryFailures", unit="Count", value=1)
            continue
        delivered.append(channel)
    if not delivered:
        raise DeliveryFailed("no channel delivered the validation code")
    return tuple(delivered)
