"""Early-return callbacks on the local stack over HTTP, with a real listener started by the test: the
return's write handed to the delivery by the table's stream (the local stack's stream poller, as Lambda's
event source does deployed), retried through the queue after a 503, signed with the collectivity's
secret, acknowledged exactly once; and an event the stream gave up on still goes out, through the
sweeper."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from lending.local import demo
from lending.local.receiver import Receiver
from lending.notify import events, queues
from lending.notify import outbox as notify_outbox
from lending.notify.signing import verify
from lending.store import callbacks as delivery_store
from tests.helpers import line, loan_body, order_body, stored_events

pytestmark = pytest.mark.e2e
_ids = itertools.count(1)


def call(stack: Any, service: str, body: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(f"{stack.url}/v2/pnb-numerique/{service}", data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return dict(json.loads(response.read()))


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Wait (without a fixed sleep) until `check()` is truthy; its last value otherwise."""
    deadline, pause = time.monotonic() + timeout, threading.Event()
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        pause.wait(0.05)


def lend(stack: Any, callback_url: str) -> tuple[str, str]:
    answer = call(stack, "sendOrder", order_body(line()))
    assert answer["returnStatus"] == "OK", answer
    line_id = answer["orderResponseLine"][0]["orderLineId"]
    loan_id = f"CBE{next(_ids)}{int(time.time() * 1000) % 10**9}"
    answer = call(stack, "loanBook", loan_body(line_id, loan_id, callbackUrl=callback_url))
    assert answer["returnStatus"] == "OK", answer
    return line_id, loan_id


def end_loan(stack: Any, line_id: str, loan_id: str) -> None:
    answer = call(stack, "endLoan", {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor":
                                     demo.DISTRIBUTOR_PASSWORD, "orderLineId": line_id, "loanId": loan_id})
    assert answer["returnStatus"] == "OK", answer


def delivery_status(loan_id: str) -> str | None:
    state = delivery_store.state(demo.COLL, loan_id)
    return state.status if state else None


def queue_empty() -> bool:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    got = queues.client().get_queue_attributes(QueueUrl=queues.queue_url(), AttributeNames=names)
    attrs = got["Attributes"]
    return all(attrs[n] == "0" for n in names)


def test_503_then_retry_then_exactly_one_signed_acknowledged_delivery(
        stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBACK_RETRY_DELAYS", "1")
    with Receiver(secret=demo.COLL_CALLBACK_SECRET, answers=[503]) as rx:
        line_id, loan_id = lend(stack, f"{rx.url}/returns?library=central")
        end_loan(stack, line_id, loan_id)
        got = rx.wait_for(lambda r: any(x.answered == 200 for x in r), timeout=15)
        assert [x.answered for x in got] == [503, 200]
        first, second = got
        # The same event, byte for byte, signed with the demo collectivity's secret.
        assert first.headers["x-event-id"] == second.headers["x-event-id"]
        assert first.body == second.body
        assert second.signed and verify(demo.COLL_CALLBACK_SECRET, second.body, second.headers["x-signature"])
        assert second.headers["x-signature"].startswith("sha256=")
        assert second.path == "/returns?library=central"
        assert second.at - first.at >= 0.8  # the retry waited its delay (1 s, +-10%)
        payload = second.json()
        assert set(payload) == {"event", "loanId", "orderLineId", "ean13", "returnDate"}
        assert (payload["event"], payload["loanId"], payload["orderLineId"], payload["ean13"]) == (
            "loan.returned", loan_id, line_id, "9791000000015")
        # Delivery state on the loan (recorded once the answer is in); nothing left to send.
        assert eventually(queue_empty)
        state = delivery_store.state(demo.COLL, loan_id)
        assert state is not None
        assert (state.status, state.attempts, state.last_error) == ("DELIVERED", 2, "HTTP 503")
        assert state.event_id == second.headers["x-event-id"] and state.delivered_at
        assert eventually(queue_empty)
        # A duplicate copy of the message (SQS delivers at least once) is not sent again.
        event_id = state.event_id
        (stored,) = stored_events(loan_id)
        item = stored["item"]  # the loan carries its event; its first claim took it out of the pending index
        assert stored["eventId"] == event_id and "gsi2pk" not in item and item["callbackEventId"] == event_id
        notify_outbox.enqueue([item], datetime.now(UTC))
        assert eventually(queue_empty)
        assert len(rx.acknowledged()) == 1 and len(rx.received) == 2


def _stream_given_up(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The delivery function fails on every record of the table's stream (the queue unreachable, say):
    the event source retries, then gives the records up. Returns the event ids it was handed."""
    from lending.notify import delivery

    handed: list[str] = []

    def unreachable(event: events.CallbackEvent, now: datetime, age_s: float = 0.0) -> delivery.Result:
        handed.append(event.event_id)
        raise ConnectionError("SQS unreachable")

    monkeypatch.setattr(delivery, "first_try", unreachable)
    return handed


def test_a_return_the_stream_gave_up_on_is_covered_by_the_sweeper(
        stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The return's write is the event and the local stack hands it over from the table's stream, as
    deployed. Here every hand-over fails until the event source gives the record up (its retries spent):
    the loan still carries the event with no delivery state, and the sweeper's look at recent returns
    sends it, once."""
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        line_id, loan_id = lend(stack, f"{rx.url}/returns")
        handed = _stream_given_up(monkeypatch)
        end_loan(stack, line_id, loan_id)
        (retries,) = {r for _, _, r in stack.functions["CallbackDeliveryFunction"].streams}
        assert eventually(lambda: len(handed) >= retries + 1, timeout=20), handed
        monkeypatch.undo()
        assert rx.received == [] and delivery_status(loan_id) is None
        (stored,) = stored_events(loan_id)
        assert set(handed) == {stored["eventId"]}
        # The grace moved past the return (deployed: 5 minutes after it, by whole minutes).
        monkeypatch.setenv("CALLBACK_RETURNS_GRACE_S", "-60")
        assert stack.run_schedule("OutboxSweeperFunction")["enqueued"] >= 1
        got = rx.wait_for(lambda r: len(r) >= 1)
        assert len(got) == 1 and got[0].signed and got[0].json()["loanId"] == loan_id
        assert got[0].headers["x-event-id"] == stored["eventId"]
        assert eventually(lambda: delivery_status(loan_id) == "DELIVERED")
        assert eventually(queue_empty)
        assert stack.run_schedule("OutboxSweeperFunction")["enqueued"] == 0


def test_a_slow_receiver_never_slows_a_return(stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Delivery is asynchronous: while the callback function is stuck on a receiver that has not
    answered, a loan and a return still complete. Proven by order of events, not by a stopwatch."""
    monkeypatch.setenv("CALLBACK_TIMEOUT_S", "40")
    release = threading.Event()
    with Receiver(secret=demo.COLL_CALLBACK_SECRET, hold=release) as rx:
        try:
            first = lend(stack, f"{rx.url}/slow")
            second = lend(stack, f"{rx.url}/slow")
            end_loan(stack, *first)
            assert eventually(lambda: rx.arrived >= 1, timeout=10)  # the first send is under way, and held
            end_loan(stack, *second)
            third = lend(stack, f"{rx.url}/slow")
            assert rx.received == []  # both answered while the receiver still hangs on the first callback
        finally:
            release.set()
        got = rx.wait_for(lambda r: len(r) >= 2, timeout=15)
        assert sorted(r.json()["loanId"] for r in got) == sorted([first[1], second[1]])
        assert all(r.signed for r in got)
        assert third[1] not in {r.json()["loanId"] for r in got}


def test_copies_of_one_event_in_one_batch_are_sent_once(stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's records are sent side by side; copies of one event race for the claim on the loan
    (a conditional write) and only one of them is sent."""
    with Receiver(secret=demo.COLL_CALLBACK_SECRET, delay_s=0.3) as rx:
        line_id, loan_id = lend(stack, f"{rx.url}/returns")
        handed = _stream_given_up(monkeypatch)  # the stream's own try kept out of the way
        end_loan(stack, line_id, loan_id)
        (retries,) = {r for _, _, r in stack.functions["CallbackDeliveryFunction"].streams}
        assert eventually(lambda: len(handed) >= retries + 1, timeout=20), handed
        monkeypatch.undo()
        (stored,) = stored_events(loan_id)
        message = events.from_outbox(stored["item"]).message()
        queues.client().send_message_batch(QueueUrl=queues.queue_url(), Entries=[
            {"Id": str(n), "MessageBody": message} for n in range(4)])
        assert eventually(queue_empty)
        assert len(rx.wait_for(lambda r: len(r) >= 1)) == 1
        state = delivery_store.state(demo.COLL, loan_id)
        assert state is not None and (state.status, state.attempts) == ("DELIVERED", 1)
