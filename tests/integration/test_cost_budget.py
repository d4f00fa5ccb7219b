"""The DynamoDB write units of a loan's life, counted as DynamoDB bills them (lending.local.meter: item
sizes, transactions, index membership and projections of the tables template.yaml creates), held to the
budget written next to the price table (tools/prices.toml). An index projecting more, a bigger item or
one more write in these paths fails here before it reaches the bill."""

from __future__ import annotations

import threading
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient

from lending.domain.licences import Pool
from lending.domain.values import replace
from lending.local import demo, streams, template
from lending.local.meter import Meter, attr_size, item_size
from lending.local.receiver import Receiver
from lending.notify import delivery, queues
from lending.services import lending
from lending.services.context import Ctx
from lending.store import licences as line_store
from lending.store import loans as loan_store
from lending.store import table
from tests.helpers import line, loan_body, order_ok, pnb

pytestmark = pytest.mark.usefixtures("aws")
BUDGET = tomllib.loads((Path(__file__).resolve().parents[2] / "tools" / "prices.toml").read_text())[
    "write_unit_budget"]
DISTRIBUTOR = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}


@pytest.fixture(autouse=True)
def _serial(monkeypatch: pytest.MonkeyPatch) -> None:
    """The callback function sends a batch's records side by side: in-process moto, like the local stack's
    emulator, takes one call at a time."""
    monkeypatch.setenv("CALLBACK_RETRY_DELAYS", "0")
    monkeypatch.setenv("HUB_LOCAL", "1")
    lock, real = threading.Lock(), BaseClient._make_api_call

    def one_at_a_time(self: Any, *args: Any, **kw: Any) -> Any:
        with lock:
            return real(self, *args, **kw)

    monkeypatch.setattr(BaseClient, "_make_api_call", one_at_a_time)
    delivery.forget()


def _deliver_all() -> None:
    """What Lambda's stream event source does for the callback function: the return's write, read from
    the table's stream, handed over; nothing goes through the queue on the happy path."""
    fn = template.functions(template.load())["CallbackDeliveryFunction"]
    assert streams.deliver(fn) == 1
    sqs, url = queues.client(), queues.queue_url()
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []) == []


def test_a_returned_loan_with_its_callback_stays_within_the_write_budget() -> None:
    (line_id,) = order_ok(line())
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        with Meter() as lend:
            answer = pnb("loanBook", loan_body(line_id, "BUDGET1", callbackUrl=f"{rx.url}/cb"))
        assert answer["returnStatus"] == "OK", answer
        with Meter() as end:
            answer = pnb("endLoan", {**DISTRIBUTOR, "orderLineId": line_id, "loanId": "BUDGET1"})
        assert answer["returnStatus"] == "OK", answer
        with Meter() as callback:
            _deliver_all()
        assert [r.answered for r in rx.received] == [200]
    spent = {"loanBook": lend.total_write_units, "endLoan": end.total_write_units,
             "callback": callback.total_write_units}
    assert all(v > 0 for v in spent.values()), spent
    over = {k: (v, BUDGET[k]) for k, v in spent.items() if v > BUDGET[k]}
    assert not over, f"write units over budget (spent, budget): {over}"


def test_an_expired_loan_stays_within_the_write_budget() -> None:
    """Its end frees its place with no write: the expiry job, nobody waiting for the title, writes nothing;
    the next loan of the line drops the lapsed seat in its own one write (no more units than a first loan:
    the seat it drops makes the line no bigger)."""
    (line_id,) = order_ok(line())
    assert pnb("loanBook", loan_body(line_id, "BUDGET2", days=2))["returnStatus"] == "OK"
    loan = loan_store.get(demo.COLL, "BUDGET2")
    assert loan is not None
    later = loan.end_date + timedelta(seconds=1)
    with Meter() as expiry:
        assert lending.expire_due(Ctx(now=later)) == 0
    assert expiry.total_write_units == BUDGET["expiry"] == 0, expiry
    item = line_store.get_line(line_id)
    assert item is not None and set(item["loans"]) == {"BUDGET2"}
    assert line_store.licence(item, later).free == line_store.licence(item, loan.created_at).free | {
        Pool.DOWNLOAD: line_store.licence(item, loan.created_at).free[Pool.DOWNLOAD] + 1}
    with Meter() as lend:
        loan_store.lend(replace(loan, loan_id="BUDGET2B", created_at=later, end_date=later + timedelta(days=1)),
                        later)
    assert lend.total_write_units <= BUDGET["loanBook"], lend
    item = line_store.get_line(line_id)
    assert item is not None and set(item["loans"]) == {"BUDGET2B"}


def test_the_meter_counts_index_copies_by_projection() -> None:
    """The figure the budget rests on: a loan's detail enters the line index alone (keys only; no due
    index), and the licence line's update, though the line is in two indexes, copies nothing into them."""
    (line_id,) = order_ok(line())
    with Meter() as lend:
        assert pnb("loanBook", loan_body(line_id, "BUDGET3"))["returnStatus"] == "OK"
    assert lend.index_write_units == 1
    assert lend.writes_by_op == {"UpdateItem": 1, "PutItem": 2}  # the line (1 KB), the detail and its index entry


def test_a_line_with_twenty_live_seats_is_written_in_one_unit() -> None:
    """A line holds its active loans (~36 bytes a seat with loanIds of 10 to 14 characters). Its loans'
    writes target only its hot item (store.licences.HOT: counters, status, marks, seats), its terms live
    beside it: with 20 live seats the item loanBook writes stays under 1 KB (one unit), where the whole
    line (terms and seats together) would be billed two."""
    (line_id,) = order_ok(line())
    table.client().update_item(TableName=table.table_name(), Key=table.key(*line_store.line_key(line_id)),
                               UpdateExpression="SET dlFree = :n, dlSize = :n", ExpressionAttributeValues={
                                   ":n": table.val(20)})  # room for the seats (the demo offer lends 2 at once)
    units = []
    for n in range(20):
        with Meter() as lend:
            assert pnb("loanBook", loan_body(line_id, f"GROW{n:010d}"))["returnStatus"] == "OK"
        units.append(lend.writes_by_op["UpdateItem"])
    assert units == [1] * 20, units
    raw = {sk: table.client().get_item(TableName=table.table_name(), Key=table.key(f"LINE#{line_id}", sk))["Item"]
           for sk in ("LINE", line_store.TERMS)}
    assert len(raw["LINE"]["loans"]["M"]) == 20
    hot, whole = item_size(raw["LINE"]), item_size(raw["LINE"]) + item_size(raw[line_store.TERMS])
    assert hot <= 1024 - 64 and whole > 1024, (hot, whole)  # room left for a few more seats; the split pays


def test_item_sizes_follow_dynamodb_rules() -> None:
    assert attr_size({"S": "héllo"}) == 6
    assert attr_size({"N": "12345"}) == 4
    assert attr_size({"BOOL": True}) == 1
    assert attr_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    assert item_size({"pk": {"S": "LOAN#1"}, "n": {"N": "0"}}) == 2 + 6 + 1 + 2


def _lapsed_loan(line_id: str, loan_id: str, ean13: str = "9791000000015") -> None:
    """A loan of `line_id` whose end passed an hour ago (lent through the store at its own time)."""
    from datetime import UTC, datetime

    from lending.domain.loans import Loan

    now = datetime.now(UTC).replace(microsecond=0)
    old = Loan(gln_coll=demo.COLL, loan_id=loan_id, order_line_id=line_id, ean13=ean13,
               gln_distributor=demo.DISTRIBUTOR, pool=Pool.DOWNLOAD, created_at=now - timedelta(hours=2),
               end_date=now - timedelta(hours=1), fingerprint=f"fp-{loan_id}")
    loan_store.lend(old, old.created_at)


def test_a_loan_meeting_a_lapsed_seat_reads_its_line_once() -> None:
    """In steady state most loans end by lapsing, so most loanBooks find lapsed seats on their line. On a
    title nobody holds (no `QUEUED` mark on its line) the loan drops them in its own write with no hold
    queue read, and reads its line once, eventually consistent (half a unit): no more than a loan that
    meets none. The budget of read units is tools/prices.toml's."""
    reads = tomllib.loads((Path(__file__).resolve().parents[2] / "tools" / "prices.toml").read_text())[
        "read_unit_budget"]
    warm, clean, worn = order_ok(line()), order_ok(line()), order_ok(line())
    _lapsed_loan(worn[0], "LAPSED1")
    assert pnb("loanBook", loan_body(warm[0], "READS0"))["returnStatus"] == "OK"  # the door's caches warm
    with Meter() as first:
        assert pnb("loanBook", loan_body(clean[0], "READS1"))["returnStatus"] == "OK"
    with Meter() as second:
        assert pnb("loanBook", loan_body(worn[0], "READS2"))["returnStatus"] == "OK"
    item = line_store.get_line(worn[0])
    assert item is not None and set(item["loans"]) == {"READS2"}
    assert second.read_units == first.read_units <= reads["loanBook"], (first, second)
    assert second.requests == first.requests, (first, second)  # GetItem (the line), UpdateItem, PutItem


def test_a_loan_meeting_a_lapsed_seat_of_a_held_title_reads_its_queue() -> None:
    """A title someone holds marks its lines: a loan meeting a lapsed seat there reads the hold queue
    first (the counter, then its open holds: consistent reads), so that a freed place goes to a waiting
    hold first; nobody waiting, it drops the seat in its own write, from the line as already read."""
    from lending.domain.holds import Hold
    from lending.store import holds as hold_store

    (warm,), (worn,) = order_ok(line()), order_ok(line())
    _lapsed_loan(worn, "LAPSED2")
    now = loan_store.get(demo.COLL, "LAPSED2").created_at  # type: ignore[union-attr]
    m1 = Hold(gln_coll=demo.COLL, ean13="9791000000015", ticket=1, member_id="M1", placed_at=now)
    hold_store.place(m1, 0, 0, {m1.hold_id: m1.ean13}, lines=[worn])
    hold_store.cancel_waiting(m1, now)  # the mark stays until the expiry job runs
    assert pnb("loanBook", loan_body(warm, "READS3"))["returnStatus"] == "OK"
    with Meter() as first:
        assert pnb("loanBook", loan_body(warm, "READS4"))["returnStatus"] == "OK"
    with Meter() as held:
        assert pnb("loanBook", loan_body(worn, "READS5"))["returnStatus"] == "OK"
    item = line_store.get_line(worn)
    assert item is not None and set(item["loans"]) == {"READS5"}
    assert held.requests["dynamodb.GetItem"] == first.requests["dynamodb.GetItem"] + 1, (first, held)
    assert held.requests["dynamodb.Query"] == first.requests.get("dynamodb.Query", 0) + 1, (first, held)
    assert held.read_units == first.read_units + 2, (first, held)  # the counter 1, its holds (none open) 1


def test_a_return_of_a_title_nobody_holds_reads_no_queue() -> None:
    """endLoan reads its line (eventually consistent) and not its loan (the detail's write holds what
    that read was for); its line carrying no hold-queue mark, it reads no queue before or after the
    seat's write (that write requires the mark still absent). A title someone holds marks its lines,
    and the return reads its queue as before."""
    from lending.domain.holds import Hold
    from lending.store import holds as hold_store

    reads = tomllib.loads((Path(__file__).resolve().parents[2] / "tools" / "prices.toml").read_text())[
        "read_unit_budget"]
    (warm,), (plain,), (held,) = order_ok(line()), order_ok(line()), order_ok(line())
    for line_id, loan_id in ((warm, "RET0"), (plain, "RET1"), (held, "RET2")):
        assert pnb("loanBook", loan_body(line_id, loan_id))["returnStatus"] == "OK"
    assert pnb("endLoan", {**DISTRIBUTOR, "orderLineId": warm, "loanId": "RET0"})["returnStatus"] == "OK"
    with Meter() as plain_end:
        assert pnb("endLoan", {**DISTRIBUTOR, "orderLineId": plain, "loanId": "RET1"})["returnStatus"] == "OK"
    assert plain_end.read_units <= reads["endLoan"], plain_end
    # the line (one Query of its partition: both its items); no loan read, no queue counter
    assert plain_end.requests["dynamodb.Query"] == 1 and not plain_end.requests["dynamodb.GetItem"], plain_end
    assert plain_end.requests["dynamodb.UpdateItem"] == 2, plain_end  # the detail, the seat
    # its inert event id (no callbackUrl: written since the loan is not read first) costs no unit more
    assert plain_end.total_write_units <= BUDGET["endLoan"], plain_end
    now = loan_store.get(demo.COLL, "RET2").created_at  # type: ignore[union-attr]
    m1 = Hold(gln_coll=demo.COLL, ean13="9791000000015", ticket=1, member_id="M1", placed_at=now)
    hold_store.place(m1, 0, 0, {m1.hold_id: m1.ean13}, lines=[held])
    hold_store.cancel_waiting(m1, now)  # the mark stays until the expiry job runs
    with Meter() as held_end:
        assert pnb("endLoan", {**DISTRIBUTOR, "orderLineId": held, "loanId": "RET2"})["returnStatus"] == "OK"
    assert held_end.read_units == plain_end.read_units + 3, (plain_end, held_end)  # counter, holds; counter
    item = line_store.get_line(held)
    assert item is not None and not item.get("loans")
