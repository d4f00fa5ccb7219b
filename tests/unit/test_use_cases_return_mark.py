"""The hold-queue mark on the return path (store.licences.QUEUED), on the store in memory: endLoan reads
its line (eventually consistent) and, when it carries no mark, reads no queue and takes the seat off on
condition that the mark is still absent; a hold placed between the return's read and its seat's write
marks the line, fails that write, and the freed place goes to the hold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lending.domain.holds import Hold, HoldState
from lending.domain.loans import LoanState, drifts
from lending.local import demo
from lending.services import holds, lending
from lending.store import holds as hold_store
from lending.store import licences as line_store
from lending.store import loans as loan_store
from lending.store import table
from tests.fakes.store import MemoryStore
from tests.usecase_helpers import ONE, T0, account, at, licence_of, loan_request

pytestmark = pytest.mark.usefixtures("memory")


@pytest.fixture
def queue_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every read of a title's hold queue: its state, or its counter again after a seat's write."""
    seen: list[str] = []
    state, last = hold_store.queue_state, hold_store.last_ticket

    def counted_state(gln_coll: str, ean13: str) -> Any:
        seen.append("queue")
        return state(gln_coll, ean13)

    def counted_last(gln_coll: str, ean13: str) -> Any:
        seen.append("last_ticket")
        return last(gln_coll, ean13)

    monkeypatch.setattr(hold_store, "queue_state", counted_state)
    monkeypatch.setattr(hold_store, "last_ticket", counted_last)
    return seen


def _end(ctx: Any, line: str, loan_id: str) -> Any:
    return lending.end_loan(ctx, account(demo.DISTRIBUTOR), lending.EndLoan(line, loan_id))


def _line(memory: MemoryStore, line_id: str) -> dict[str, Any]:
    return line_store.get_line(line_id) or {}  # both its items, merged


def _reconciled(line_id: str, now: Any) -> None:
    item = line_store.get_line(line_id)
    assert item is not None
    reserved = hold_store.reserved_on_line(line_id)
    assert drifts(line_store.licence(item, now), loan_store.of_line(line_id), reserved, now) == []


def _m1(now: Any) -> Hold:
    return Hold(gln_coll=demo.COLL, ean13=ONE, ticket=1, member_id="M1", placed_at=now)


def test_a_return_of_a_title_nobody_holds_reads_no_queue(memory: MemoryStore, queue_reads: list[str]) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)  # one download place
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=5))
    queue_reads.clear()
    ended = _end(ctx, line, "A")
    assert ended.state is LoanState.RETURNED and queue_reads == []
    assert not _line(memory, line).get("loans") and int(_line(memory, line)["dlFree"]) == 1
    _reconciled(line, ctx.now)


def test_a_hold_placed_between_a_returns_read_and_its_seat_write_gets_the_place(
        memory: MemoryStore, queue_reads: list[str]) -> None:
    """The return reads the line (no mark, so no queue read) and writes the detail; M1's hold lands
    before the seat's write (the placement alone, not its pump: it finds no free place, and its
    transaction marks the line). The seat's write, conditioned on the mark's absence, fails; the return
    reads the queue and hands the place to M1 in the seat's own write."""
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=5))
    assert not _line(memory, line).get(line_store.QUEUED)
    queue_reads.clear()
    memory.racers += [lambda: None, lambda: hold_store.place(_m1(ctx.now), 0, 0, {"M1": ONE}, lines=[line])]
    assert _end(ctx, line, "A").state is LoanState.RETURNED
    assert memory.racers == [] and queue_reads  # the failed write sent it to the queue
    (hold,) = hold_store.queue(demo.COLL, ONE)[1]
    assert hold.state is HoldState.RESERVED and hold.order_line_id == line
    item = _line(memory, line)
    assert not item.get("loans") and int(item["held"]) == 1 and int(item["dlFree"]) == 0
    _reconciled(line, ctx.now)


def test_without_the_mark_condition_the_seat_write_would_have_freed_the_place_past_the_hold(
        memory: MemoryStore) -> None:
    """The same race on the store itself: the seat's write without `unqueued` lands with M1 waiting and
    the place goes back to the pool, where whoever asks first takes it; with it, the write fails."""
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=5))
    loan = loan_store.get(demo.COLL, "A")
    assert loan is not None
    ended = loan_store.end(loan, LoanState.RETURNED, ctx.now)
    hold_store.place(_m1(ctx.now), 0, 0, {"M1": ONE}, lines=[line])
    with pytest.raises(loan_store.Queued):
        loan_store.free_seat(ended, unqueued=True)
    assert _line(memory, line)["loans"]  # the seat still there: nothing freed
    assert loan_store.free_seat(ended)  # lands: the place back to the pool, M1 still waiting
    assert int(_line(memory, line)["dlFree"]) == 1
    assert hold_store.queue(demo.COLL, ONE)[1][0].state is HoldState.WAITING


def test_a_marked_line_serves_the_queue_as_before(memory: MemoryStore, queue_reads: list[str]) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=5))
    _, placed = holds.place_hold(ctx, account(demo.COLL), holds.NewHold("M1", ONE))
    assert placed and _line(memory, line).get(line_store.QUEUED) is True
    queue_reads.clear()
    _end(ctx, line, "A")
    assert queue_reads and hold_store.queue(demo.COLL, ONE)[1][0].state is HoldState.RESERVED
    _reconciled(line, ctx.now)


def test_a_stale_line_read_without_the_mark_still_gives_the_place_to_the_hold(
        memory: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """endLoan's eventual read of the line returns it as before M1's hold marked it: the seat's write
    finds the mark and fails, and the place goes to M1."""
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=5))
    stale = _line(memory, line)
    _, placed = holds.place_hold(ctx, account(demo.COLL), holds.NewHold("M1", ONE))
    assert placed
    real = line_store.get_line
    monkeypatch.setattr(line_store, "get_line", lambda i, consistent=True: stale if i == line and not consistent
                        else real(i, consistent))
    _end(ctx, line, "A")
    (hold,) = hold_store.queue(demo.COLL, ONE)[1]
    assert hold.state is HoldState.RESERVED and hold.order_line_id == line
    _reconciled(line, ctx.now)


def test_a_line_not_yet_seen_by_the_eventual_read_is_read_again(
        memory: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=5))
    real = line_store.get_line
    monkeypatch.setattr(line_store, "get_line", lambda i, consistent=True: None if i == line and not consistent
                        else real(i, consistent))
    assert _end(ctx, line, "A").state is LoanState.RETURNED
    assert int(_line(memory, line)["dlFree"]) == 1


def _loan_reads(monkeypatch: pytest.MonkeyPatch, loan_id: str) -> list[bool]:
    """The consistency of every read of that loan (endLoan's common path reads none: its detail's write
    holds what the read was for, and answers the loan as it is when it fails)."""
    real, reads = table.get, []
    key = loan_store.loan_key(demo.COLL, loan_id)

    def get(pk: str, sk: str, consistent: bool = True) -> Any:
        if (pk, sk) == key:
            reads.append(consistent)
        return real(pk, sk, consistent)

    monkeypatch.setattr(table, "get", get)
    return reads


def test_a_return_cut_short_is_finished_by_its_replay_without_reading_the_loan(
        memory: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The return died between its two writes (detail RETURNED, seat still on the line). Its replay reads
    no loan: its detail's write fails (no longer ACTIVE) and answers the loan RETURNED, as a consistent
    read would; the replay takes the seat off, once, and answers as the return did; then ALREADY_ENDED."""
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=5))
    first = at(T0 + timedelta(hours=1))
    real = loan_store.free_seat
    monkeypatch.setattr(loan_store, "free_seat", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        _end(first, line, "A")
    monkeypatch.setattr(loan_store, "free_seat", real)
    assert _line(memory, line)["loans"] and int(_line(memory, line)["dlFree"]) == 0
    reads = _loan_reads(monkeypatch, "A")
    again = at(T0 + timedelta(hours=2))
    replayed = _end(again, line, "A")
    assert reads == [] and replayed.state is LoanState.RETURNED and replayed.returned_at == first.now
    assert not _line(memory, line)["loans"] and int(_line(memory, line)["dlFree"]) == 1
    with pytest.raises(lending.Refused) as e:
        _end(again, line, "A")
    assert e.value.reason is lending.Reason.ALREADY_ENDED and int(_line(memory, line)["dlFree"]) == 1
    assert reads == []
    _reconciled(line, again.now)


def test_a_loan_renewed_is_returned_with_its_seat_as_it_is(
        memory: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """No read of the loan: the detail's write answers the loan as written (ALL_NEW, its end as the
    renewal moved it), so the seat's write matches the seat as it is and the place is freed."""
    from lending.services import renewals

    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=5))
    renewals.renew(ctx, loan_store.get(demo.COLL, "A"), T0 + timedelta(days=20))  # type: ignore[arg-type]
    reads = _loan_reads(monkeypatch, "A")
    assert _end(ctx, line, "A").state is LoanState.RETURNED and reads == []
    assert not _line(memory, line)["loans"] and int(_line(memory, line)["dlFree"]) == 1
    _reconciled(line, ctx.now)


def test_every_refusal_is_decided_on_the_loan_the_failed_write_answers(
        memory: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each condition of the detail's write that fails gives the refusal the read used to give, from the
    loan the write answers (no read of it), and writes nothing: not in this line (absent, or another
    line's), a return date before the loan's start, past its end (recorded EXPIRED on the way, as
    before). A return date too far ahead is refused after one consistent read (the loan's line first)."""
    ctx = at(T0)
    (line,), (other,) = licence_of(ctx, ONE), licence_of(ctx, ONE, order_id="ORD2")
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=5))
    lending.lend(ctx, loan_request(ctx, other, "B", ean13=ONE, days=5))
    dist = account(demo.DISTRIBUTOR)
    reads = _loan_reads(monkeypatch, "A")
    later = at(T0 + timedelta(days=1))

    def refused(req: lending.EndLoan, when: Any = later) -> lending.Reason:
        before = {k: dict(v) for k, v in memory.items.items()}
        with pytest.raises(lending.Refused) as e:
            lending.end_loan(when, dist, req)
        if e.value.reason is not lending.Reason.ALREADY_ENDED:
            assert {k: dict(v) for k, v in memory.items.items()} == before  # nothing written
        return e.value.reason

    assert refused(lending.EndLoan(line, "NOPE")) is lending.Reason.LOAN_NOT_IN_LINE
    assert refused(lending.EndLoan(line, "B")) is lending.Reason.LOAN_NOT_IN_LINE  # B is the other line's
    assert refused(lending.EndLoan(line, "A", T0 - timedelta(hours=1))) is lending.Reason.INVALID_RETURN_DATE
    assert reads == []
    # too far ahead: the loan is read (consistently) to answer LOAN_NOT_IN_LINE first, as before
    assert refused(lending.EndLoan(line, "A", later.now + timedelta(hours=1))) is lending.Reason.INVALID_RETURN_DATE
    assert reads == [True]
    assert refused(lending.EndLoan(other, "A", later.now + timedelta(hours=1))) is lending.Reason.LOAN_NOT_IN_LINE
    reads.clear()
    # past its end: recorded EXPIRED on the way, then ALREADY_ENDED; its place was free at its end already
    assert refused(lending.EndLoan(line, "A"), at(T0 + timedelta(days=6))) is lending.Reason.ALREADY_ENDED
    assert loan_store.get(demo.COLL, "A").state is LoanState.EXPIRED  # type: ignore[union-attr]
    assert reads == [True]  # the check above, not endLoan
    # a return date within the loan's life: returned at it
    ended = lending.end_loan(later, dist, lending.EndLoan(other, "B", T0 + timedelta(hours=5)))
    assert ended.returned_at == T0 + timedelta(hours=5)
    assert loan_store.get(demo.COLL, "B").returned_at == T0 + timedelta(hours=5)  # type: ignore[union-attr]
    _reconciled(other, later.now)
