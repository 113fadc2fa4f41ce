"""The outbox: what the embedded SNS sent by SMS and email, at GET /_local/outbox and on the console."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from points_local.__main__ import banner, delivery_line
from points_local.outbox import Delivery
from points_local.stack import LocalStack
from tests.local_stack.sample_app import write_sample_app

REGION = "eu-west-1"
DELIVERY_KEYS = {"id", "sent_at", "channel", "destination", "subject", "message", "attributes"}


@dataclass
class Running:
    stack: LocalStack
    heard: list[Delivery]
    sns: Any

    def sms(self, phone: str, text: str) -> str:
        message_id: str = self.sns.publish(PhoneNumber=phone, Message=text)["MessageId"]
        return message_id

    def email(self, address: str, text: str, **attributes: str) -> str:
        message_attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in {"channel": "email", "destination": address, **attributes}.items()
        }
        response = self.sns.publish(
            TopicArn=self.stack.topics["EventsTopic"],
            Subject="Your code",
            Message=text,
            MessageAttributes=message_attributes,
        )
        message_id: str = response["MessageId"]
        return message_id

    def outbox(self, query: str = "") -> tuple[int, Any]:
        url = f"{self.stack.api_url}/_local/outbox{query}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read())

    def messages(self, query: str = "") -> list[dict[str, Any]]:
        status, body = self.outbox(query)
        assert status == 200, body
        assert list(body) == ["messages"]
        messages: list[dict[str, Any]] = body["messages"]
        return messages


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    heard: list[Delivery] = []
    with LocalStack(write_sample_app(tmp_path), port=0, load_demo=False, on_delivery=heard.append) as stack:
        sns = boto3.client(
            "sns",
            endpoint_url=stack.aws_endpoint_url,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        yield Running(stack, heard, sns)


@pytest.mark.e2e
def test_the_outbox_lists_sms_and_email_newest_first(running: Running) -> None:
    # Given
    before = datetime.now(UTC)
    first = running.sms("+919000000001", "111111 is your validation code")
    second = running.email("Jane.Doe@Example.com", "222222 is your validation code", org_id="100737")
    running.email("ops@example.com", "not a delivery", channel="audit")  # not the email channel
    running.sns.publish(TopicArn=running.stack.topics["EventsTopic"], Message="no attributes at all")
    third = running.sms("+919000000002", "333333 is your validation code")

    # When
    messages = running.messages()

    # Then
    assert [message["id"] for message in messages] == [third, second, first]
    assert all(set(message) == DELIVERY_KEYS for message in messages)
    sms, email = messages[2], messages[1]
    assert sms | {"sent_at": None} == {
        "id": first,
        "sent_at": None,
        "channel": "sms",
        "destination": "+919000000001",
        "subject": None,
        "message": "111111 is your validation code",
        "attributes": {},
    }
    assert email | {"sent_at": None} == {
        "id": second,
        "sent_at": None,
        "channel": "email",
        "destination": "Jane.Doe@Example.com",
        "subject": "Your code",
        "message": "222222 is your validation code",
        "attributes": {"channel": "email", "destination": "Jane.Doe@Example.com", "org_id": "100737"},
    }
    sent_at = [datetime.fromisoformat(message["sent_at"]) for message in messages]
    assert all(message["sent_at"].endswith("Z") for message in messages)
    assert before <= sent_at[2] <= sent_at[1] <= sent_at[0] <= datetime.now(UTC)


@pytest.mark.e2e
def test_what_functions_send_reaches_the_outbox_and_the_listener(running: Running) -> None:
    # When: the function publishes with its own boto3 client, from its worker process
    result = running.stack.invoke(
        "NotifyFunction", {"phone": "+919000000003", "email": "eve@example.com", "text": "444444"}
    )

    # Then: heard in the order sent, the outbox newest first
    assert result.ok, result.error
    assert [delivery.id for delivery in running.heard] == [result.payload["sms"], result.payload["email"]]
    assert [(m["channel"], m["destination"]) for m in running.messages()] == [
        ("email", "eve@example.com"),
        ("sms", "+919000000003"),
    ]
    assert running.heard[0].as_json() == running.messages()[1]


@pytest.mark.e2e
def test_the_outbox_filters_by_destination(running: Running) -> None:
    # Given
    running.sms("+919000000001", "for Jane")
    running.sms("+919000000002", "for Ravi")
    running.email("Jane.Doe@Example.com", "for Jane")
    cases = {
        "919000000001": ["+919000000001"],
        "%2B919000000001": ["+919000000001"],
        "+91%2090000%2000001": ["+919000000001"],
        "9000000001": [],  # digits compare whole, not as a suffix
        "jane.doe@example.com": ["Jane.Doe@Example.com"],
        "JANE.DOE%40EXAMPLE.COM": ["Jane.Doe@Example.com"],
        "nobody@example.com": [],
        "no%20digits": [],
    }

    # When
    found = {query: running.messages(f"?destination={query}") for query in cases}

    # Then
    assert {
        query: [message["destination"] for message in messages] for query, messages in found.items()
    } == cases


@pytest.mark.e2e
def test_the_outbox_gives_the_newest_fifty_unless_told(running: Running) -> None:
    # Given
    sent = [running.sms("+919000000001", f"code {number}") for number in range(55)]

    # When
    default = running.messages()
    limited = running.messages("?limit=2&destination=919000000001")
    nothing = running.messages("?limit=0")

    # Then
    assert [message["id"] for message in default] == sent[::-1][:50]
    assert [message["id"] for message in limited] == sent[::-1][:2]
    assert nothing == []


@pytest.mark.e2e
def test_a_bad_limit_is_a_400(running: Running) -> None:
    for limit in ("-1", "ten", "1.5", "", "%C2%B2"):
        status, body = running.outbox(f"?limit={limit}")

        assert status == 400, limit
        assert "limit must be a whole number" in body["message"]


@pytest.mark.e2e
def test_the_outbox_is_read_only(running: Running) -> None:
    request = urllib.request.Request(f"{running.stack.api_url}/_local/outbox", method="DELETE")

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)

    with raised.value as error:
        assert error.code == 405
        assert error.headers["Allow"] == "GET"


@pytest.mark.e2e
def test_the_banner_says_where_the_outbox_and_the_secrets_are(running: Running) -> None:
    text = banner(running.stack)

    assert f"curl -s {running.stack.api_url}/_local/outbox" in text
    assert f"API docs (Swagger UI, offline): {running.stack.api_url}/_local/docs" in text
    assert "  secrets: GeneratedSecret, FixedSecret" in text


def _delivery(channel: str, destination: str, message: str) -> Delivery:
    return Delivery("id-1", datetime.now(UTC), channel, destination, None, message, {})


@pytest.mark.parametrize(
    ("delivery", "line"),
    [
        (
            _delivery("sms", "+919000000001", "123456 is your validation code"),
            "points-local: validation code by sms to 91******0001: 123456 is your validation code",
        ),
        (
            _delivery("email", "jane.doe@example.com", "Hello,\n\n  123456 is your code.\n"),
            "points-local: validation code by email to j***@e***.com: Hello, 123456 is your code.",
        ),
    ],
)
def test_each_delivery_is_one_masked_console_line(delivery: Delivery, line: str) -> None:
    assert delivery_line(delivery) == line
