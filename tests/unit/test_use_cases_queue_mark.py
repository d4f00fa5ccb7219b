"""The lines' hold-queue mark (store.licences.QUEUED), on the store in memory: a loanBook that meets lapsed
seats reads the title's hold queue only when its line is marked; a hold is placed with every line of its
title marked in its own transaction, so a loan that read the line before that fails its write and decides
again (the freed place goes to the head of the queue first); the expiry job keeps the marks to the queues.
A loanBook also reads its line once: a stale or outdated line fails the write, whose answer (ALL_OLD) is
the line it lends again from."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lending.domain.holds import Hold, HoldState
from lending.domain.loans import LoanState, drifts
from lending.domain.refusals import Reason
from lending.local import demo
from lending.services import holds, lending
from lending.store import holds as hold_store
from lending.store import licences as line_store
from lending.store import loans as loan_store
from lending.store import table
from tests.fakes.store import MemoryStore
from tests.usecase_helpers import EAN, ONE, T0, account, at, counters, licence_of, loan_request, refused

pytestmark = pytest.mark.usefixtures("memory")


@pytest.fixture
def queue_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every read of a title's hold queue (its counter, then its open holds)."""
    seen: list[tuple[str, str]] = []
    real = hold_store.queue_state

    def counted(gln_coll: str, ean13: str) -> Any:
        seen.append((gln_coll, ean13))
        return real(gln_coll, ean13)

    monkeypatch.setattr(hold_store, "queue_state", counted)
    return seen


def _line(memory: MemoryStore, line_id: str) -> dict[str, Any]:
    return line_store.get_line(line_id) or {}  # both its items, merged


def _reconciled(line_id: str, now: Any) -> None:
    item = line_store.get_line(line_id)
    assert item is not None
    reserved = hold_store.reserved_on_line(line_id)
    assert drifts(line_store.licence(item, now), loan_store.of_line(line_id), reserved, now) == []


def test_a_loan_meeting_a_lapsed_seat_of_a_title_nobody_holds_reads_no_queue(
        memory: MemoryStore, queue_reads: list[tuple[str, str]]) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)  # one download place
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    later = at(T0 + timedelta(days=2))
    queue_reads.clear()  # the order's (a new licence serves its title's queue)
    lending.lend(later, loan_request(later, line, "B", ean13=ONE))
    assert queue_reads == [] and set(_line(memory, line)["loans"]) == {"B"}
    assert counters(line, later.now) == (0, 0, 0, 8)
    _reconciled(line, later.now)


def test_a_hold_marks_its_titles_lines_and_a_lapsed_place_then_goes_to_it(
        memory: MemoryStore, queue_reads: list[tuple[str, str]]) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    view, placed = holds.place_hold(ctx, account(demo.COLL), holds.NewHold("M1", ONE))
    assert placed and view.hold.state is HoldState.WAITING
    assert _line(memory, line).get(line_store.QUEUED) is True
    later = at(T0 + timedelta(days=2))
    queue_reads.clear()
    assert refused(lending.lend, later, loan_request(later, line, "B", ean13=ONE)).reason is Reason.POOL_FULL
    assert queue_reads  # the mark sent it to the queue: A's place went to M1
    (hold,) = hold_store.queue(demo.COLL, ONE)[1]
    assert hold.state is HoldState.RESERVED and hold.order_line_id == line
    assert loan_store.get(demo.COLL, "A").state is LoanState.EXPIRED and loan_store.get(demo.COLL, "B") is None
    _reconciled(line, later.now)


def test_a_hold_placed_between_a_loans_read_and_its_write_gets_the_lapsed_place(memory: MemoryStore) -> None:
    """B reads the line (A's seat lapsed, no mark, so no queue read); M1's hold lands before B's write (the
    placement alone, not its pump: its transaction marks the line). B's write, conditioned on the mark
    being absent, fails; B decides again on the marked line: A's place goes to M1, B finds the pool full."""
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    later = at(T0 + timedelta(days=2))
    m1 = Hold(gln_coll=demo.COLL, ean13=ONE, ticket=1, member_id="M1", placed_at=later.now)
    memory.racers.append(lambda: hold_store.place(m1, 0, 0, {m1.hold_id: ONE}, lines=[line]))
    assert refused(lending.lend, later, loan_request(later, line, "B", ean13=ONE)).reason is Reason.POOL_FULL
    (hold,) = hold_store.queue(demo.COLL, ONE)[1]
    assert hold.state is HoldState.RESERVED and hold.order_line_id == line
    item = _line(memory, line)
    assert "loans" not in item or set(item["loans"]) == set()
    assert loan_store.get(demo.COLL, "B") is None and int(item["held"]) == 1
    _reconciled(line, later.now)


def test_without_the_mark_condition_the_racing_loan_would_have_taken_the_place(memory: MemoryStore) -> None:
    """The same race, the line's write built as if the mark were not checked: B takes A's place over M1.
    What the condition prevents, shown on the store itself."""
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    a, _ = lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    later = T0 + timedelta(days=2)
    stale = _line(memory, line)
    m1 = Hold(gln_coll=demo.COLL, ean13=ONE, ticket=1, member_id="M1", placed_at=later)
    hold_store.place(m1, 0, 0, {m1.hold_id: ONE}, lines=[line])
    b = a.__class__(**{**a.__dict__, "loan_id": "B", "created_at": later, "end_date": later + timedelta(days=1)})
    gone = line_store.seats(stale)
    with pytest.raises(table.ConditionFailed) as e:
        table.update(loan_store.take_op(b, later, stale, gone, unqueued=True))
    assert e.value.item.get(line_store.QUEUED) is True
    table.update(loan_store.take_op(b, later, stale, gone, unqueued=False))  # lands: the hold is passed over
    assert set(_line(memory, line)["loans"]) == {"B"}


def test_a_loan_lends_again_from_the_failed_writes_answer_without_reading_the_line_twice(
        memory: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """SLOW reads the line with A's seat lapsed; FAST drops it first. SLOW's write fails and returns the
    line as it is (ALL_OLD): SLOW lends from it (a place is left) with no second read of the line."""
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)  # two download places
    lending.lend(ctx, loan_request(ctx, line, "A", days=1))
    later = at(T0 + timedelta(days=2))
    reads: list[tuple[str, bool]] = []
    real_get, real_partition = table.get, table.partition

    def get(pk: str, sk: str, consistent: bool = True) -> Any:
        reads.append((pk, consistent))
        return real_get(pk, sk, consistent)

    def partition(pk: str, consistent: bool = False) -> Any:  # a line: its partition's one query
        reads.append((pk, consistent))
        return real_partition(pk, consistent)

    memory.racers.append(lambda: lending.lend(later, loan_request(later, line, "FAST")))
    monkeypatch.setattr(table, "get", get)
    monkeypatch.setattr(table, "partition", partition)
    _, replayed = lending.lend(later, loan_request(later, line, "SLOW"))
    line_pk = line_store.line_key(line)[0]
    assert not replayed and [r for r in reads if r[0] == line_pk] == [(line_pk, False)] * 2  # FAST's, SLOW's
    assert set(_line(memory, line)["loans"]) == {"FAST", "SLOW"} and counters(line, later.now)[0] == 0
    _reconciled(line, later.now)


def test_a_stale_line_missing_the_loans_own_seat_answers_the_replay(memory: MemoryStore,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """An eventually consistent read may miss a seat written a moment ago: the same request again (a
    client's retry) fails its write on its own seat, and the failure's line answers it as a replay."""
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    before = _line(memory, line)
    first, _ = lending.lend(ctx, loan_request(ctx, line, "L1"))
    real = line_store.get_line
    monkeypatch.setattr(line_store, "get_line", lambda i, consistent=True: before if i == line and not consistent
                        else real(i, consistent))
    again, replayed = lending.lend(ctx, loan_request(ctx, line, "L1"))
    assert replayed and again == first and counters(line) == (1, 1, 1, 29)


def test_a_line_just_written_and_not_yet_seen_by_an_eventual_read_is_read_again(
        memory: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    real = line_store.get_line
    monkeypatch.setattr(line_store, "get_line", lambda i, consistent=True: None if i == line and not consistent
                        else real(i, consistent))
    _, replayed = lending.lend(ctx, loan_request(ctx, line, "L1"))
    assert not replayed and counters(line) == (1, 1, 1, 29)


def test_the_expiry_job_keeps_the_marks_to_the_queues(memory: MemoryStore,
                                                      queue_reads: list[tuple[str, str]]) -> None:
    """A line that lacks the mark while a hold waits (bought after the hold, or written before marks
    existed) gets it from the job; once no hold waits, the job removes the marks, and loans meeting
    lapsed seats read no queue again."""
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    view, _ = holds.place_hold(ctx, account(demo.COLL), holds.NewHold("M1", ONE))
    item = _line(memory, line)
    del item[line_store.QUEUED]
    memory.items[line_store.line_key(line)] = item  # as a line written before the mark
    assert lending.expire_due(at(T0 + timedelta(hours=1))) == 0  # A still running
    assert _line(memory, line).get(line_store.QUEUED) is True
    holds.cancel_hold(ctx, account(demo.COLL), view.hold.hold_id)
    assert _line(memory, line).get(line_store.QUEUED) is True  # until the job runs
    assert lending.expire_due(at(T0 + timedelta(hours=2))) == 0
    assert line_store.QUEUED not in _line(memory, line)
    assert hold_store.queue_state(demo.COLL, ONE)[2] is False
    assert lending.expire_due(at(T0 + timedelta(hours=3))) == 0  # nothing left to remove: no line read
    later = at(T0 + timedelta(days=2))
    queue_reads.clear()
    lending.lend(later, loan_request(later, line, "B", ean13=ONE))
    assert queue_reads == [] and set(_line(memory, line)["loans"]) == {"B"}


def test_the_marks_stay_when_a_hold_is_placed_while_the_job_removes_them(memory: MemoryStore) -> None:
    """The job read the queue with no hold waiting; a hold lands before its removal: the removal, guarded
    by the queue's last ticket, fails and the line keeps its mark."""
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    view, _ = holds.place_hold(ctx, account(demo.COLL), holds.NewHold("M1", ONE))
    holds.cancel_hold(ctx, account(demo.COLL), view.hold.hold_id)
    m2 = Hold(gln_coll=demo.COLL, ean13=ONE, ticket=2, member_id="M2", placed_at=T0)
    memory.racers.append(lambda: hold_store.place(m2, 1, 0, {m2.hold_id: ONE}, lines=[line]))
    lending.expire_due(at(T0 + timedelta(hours=1)))
    assert _line(memory, line).get(line_store.QUEUED) is True and hold_store.queue_state(demo.COLL, ONE)[2]


def test_a_licence_bought_while_a_hold_waits_is_marked(memory: MemoryStore) -> None:
    ctx = at(T0)
    (first,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, first, "A", ean13=ONE, days=5))
    holds.place_hold(ctx, account(demo.COLL), holds.NewHold("M1", ONE))
    holds.place_hold(ctx, account(demo.COLL), holds.NewHold("M2", ONE))
    (second,) = licence_of(ctx, ONE, order_id="ORD2")  # its one place goes to M1; M2 still waits
    assert _line(memory, second).get(line_store.QUEUED) is True
    waiting = [h for h in hold_store.queue(demo.COLL, ONE)[1] if h.state is HoldState.WAITING]
    assert [h.member_id for h in waiting] == ["M2"]
