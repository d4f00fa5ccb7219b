"""Early-return callbacks on emulated AWS, the delivery function invoked as Lambda's SQS poller does
(batches, partial failures left on the queue): retries with growing delays, the dead-letter queue after
the last try, redrive, poison messages, SSRF refusal, duplicates, and a crash before the enqueue."""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient

from lending.local import demo, functions, streams, template
from lending.local.receiver import Receiver
from lending.notify import delivery, events, outbox, queues, redrive
from lending.store import callbacks as delivery_store
from lending.store import outbox as outbox_store
from tests.helpers import line, loan_body, order_ok, pnb

pytestmark = pytest.mark.usefixtures("aws")
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CALLBACK_RETRY_DELAYS", "0")
    monkeypatch.setenv("HUB_LOCAL", "1")  # the listeners of these tests are on loopback
    # The records of a batch are handled side by side; in-process moto is not atomic under threads, so
    # its calls go one at a time, as behind the local stack's emulator lock: a conditional write here
    # is as atomic as DynamoDB's, and the tests prove our conditions, not moto's luck.
    lock, real = threading.Lock(), BaseClient._make_api_call

    def one_at_a_time(self: Any, *args: Any, **kw: Any) -> Any:
        with lock:
            return real(self, *args, **kw)

    monkeypatch.setattr(BaseClient, "_make_api_call", one_at_a_time)
    delivery.forget()
    yield


DISTRIBUTOR = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}


def returned_loan(callback_url: str) -> tuple[str, str]:
    """A PNB loan with a callbackUrl, ended early by the distributor: (orderLineId, loanId)."""
    (line_id,) = order_ok(line())
    loan_id = f"CBI{next(_ids)}"
    assert pnb("loanBook", loan_body(line_id, loan_id, callbackUrl=callback_url))["returnStatus"] == "OK"
    answer = pnb("endLoan", {**DISTRIBUTOR, "orderLineId": line_id, "loanId": loan_id})
    assert answer["returnStatus"] == "OK", answer
    return line_id, loan_id


def _record(m: dict[str, Any]) -> dict[str, Any]:
    return {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs", "awsRegion": "eu-west-3",
            "eventSourceARN": "arn:aws:sqs:eu-west-3:123456789012:lending-local-callbackqueue"}


def drain(max_rounds: int = 50) -> int:
    """Invoke the delivery function on the returns the table's stream shows (one invocation here), then
    on whatever the queue shows, until it shows nothing: returns the number of invocations."""
    fn = template.functions(template.load())["CallbackDeliveryFunction"]
    streamed = 1 if streams.deliver(fn) else 0  # first tries: the returns' writes, from the table's stream
    sqs, url = queues.client(), queues.queue_url()
    for rounds in range(streamed, max_rounds + streamed):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                  AttributeNames=["All"], MessageAttributeNames=["All"])
        messages = got.get("Messages", [])
        if not messages:
            return rounds
        result = functions.invoke(fn, {"Records": [_record(m) for m in messages]})
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return max_rounds + streamed


def parked() -> list[dict[str, Any]]:
    """Everything in the dead-letter queue (left there: received with a zero visibility)."""
    dlq = queues.redrive().dead_letter_url
    assert dlq
    got = queues.client().receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                          VisibilityTimeout=0, MessageAttributeNames=["All"])
    return list(got.get("Messages", []))


def test_failing_receiver_is_retried_with_growing_delays_then_parked_then_redriven_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBACK_RETRY_DELAYS", "1,2,3")
    asked: list[int] = []
    real_retry_in = queues.retry_in

    def retry_in(receipt: str, seconds: int) -> None:
        asked.append(seconds)
        real_retry_in(receipt, 0)  # the test does not wait for the delays themselves

    real_send_later = queues.send_later

    def send_later(url: str, event_id: str, body: str, seconds: int, prior_tries: int) -> str:
        asked.append(seconds)
        return real_send_later(url, event_id, body, 0, prior_tries)

    monkeypatch.setattr(queues, "retry_in", retry_in)
    monkeypatch.setattr(queues, "send_later", send_later)
    with Receiver(secret=demo.COLL_CALLBACK_SECRET, answers=[503] * 6) as rx:
        _, loan_id = returned_loan(f"{rx.url}/cb")
        drain()
        # Six tries (the queue's maxReceiveCount): the first from the table's stream, handed to the queue
        # when it failed, each later than the last, then the dead-letter queue (the sixth parks it).
        assert [r.answered for r in rx.received] == [503] * 6
        assert asked == [1, 2, 3, 3, 3]
        assert [r.headers["x-delivery-attempt"] for r in rx.received] == ["1", "2", "3", "4", "5", "6"]
        assert len({r.headers["x-event-id"] for r in rx.received}) == 1
        state = delivery_store.state(demo.COLL, loan_id)
        assert state is not None
        assert (state.status, state.attempts, state.last_error) == ("PARKED", 6, "HTTP 503")
        assert state.delivered_at is None
        dead = parked()
        assert len(dead) == 1 and events.from_message(dead[0]["Body"]).loan_id == loan_id
        # Redrive: back on the queue, acknowledged this time, and the dead-letter queue is empty.
        assert redrive.redrive(queues.queue_url()) == redrive.Report(moved=1, kept=0)
        drain()
        assert [r.answered for r in rx.received] == [503] * 6 + [200]
        state = delivery_store.state(demo.COLL, loan_id)
        assert state is not None and (state.status, state.attempts) == ("DELIVERED", 7)
        assert parked() == []
        assert redrive.redrive(queues.queue_url()) == redrive.Report(moved=0, kept=0)


def test_acknowledged_event_is_never_sent_again() -> None:
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        _, loan_id = returned_loan(f"{rx.url}/cb")
        (item,) = [x for x in outbox_scan() if events.from_outbox(x).loan_id == loan_id]
        # Two more copies of the message (SQS is at-least-once, the sweeper may enqueue it again).
        outbox.enqueue([item, item], datetime.now(UTC))
        drain()
        assert len(rx.received) == 1 and rx.received[0].signed
        # A copy redriven from the dead-letter queue after the acknowledgement changes nothing either.
        queues.park(events.from_outbox(item).message(), "test")
        assert redrive.redrive(queues.queue_url()).moved == 1
        drain()
        assert len(rx.received) == 1
        state = delivery_store.state(demo.COLL, loan_id)
        assert state is not None and (state.status, state.attempts) == ("DELIVERED", 1)


def outbox_scan() -> list[dict[str, Any]]:
    """Every stored event: outbox items, and returned loans carrying their own (store.loans.end)."""
    from lending.store import table

    out = table.client().scan(TableName=table.table_name(),
                              FilterExpression="#t = :t OR (#t = :l AND attribute_exists(callbackEventId) "
                                               "AND attribute_exists(callbackUrl))",
                              ExpressionAttributeNames={"#t": "type"},
                              ExpressionAttributeValues={":t": {"S": "outbox"}, ":l": {"S": "loan"}})
    return [table.de(x) or {} for x in out["Items"]]


def test_poison_messages_are_parked_at_once_and_stay_parked() -> None:
    bodies = ["not json", json.dumps({"eventId": "e1"}),
              json.dumps({"eventId": "e2", "glnColl": demo.COLL, "loanId": "L", "url": "http://127.0.0.1/",
                          "payload": {"event": "loan.deleted", "loanId": "L"}})]
    for body in bodies:
        queues.client().send_message(QueueUrl=queues.queue_url(), MessageBody=body)
    assert drain() == 1  # one invocation: none of them came back for another try
    dead = parked()
    assert sorted(m["Body"] for m in dead) == sorted(bodies)
    assert all(m["MessageAttributes"]["parkReason"]["StringValue"].startswith("poison") for m in dead)
    assert redrive.redrive(queues.queue_url()) == redrive.Report(moved=0, kept=3)


def test_unknown_loan_is_parked_not_retried() -> None:
    event = events.CallbackEvent("e-unknown", demo.COLL, "NOSUCHLOAN", "http://127.0.0.1:9/",
                                 {"event": "loan.returned", "loanId": "NOSUCHLOAN", "orderLineId": "1",
                                  "ean13": "9791000000015", "returnDate": "2026-01-01T00:00:00Z"})
    queues.client().send_message(QueueUrl=queues.queue_url(), MessageBody=event.message())
    assert drain() == 1
    (dead,) = parked()
    assert dead["MessageAttributes"]["parkReason"]["StringValue"] == "no returned loan with this event"


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254", "10.1.2.3", "localhost", "[::1]"])
def test_ssrf_private_loopback_link_local_urls_are_refused_when_deployed(monkeypatch: pytest.MonkeyPatch,
                                                                         host: str) -> None:
    monkeypatch.delenv("HUB_LOCAL")
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        port = rx.url.rsplit(":", 1)[1]
        _, loan_id = returned_loan(f"https://{host}:{port}/cb")
        assert drain() == 1
        assert rx.received == []  # nothing was sent, not even to our own loopback listener
    (dead,) = parked()
    assert "refused" in dead["MessageAttributes"]["parkReason"]["StringValue"]
    state = delivery_store.state(demo.COLL, loan_id)
    assert state is not None and state.status == "PARKED"
    assert state.last_error is not None and "private, loopback or link-local" in state.last_error


def test_timeout_and_refused_connection_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBACK_TIMEOUT_S", "0.2")
    monkeypatch.setenv("CALLBACK_RETRY_DELAYS", "60")  # the retries stay hidden: one try each here
    with Receiver(secret=demo.COLL_CALLBACK_SECRET, delay_s=1.0) as slow:
        _, slow_loan = returned_loan(f"{slow.url}/cb")
        assert drain(max_rounds=1) == 1
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    _, refused_loan = returned_loan(f"http://127.0.0.1:{closed}/cb")
    assert drain(max_rounds=1) == 1
    slow_state = delivery_store.state(demo.COLL, slow_loan)
    refused_state = delivery_store.state(demo.COLL, refused_loan)
    assert slow_state is not None and slow_state.status == "RETRYING" and slow_state.last_error
    assert "timeout" in slow_state.last_error.lower()
    assert refused_state is not None and refused_state.status == "RETRYING" and refused_state.last_error
    assert "refused" in refused_state.last_error.lower()


def _stream_batch() -> dict[str, Any]:
    """The returns the table's stream holds, as Lambda hands them to the delivery function."""
    from lending.store import table

    fn = template.functions(template.load())["CallbackDeliveryFunction"]
    ((_, patterns, _),) = fn.streams
    return {"Records": streams.StreamSource(table.table_name(), patterns, start="TRIM_HORIZON").poll()}


def test_a_first_try_that_cannot_reach_the_queue_is_retried_by_the_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """The return's write is the event: the stream hands it to the function. The receiver fails and the
    queue is unreachable: the record is reported failed (the event source hands it over again), and no
    failure is recorded. Handed over again, the try is made again, put on the queue, then delivered."""
    fn = template.functions(template.load())["CallbackDeliveryFunction"]

    def sqs_down(*args: Any, **kw: Any) -> Any:
        raise ConnectionError("SQS unreachable")

    with Receiver(secret=demo.COLL_CALLBACK_SECRET, answers=[503, 503]) as rx:
        _, loan_id = returned_loan(f"{rx.url}/cb")  # the return itself succeeds: no queue on its way
        batch = _stream_batch()
        (record,) = batch["Records"]
        assert record["eventName"] == "MODIFY" and record["dynamodb"]["NewImage"]["loanId"]["S"] == loan_id
        monkeypatch.setattr(queues, "send_later", sqs_down)
        result = functions.invoke(fn, batch)
        assert result == {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        state = delivery_store.state(demo.COLL, loan_id)
        assert state is not None and state.status is None  # nothing recorded: the stream still has it
        monkeypatch.undo()
        monkeypatch.setenv("HUB_LOCAL", "1")
        monkeypatch.setenv("CALLBACK_RETRY_DELAYS", "0")
        assert functions.invoke(fn, batch) == {"batchItemFailures": []}
        state = delivery_store.state(demo.COLL, loan_id)
        assert state is not None and (state.status, state.attempts) == ("RETRYING", 1)
        assert functions.invoke(fn, batch) == {"batchItemFailures": []}  # handed over once more: no try
        assert [r.answered for r in rx.received] == [503, 503]
        assert drain(max_rounds=5) >= 1
        assert [r.answered for r in rx.received] == [503, 503, 200]
        assert [r.headers["x-delivery-attempt"] for r in rx.received] == ["1", "1", "2"]
        assert len({r.headers["x-event-id"] for r in rx.received}) == 1
        state = delivery_store.state(demo.COLL, loan_id)
        assert state is not None and (state.status, state.attempts) == ("DELIVERED", 2)


def test_a_return_the_stream_never_handed_over_is_enqueued_by_the_sweeper() -> None:
    """The safety net: a return with no delivery state past the grace (the stream's retries given up)
    goes to the queue; before the grace it is left to the stream. The copy on the queue and a late try
    from the stream never send twice once acknowledged."""
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        _, loan_id = returned_loan(f"{rx.url}/cb")
        now = datetime.now(UTC)
        assert outbox.sweep_returns(now) == 0  # within the grace: the stream's
        later = now + timedelta(seconds=outbox.returns_grace_s() + 60)
        assert outbox.sweep_returns(later) == 1
        assert outbox.sweep_returns(later + timedelta(minutes=1)) == 1  # each return is looked at twice
        assert outbox.sweep_returns(later + timedelta(minutes=2)) == 0
        # The stream's try comes late (its record older than the grace): claimed like the queue's copies.
        batch = _stream_batch()
        for r in batch["Records"]:
            r["dynamodb"]["ApproximateCreationDateTime"] = now.timestamp() - 3600
        fn = template.functions(template.load())["CallbackDeliveryFunction"]
        assert functions.invoke(fn, batch) == {"batchItemFailures": []}
        assert drain() >= 1
        assert [r.answered for r in rx.received] == [200]  # two copies on the queue, sent once
        state = delivery_store.state(demo.COLL, loan_id)
        assert state is not None and (state.status, state.attempts) == ("DELIVERED", 1)
        assert outbox.sweep_returns(later) == 0  # delivered: nothing left to enqueue


def test_claims_keep_one_sender_at_a_time() -> None:
    _, loan_id = returned_loan("http://127.0.0.1:9/cb")
    (item,) = [x for x in outbox_scan() if events.from_outbox(x).loan_id == loan_id]
    event_id = events.from_outbox(item).event_id
    now = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

    def at(seconds: int) -> str:
        return (now + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    first = delivery_store.claim(demo.COLL, loan_id, event_id, at(0), at(15))
    assert (first.outcome, first.attempts) == (delivery_store.ClaimOutcome.CLAIMED, 1)
    assert delivery_store.claim(demo.COLL, loan_id, event_id, at(5), at(20)).outcome == "busy"
    assert delivery_store.claim(demo.COLL, loan_id, "another-event", at(30), at(45)).outcome == "unknown"
    assert delivery_store.claim(demo.COLL, "NOSUCHLOAN", event_id, at(30), at(45)).outcome == "unknown"
    # The lease of a sender that died runs out: the next copy may send.
    second = delivery_store.claim(demo.COLL, loan_id, event_id, at(16), at(31))
    assert (second.outcome, second.attempts) == (delivery_store.ClaimOutcome.CLAIMED, 2)
    assert delivery_store.delivered(demo.COLL, loan_id, event_id, at(17), 204)
    assert not delivery_store.delivered(demo.COLL, loan_id, event_id, at(18), 200)
    assert delivery_store.claim(demo.COLL, loan_id, event_id, at(60), at(75)).outcome == "delivered"
    state = delivery_store.state(demo.COLL, loan_id)
    assert state is not None
    assert (state.status, state.attempts, state.delivered_at) == ("DELIVERED", 2, at(17))


def test_loans_without_callback_url_write_no_event() -> None:
    """endLoan writes the return without reading the loan, so with an event id whether or not the loan has
    a callbackUrl (store.loans.return_in_line): without one the id is inert. The stream's filter hands
    nothing to the delivery, the sweeper enqueues nothing past its grace, nothing is sent."""
    from lending.store import loans as loan_store
    from lending.store import table

    (line_id,) = order_ok(line())
    assert pnb("loanBook", loan_body(line_id, "NOCB1"))["returnStatus"] == "OK"
    assert pnb("endLoan", {**DISTRIBUTOR, "orderLineId": line_id, "loanId": "NOCB1"})["returnStatus"] == "OK"
    item = table.get(*loan_store.loan_key(demo.COLL, "NOCB1"))
    assert item is not None and item["state"] == "RETURNED" and "callbackUrl" not in item
    assert outbox_scan() == [] and drain() == 0
    later = datetime.now(UTC) + timedelta(seconds=outbox.returns_grace_s() + 60)
    assert outbox.sweep_returns(later) == 0
    assert queues.client().receive_message(QueueUrl=queues.queue_url(), WaitTimeSeconds=0).get("Messages", []) == []


def test_pinned_connection_goes_to_the_checked_address() -> None:
    """The URL's host is only a name on the wire (Host header, TLS name): the socket goes to the address
    the guard checked, so a second DNS answer can't redirect it (rebinding)."""
    from lending.notify import guard, sender

    with Receiver() as rx:
        port = int(rx.url.rsplit(":", 1)[1])
        target = guard.Target("http", "callbacks.invalid", port, "/x?y=1", "127.0.0.1")
        answer = sender.post(target, b"{}", {"X-Event-Id": "e"}, timeout=2)
        assert answer.ok and answer.status == 200
        (got,) = rx.received
        assert got.headers["host"] == f"callbacks.invalid:{port}" and got.path == "/x?y=1"


def test_one_batch_reports_only_its_failed_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBACK_RETRY_DELAYS", "60")
    with Receiver(secret=demo.COLL_CALLBACK_SECRET, answers=[503] * 10) as down, \
            Receiver(secret=demo.COLL_CALLBACK_SECRET) as up:
        _, failing = returned_loan(f"{down.url}/cb")
        _, fine = returned_loan(f"{up.url}/cb")
        # on the queue as the sweeper puts them (their first tries from the stream not made here)
        outbox.enqueue([x for x in outbox_scan() if x.get("loanId") in (failing, fine)], datetime.now(UTC))
        got = queues.client().receive_message(QueueUrl=queues.queue_url(), MaxNumberOfMessages=10,
                                              AttributeNames=["All"])["Messages"]
        assert len(got) == 2
        fn = template.functions(template.load())["CallbackDeliveryFunction"]
        result = functions.invoke(fn, {"Records": [_record(m) for m in got]})
        by_loan = {events.from_message(m["Body"]).loan_id: m["MessageId"] for m in got}
        assert result == {"batchItemFailures": [{"itemIdentifier": by_loan[failing]}]}
        assert len(up.acknowledged()) == 1 and [r.answered for r in down.received] == [503]


def test_redrive_command(capsys: pytest.CaptureFixture[str]) -> None:
    queues.park(events.from_message(json.dumps({
        "eventId": "e-cli", "glnColl": demo.COLL, "loanId": "L9", "url": "http://127.0.0.1:9/",
        "payload": {"event": "loan.returned", "loanId": "L9", "orderLineId": "1", "ean13": "9791000000015",
                    "returnDate": "2026-01-01T00:00:00Z"}})).message(), "test")
    queues.park("garbage", "poison: test")
    assert redrive.main(["--queue-url", queues.queue_url()]) == 0
    assert capsys.readouterr().out.strip() == "redriven: 1  still parked: 1"
    got = queues.client().receive_message(QueueUrl=queues.queue_url(), MessageAttributeNames=["All"])
    (moved,) = got["Messages"]
    assert events.from_message(moved["Body"]).event_id == "e-cli"
    assert moved["MessageAttributes"]["redriven"]["StringValue"] == "1"


def test_an_unusable_outbox_item_does_not_block_the_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    from lending.store import table

    table.put({"pk": "OUTBOX#broken", "sk": "OUTBOX", "type": "outbox", "eventId": "broken", "body": {},
               "createdAt": "2026-01-01T00:00:00Z", "gsi2pk": "OUTBOX",
               "gsi2sk": "2026-01-01T00:00:00Z#broken"})
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        _, loan_id = returned_loan(f"{rx.url}/cb")
        # pending as a loan returned before the table's stream carried its event was (gsi2 OUTBOX)
        table.client().update_item(TableName=table.table_name(), Key=table.key(f"LOAN#{demo.COLL}#{loan_id}", "LOAN"),
                                   UpdateExpression="SET gsi2pk = :p, gsi2sk = :s",
                                   ExpressionAttributeValues={":p": {"S": "OUTBOX"},
                                                              ":s": {"S": f"2026-01-02T00:00:00Z#{loan_id}"}})
        assert len(outbox_store.pending("~")) == 2
        # The broken item comes first (oldest) and is set aside; the good one still goes out.
        assert outbox.sweep(datetime.now(UTC) + timedelta(hours=1)) == 1
        broken = outbox_store.get("broken")
        assert broken is not None and broken["messageId"] == "unusable" and "gsi2pk" not in broken
        drain()
        assert outbox_store.pending("~") == []
        assert [r.json()["loanId"] for r in rx.received] == [loan_id]
