"""The lines' hold-queue mark on emulated DynamoDB (the expressions as DynamoDB evaluates them): a hold
placed between a loanBook's read of its line and its write gets the lapsed place; the expiry job keeps the
marks to the queues; reconcile stays clean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lending.domain.holds import Hold, HoldState
from lending.domain.loans import LoanState
from lending.domain.refusals import Refused
from lending.local import demo
from lending.services import holds, lending
from lending.store import holds as hold_store
from lending.store import licences as line_store
from lending.store import loans as loan_store
from lending.store import table
from tests.usecase_helpers import ONE, account, at, licence_of, loan_request

pytestmark = pytest.mark.usefixtures("aws")


def _clean(now: datetime) -> None:
    _, drifts = lending.reconcile(pause=lambda s: None, now=now)
    assert drifts == []


def test_a_hold_placed_between_a_loans_read_and_its_write_gets_the_lapsed_place(
        monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ctx = at(now)
    (line,) = licence_of(ctx, ONE)  # one download place
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    later = at(now + timedelta(days=2))
    m1 = Hold(gln_coll=demo.COLL, ean13=ONE, ticket=1, member_id="M1", placed_at=later.now)
    real, raced = table.update, []

    def racing(op: dict[str, Any]) -> dict[str, Any]:
        if not raced and op["Key"] == table.key(*line_store.line_key(line)):
            raced.append(1)  # B read the line (A lapsed, no mark); M1's hold lands before B's write
            hold_store.place(m1, 0, 0, {m1.hold_id: ONE}, lines=[line])
        return real(op)

    monkeypatch.setattr(table, "update", racing)
    with pytest.raises(Refused):
        lending.lend(later, loan_request(later, line, "B", ean13=ONE))
    assert raced
    (hold,) = hold_store.queue(demo.COLL, ONE)[1]
    assert hold.state is HoldState.RESERVED and hold.order_line_id == line
    assert loan_store.get(demo.COLL, "A").state is LoanState.EXPIRED  # type: ignore[union-attr]
    assert loan_store.get(demo.COLL, "B") is None
    monkeypatch.setattr(table, "update", real)
    _clean(later.now)


def test_a_loans_write_from_a_line_read_before_the_mark_fails_and_returns_the_line() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ctx = at(now)
    (line,) = licence_of(ctx, ONE)
    a, _ = lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    later = now + timedelta(days=2)
    stale = line_store.get_line(line)
    assert stale is not None
    m1 = Hold(gln_coll=demo.COLL, ean13=ONE, ticket=1, member_id="M1", placed_at=later)
    hold_store.place(m1, 0, 0, {m1.hold_id: ONE}, lines=[line])
    b = a.__class__(**{**a.__dict__, "loan_id": "B", "created_at": later, "end_date": later + timedelta(days=1)})
    with pytest.raises(loan_store.LicenceRefused) as e:
        loan_store.lend(b, later, prune=False, line=stale)
    assert e.value.item.get(line_store.QUEUED) is True and set(e.value.item["loans"]) == {"A"}
    with pytest.raises(loan_store.Lapsed):  # from the line as the failed write found it: the queue first
        loan_store.lend(b, later, prune=False, line=e.value.item)


def test_the_expiry_job_marks_and_unmarks_the_lines_on_the_emulator() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ctx = at(now)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    first, _ = holds.place_hold(ctx, account(demo.COLL), holds.NewHold("M1", ONE))
    second, _ = holds.place_hold(ctx, account(demo.COLL), holds.NewHold("M2", ONE))  # the counter's update
    key = table.key(*line_store.line_key(line))
    assert (line_store.get_line(line) or {}).get(line_store.QUEUED) is True
    table.client().update_item(TableName=table.table_name(), Key=key, UpdateExpression="REMOVE holdq")
    lending.expire_due(at(now + timedelta(hours=1)))  # a hold waits: the line is marked again
    assert (line_store.get_line(line) or {}).get(line_store.QUEUED) is True
    for view in (first, second):
        holds.cancel_hold(ctx, account(demo.COLL), view.hold.hold_id)
    lending.expire_due(at(now + timedelta(hours=2)))  # none waits: the marks go
    assert line_store.QUEUED not in (line_store.get_line(line) or {})
    assert hold_store.queue_state(demo.COLL, ONE)[2] is False
    later = at(now + timedelta(days=2))
    lending.lend(later, loan_request(later, line, "B", ean13=ONE))
    assert set((line_store.get_line(line) or {})["loans"]) == {"B"}
    _clean(later.now)


def test_a_hold_placed_between_a_returns_read_and_its_seat_write_gets_the_place(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """endLoan reads the line (no mark: no queue read) and writes the loan's detail; M1's hold lands before
    the seat's write, marking the line. The seat's write (attribute_not_exists of the mark, as DynamoDB
    evaluates it) fails, and the place goes to M1."""
    now = datetime.now(UTC).replace(microsecond=0)
    ctx = at(now)
    (line,) = licence_of(ctx, ONE)  # one download place
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=5))
    m1 = Hold(gln_coll=demo.COLL, ean13=ONE, ticket=1, member_id="M1", placed_at=now)
    real, raced, queue_reads = table.update, [], []
    real_queue = hold_store.queue_state

    def racing(op: dict[str, Any]) -> dict[str, Any]:
        if not raced and op["Key"] == table.key(*line_store.line_key(line)):
            raced.append(1)  # the return's seat write, after its detail's: M1's hold lands first
            hold_store.place(m1, 0, 0, {m1.hold_id: ONE}, lines=[line])
        return real(op)

    def counted(gln_coll: str, ean13: str) -> Any:
        queue_reads.append(ean13)
        return real_queue(gln_coll, ean13)

    monkeypatch.setattr(table, "update", racing)
    monkeypatch.setattr(hold_store, "queue_state", counted)
    ended = lending.end_loan(ctx, account(demo.DISTRIBUTOR), lending.EndLoan(line, "A"))
    assert raced and ended.state is LoanState.RETURNED and queue_reads == [ONE]
    (hold,) = hold_store.queue(demo.COLL, ONE)[1]
    assert hold.state is HoldState.RESERVED and hold.order_line_id == line
    item = line_store.get_line(line)
    assert item is not None and not item.get("loans") and int(item["held"]) == 1 and int(item["dlFree"]) == 0
    monkeypatch.setattr(table, "update", real)
    _clean(now)
