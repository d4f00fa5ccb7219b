"""One try of one event, then what SQS should do with its message.

    claim on the loan (conditional) -> check the URL (SSRF) -> sign -> POST -> record the outcome
    2xx                      acknowledged: recorded, never sent again
    5xx, 4xx, timeout, ...   retried: the message comes back after a growing delay; after the last try
                             SQS moves it to the dead-letter queue
    refused URL, poison      parked in the dead-letter queue at once (no retry can help)
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .. import clock as hub_clock
from ..cache import TtlCache
from ..domain.dates import iso
from ..domain.values import Value
from ..observability import count, logger
from ..store import accounts as account_store
from ..store import callbacks as state_store
from . import events, guard, queues, sender, signing

DEFAULT_DELAYS = "60,300,1800,7200,21600"  # seconds after tries 1..5; six tries in about 8.6 hours
SECRET_TTL_S = 60.0

Clock = Callable[[], datetime]


def retry_delays() -> list[int]:
    raw = os.environ.get("CALLBACK_RETRY_DELAYS", DEFAULT_DELAYS)
    return [max(0, round(float(x))) for x in raw.split(",") if x.strip()] or [60]


def delay_after(tries: int, delays: list[int] | None = None, jitter: float = 0.1) -> int:
    """Seconds before the next try, after `tries` failed ones: grows with the count, +-10% jitter so
    that a receiver coming back is not hit by every parked event at the same second."""
    delays = delays or retry_delays()
    base = delays[min(max(tries, 1), len(delays)) - 1]
    return max(0, round(base * random.uniform(1 - jitter, 1 + jitter)))


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"  # this try was acknowledged
    ALREADY = "already"  # acknowledged before: nothing sent
    IN_FLIGHT = "in_flight"  # another copy of the message is being sent now: this one is dropped
    RETRY = "retry"  # the receiver failed: try again later
    REFUSED = "refused"  # can never be sent (URL refused, no secret, unknown loan): park it


class Result(Value):
    outcome: DeliveryOutcome
    attempts: int
    error: str | None

    def __init__(self, outcome: DeliveryOutcome, attempts: int = 0, error: str | None = None) -> None:
        self._init(outcome, attempts, error)


_secrets: TtlCache[str, str | None] = TtlCache(SECRET_TTL_S)


def callback_secret(gln_coll: str) -> str | None:
    """The collectivity's HMAC key, cached a minute per warm container."""
    def load() -> str | None:
        account = account_store.get(gln_coll)
        return account.callback_secret if account else None

    return _secrets.get_or_load(gln_coll, load)


def forget() -> None:
    _secrets.clear()


def deliver(event: events.CallbackEvent, now: datetime, last_try: bool = False,
            hand_on: Callable[[DeliveryOutcome, str, int], None] | None = None) -> Result:
    """Claim, send, record. `last_try`: a failure now parks the event (the queue gives up on it).
    `hand_on(outcome, error, attempts)`: run on a failure before it is recorded (a try from the stream
    puts its retries on the queue first: a failure recorded is one the queue holds)."""
    lease = now + timedelta(seconds=sender.timeout_s() + 10)
    claim = state_store.claim(event.gln_coll, event.loan_id, event.event_id, iso(now), iso(lease), event.kind)
    if claim.outcome is state_store.ClaimOutcome.DELIVERED:
        return Result(DeliveryOutcome.ALREADY, claim.attempts)
    if claim.outcome is state_store.ClaimOutcome.BUSY:
        return Result(DeliveryOutcome.IN_FLIGHT, claim.attempts)
    if claim.outcome is state_store.ClaimOutcome.UNKNOWN:
        return Result(DeliveryOutcome.REFUSED, 0, "no returned loan with this event")
    log = {"eventId": event.event_id, "attempt": claim.attempts}

    def fail(error: str, outcome: DeliveryOutcome, http_status: int | None = None) -> Result:
        parked = outcome is DeliveryOutcome.REFUSED or last_try
        status = state_store.DeliveryState.PARKED if parked else state_store.DeliveryState.RETRYING
        if hand_on is not None:
            hand_on(outcome, error, claim.attempts)
        state_store.failed(event.gln_coll, event.loan_id, event.event_id, error, status, http_status, event.kind)
        logger.warning("callback not delivered", extra={**log, "error": error, "parked": parked})
        return Result(outcome, claim.attempts, error)

    secret = callback_secret(event.gln_coll)
    if not secret:
        return fail("the collectivity has no callback secret", DeliveryOutcome.REFUSED)
    try:
        target = guard.check(event.url)
    except guard.UnsafeUrl as e:
        return fail(f"callback URL refused: {e}", DeliveryOutcome.REFUSED)
    except guard.ResolveFailed as e:
        return fail(str(e), DeliveryOutcome.RETRY)
    body = event.body()
    answer = sender.post(target, body, {"X-Event-Id": event.event_id, "X-Event-Type": event.kind,
                                        "X-Signature": signing.sign(secret, body),
                                        "X-Delivery-Attempt": str(claim.attempts)})
    if not answer.ok:
        return fail(answer.error or "no answer", DeliveryOutcome.RETRY, answer.status)
    state_store.delivered(event.gln_coll, event.loan_id, event.event_id, iso(hub_clock.now()),
                          answer.status or 200, event.kind)
    # No line of its own at the deployed level: the delivery is recorded on its subject (attempts, time,
    # status: store.callbacks.state) and counted (callbacks.delivered); failures are warnings.
    logger.debug("callback delivered", extra={**log, "host": target.host, "status": answer.status})
    return Result(DeliveryOutcome.DELIVERED, claim.attempts)


def claim_after_s() -> float:
    """A stream record older than this may have a copy on the queue (the sweeper enqueues returns left
    with no delivery state after `outbox.returns_grace_s`, twice this): its try is claimed as any copy's."""
    return float(os.environ.get("CALLBACK_RETURNS_GRACE_S", "300")) / 2


def first_try(event: events.CallbackEvent, now: datetime, age_s: float = 0.0) -> Result:
    """A returned loan's first try, handed over by the table's stream (its return's write is the event:
    no queue, no claim). The state is read first (one consistent read): a retried stream batch finds
    the try it already made recorded and makes no other (an acknowledged event is never sent again).
    Two copies cannot send at once: the stream hands a shard's records over one batch at a time, and a
    copy on the queue exists only once this try has failed. A success is the one write; a failure goes
    to the queue for the retries (first), then is recorded: a crash between the two makes the stream
    try again, and the second copy on the queue is claimed as any other (sent once at a time)."""
    current = state_store.state(event.gln_coll, event.loan_id)
    if current is None or current.event_id != event.event_id:
        return Result(DeliveryOutcome.REFUSED, 0, "no returned loan with this event")
    if current.status is not None:  # a try was recorded: a retried batch; the queue has it if it failed
        return Result(DeliveryOutcome.ALREADY if current.delivered_at else DeliveryOutcome.IN_FLIGHT,
                      current.attempts)
    last = queues.redrive().max_receives <= 1

    def hand_on(outcome: DeliveryOutcome, error: str, attempts: int) -> None:
        if outcome is DeliveryOutcome.REFUSED or last:
            queues.park(event.message(), error, event.event_id)
        else:
            queues.send_later(queues.queue_url(), event.event_id, event.message(), delay_after(attempts),
                              prior_tries=attempts)

    if age_s > claim_after_s():  # late (the event source retried for long): claimed as any copy, then sent
        return deliver(event, now, last_try=last, hand_on=hand_on)
    log = {"eventId": event.event_id, "attempt": 1}

    def fail(error: str, outcome: DeliveryOutcome, http_status: int | None = None) -> Result:
        parked = outcome is DeliveryOutcome.REFUSED or last
        status = state_store.DeliveryState.PARKED if parked else state_store.DeliveryState.RETRYING
        hand_on(outcome, error, 1)  # on the queue (or parked) first: a failure recorded is one it holds
        fields: dict[str, Any] = {"callbackStatus": status.value, "callbackLastError": error[:500]}
        if http_status is not None:
            fields["callbackLastStatus"] = http_status
        state_store.first_outcome(event.gln_coll, event.loan_id, event.event_id, iso(now), fields)
        logger.warning("callback not delivered", extra={**log, "error": error,
                                                        "parked": status is state_store.DeliveryState.PARKED})
        return Result(outcome, 1, error)

    secret = callback_secret(event.gln_coll)
    if not secret:
        return fail("the collectivity has no callback secret", DeliveryOutcome.REFUSED)
    try:
        target = guard.check(event.url)
    except guard.UnsafeUrl as e:
        return fail(f"callback URL refused: {e}", DeliveryOutcome.REFUSED)
    except guard.ResolveFailed as e:
        return fail(str(e), DeliveryOutcome.RETRY)
    body = event.body()
    answer = sender.post(target, body, {"X-Event-Id": event.event_id, "X-Event-Type": event.kind,
                                        "X-Signature": signing.sign(secret, body), "X-Delivery-Attempt": "1"})
    if not answer.ok:
        return fail(answer.error or "no answer", DeliveryOutcome.RETRY, answer.status)
    state_store.first_delivered(event.gln_coll, event.loan_id, event.event_id, iso(hub_clock.now()),
                                answer.status or 200)
    logger.debug("callback delivered", extra={**log, "host": target.host, "status": answer.status})
    return Result(DeliveryOutcome.DELIVERED, 1)


def handle_stream_record(record: Mapping[str, Any], clock: Clock = hub_clock.now) -> DeliveryOutcome:
    """A record of the table's stream (a loan's ACTIVE -> RETURNED change carrying its event: the event
    source's filter): its first try. Raises only when the try could not be handed on (the queue or the
    table unreachable): the record is then retried by the event source."""
    from ..store.table import de

    item = de((record.get("dynamodb") or {}).get("NewImage")) or {}
    try:
        event = events.from_outbox(item)
    except events.Poison as e:
        logger.error("returned loan's event unusable", extra={"loanId": item.get("loanId"), "reason": str(e)})
        count("callbacks.poison")
        return DeliveryOutcome.REFUSED
    now = clock()
    written = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    age = now.timestamp() - float(written) if isinstance(written, int | float | Decimal) else float("inf")
    result = first_try(event, now, age)
    count(f"callbacks.{result.outcome.value}")
    return result.outcome


class RetryLater(Exception):
    """Raised for the batch processor: the message stays on the queue (partial batch failure)."""


def handle_record(record: Mapping[str, Any], clock: Clock = hub_clock.now) -> DeliveryOutcome:
    """The BatchProcessor's record handler: returns when the message may be deleted, raises to keep it."""
    body = str(record.get("body") or "")
    # the tries made before the message (a first try from the stream) count with its receives
    attr = (record.get("messageAttributes") or {}).get("priorTries") or {}
    prior = int(attr.get("stringValue") or attr.get("StringValue") or 0)  # Lambda's event, or SQS's own shape
    receives = int((record.get("attributes") or {}).get("ApproximateReceiveCount", "1")) + prior
    try:
        event = events.from_message(body)
    except events.Poison as e:
        logger.error("poison callback message parked", extra={"messageId": record.get("messageId"),
                                                              "reason": str(e)})
        queues.park(body, f"poison: {e}")
        count("callbacks.poison")
        return DeliveryOutcome.REFUSED
    max_receives = queues.redrive().max_receives
    result = deliver(event, clock(), last_try=receives >= max_receives)
    count(f"callbacks.{result.outcome.value}")
    if result.outcome is DeliveryOutcome.REFUSED:
        queues.park(body, result.error or "refused", event.event_id)
    elif result.outcome is DeliveryOutcome.RETRY:
        # The last try's message goes back at once: SQS then moves it to the dead-letter queue.
        delay = 0 if receives >= max_receives else delay_after(receives)
        if receives >= max_receives:
            count("callbacks.dead_lettered")
            if prior:  # the queue counts only its own receives: the message is parked here, and deleted
                queues.park(body, result.error or "last try failed", event.event_id)
                return result.outcome
        queues.retry_in(str(record["receiptHandle"]), delay)
        raise RetryLater(f"{event.event_id}: {result.error}")
    return result.outcome
