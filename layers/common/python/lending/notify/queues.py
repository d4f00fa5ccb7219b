"""The callback queue and its dead-letter queue. The DLQ and the number of tries come from the queue's
own RedrivePolicy (template.yaml is the one place they are set)."""

from __future__ import annotations

import json
import os
from typing import Any

from .. import aws
from ..domain.values import Value

DEFAULT_MAX_RECEIVES = 6
_policies: dict[str, Redrive] = {}


def client() -> Any:
    """One SQS client per endpoint (the tests and the local stack point AWS_ENDPOINT_URL elsewhere).
    Short timeouts: an enqueue right after a return must never hold the return up for long."""
    return aws.client("sqs", "quick")


def queue_url() -> str:
    return os.environ["CALLBACK_QUEUE_URL"]


class Redrive(Value):
    dead_letter_url: str | None
    max_receives: int

    def __init__(self, dead_letter_url: str | None, max_receives: int) -> None:
        self._init(dead_letter_url, max_receives)


def redrive(url: str | None = None) -> Redrive:
    """Where parked messages go and after how many receives (read once per container)."""
    url = url or queue_url()
    if url not in _policies:
        got = client().get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
        attrs = got.get("Attributes", {})
        policy = json.loads(attrs.get("RedrivePolicy") or "{}")
        dlq = None
        if policy.get("deadLetterTargetArn"):
            # Same account and region as the queue: its URL only differs by the name (the ARN's last part).
            dlq = url.rsplit("/", 1)[0] + "/" + str(policy["deadLetterTargetArn"]).rsplit(":", 1)[-1]
        _policies[url] = Redrive(dlq, int(policy.get("maxReceiveCount", DEFAULT_MAX_RECEIVES)))
    return _policies[url]


def send_batch(url: str, bodies: dict[str, str], attributes: dict[str, dict[str, str]] | None = None
               ) -> dict[str, str]:
    """Send up to 10 messages keyed by an id of ours; returns {our id: SQS MessageId} of those accepted."""
    entries = []
    for n, (key, body) in enumerate(bodies.items()):
        entry: dict[str, Any] = {"Id": str(n), "MessageBody": body}
        attrs = {"eventId": key, **(attributes or {}).get(key, {})}
        entry["MessageAttributes"] = {k: {"DataType": "String", "StringValue": v} for k, v in attrs.items()}
        entries.append(entry)
    keys = list(bodies)
    out = client().send_message_batch(QueueUrl=url, Entries=entries)
    return {keys[int(x["Id"])]: x["MessageId"] for x in out.get("Successful", [])}


def send_later(url: str, event_id: str, body: str, seconds: int, prior_tries: int) -> str:
    """One message, visible after `seconds` (SQS allows 15 minutes at most), carrying how many tries were
    made before it (a first try from the table's stream): its receives count the tries after those."""
    attrs = {"eventId": event_id, "priorTries": str(prior_tries)}
    out = client().send_message(QueueUrl=url, MessageBody=body, DelaySeconds=max(0, min(seconds, 900)),
                                MessageAttributes={k: {"DataType": "String", "StringValue": v}
                                                   for k, v in attrs.items()})
    return str(out["MessageId"])


def park(body: str, reason: str, event_id: str = "") -> None:
    """Straight to the dead-letter queue (no retry can help): kept for a person and for `redrive`."""
    dlq = redrive().dead_letter_url
    if dlq is None:
        raise RuntimeError("the callback queue has no dead-letter queue")
    attrs = {"parkReason": {"DataType": "String", "StringValue": reason[:256]}}
    if event_id:
        attrs["eventId"] = {"DataType": "String", "StringValue": event_id}
    client().send_message(QueueUrl=dlq, MessageBody=body or "(empty)", MessageAttributes=attrs)


def retry_in(receipt_handle: str, seconds: int) -> None:
    client().change_message_visibility(QueueUrl=queue_url(), ReceiptHandle=receipt_handle,
                                       VisibilityTimeout=max(0, min(seconds, 43_200)))
