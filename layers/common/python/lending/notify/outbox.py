"""Outbox -> SQS. An event leaves the pending index only after SQS accepted it, so whichever of the
two paths runs (right after the return, or the sweeper later) nothing is lost; an event enqueued
twice is harmless (the delivery claims it on the loan, and never sends an acknowledged one again)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ..domain.dates import iso
from ..observability import logger
from ..store import outbox as outbox_store
from . import events, queues

BATCH = 10


def sweep_grace_s() -> float:
    """Events younger than this are left to the enqueue right after their return (still in flight)."""
    return float(os.environ.get("CALLBACK_SWEEP_GRACE_S", "30"))


def enqueue(items: Iterable[dict[str, Any]], now: datetime) -> int:
    """Send outbox items to the callback queue; returns how many SQS accepted. An outbox item is marked
    enqueued then; a loan carrying its own event is not: its first delivery claim takes it out of the
    pending index (store.callbacks.claim), one write less per returned loan. Until then a sweep may send
    it again: two copies of a message are harmless (the claim lets one send, and never after a 2xx)."""
    sent = 0
    batch: dict[str, str] = {}
    marked: set[str] = set()  # event ids whose item is an outbox item, marked once SQS has them
    for item in items:
        try:
            event = events.from_outbox(item)
        except events.Poison as e:
            # Cannot happen with items written by return_early. It leaves the pending index (a sweep must
            # not stop on it every minute) but stays in the table for a person to look at.
            logger.error("outbox event unusable", extra={"eventId": item.get("eventId"), "reason": str(e)})
            outbox_store.mark_enqueued(str(item.get("eventId", "")), iso(now), "unusable",
                                       key=None if item.get("type") == "outbox" else (item["pk"], item["sk"]))
            continue
        batch[event.event_id] = event.message()
        if item.get("type") == "outbox":
            marked.add(event.event_id)
        if len(batch) == BATCH:
            sent += _send(batch, marked, now)
            batch = {}
    if batch:
        sent += _send(batch, marked, now)
    return sent


def _send(batch: dict[str, str], marked: set[str], now: datetime) -> int:
    accepted = queues.send_batch(queues.queue_url(), batch)
    for event_id, message_id in accepted.items():
        if event_id in marked:
            outbox_store.mark_enqueued(event_id, iso(now), message_id)
    if len(accepted) < len(batch):
        logger.warning("events not accepted by SQS, left for the sweeper",
                       extra={"count": len(batch) - len(accepted)})
    return len(accepted)


def enqueue_now(item: dict[str, Any], now: datetime) -> bool:
    """Right after the return's transaction: best effort, never raises (the sweeper is the guarantee)."""
    try:
        return enqueue([item], now) == 1
    except Exception:
        logger.warning("immediate enqueue failed, left for the sweeper",
                       extra={"eventId": item.get("eventId")}, exc_info=True)
        return False


def sweep(now: datetime, limit: int = 1000) -> int:
    """The scheduled job: every pending event older than the grace period goes to the queue."""
    cutoff = iso(now - timedelta(seconds=sweep_grace_s()))
    # gsi2sk is "<createdAt>#<eventId>": everything created strictly before the cutoff second, plus that
    # second itself when the grace is zero (the "~" sorts after every event id).
    before = cutoff + "~" if sweep_grace_s() <= 0 else cutoff
    return enqueue(outbox_store.pending(before, limit), now)


def returns_grace_s() -> float:
    """A return's event is handed to the delivery by the table's stream within seconds; one with no
    delivery state this long after its return was not (the stream's retries given up): enqueued here."""
    return float(os.environ.get("CALLBACK_RETURNS_GRACE_S", "300"))


RETURNS_WINDOW = timedelta(minutes=2)  # each run looks at two minutes of returns: every return twice


def sweep_returns(now: datetime) -> int:
    """The scheduled job's look at recent returns (every minute, over the two minutes of returns that
    passed the grace, by whole minutes: each return is read back twice, so a run missed now and then
    misses none): a returned loan carrying its event with no delivery state goes to the queue. The
    stream's late try is claimed (notify.delivery.first_try), so it and this copy never send at once."""
    until = (now - timedelta(seconds=returns_grace_s())).replace(second=0, microsecond=0)
    items = outbox_store.returns_without_delivery(iso(until - RETURNS_WINDOW), iso(until))
    return enqueue(items, now) if items else 0
