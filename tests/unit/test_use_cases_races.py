"""Races made deterministic on the store in memory: a racer's write lands between a use case's reads and
its transaction (`MemoryStore.racers`), and the use case must decide again on the store as it has become."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lending.domain.loans import LoanState
from lending.domain.refusals import Reason, Refused
from lending.local import demo
from lending.services import collectivity_loans, lending, patron_loans, renewals
from lending.services.context import Ctx
from lending.store import loans as loan_store
from lending.store import patrons as patron_store
from lending.store import table
from lending.store.licences import line_key
from tests.fakes.store import MemoryStore
from tests.usecase_helpers import EAN, ONE, T0, account, at, counters, licence_of, loan_request, refused

pytestmark = pytest.mark.usefixtures("memory")


def test_a_loan_racing_for_the_last_place_is_refused_pool_full(memory: MemoryStore) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    memory.racers.append(lambda: lending.lend(ctx, loan_request(ctx, line, "FAST", ean13=ONE)))
    with pytest.raises(Refused) as e:
        lending.lend(ctx, loan_request(ctx, line, "SLOW", ean13=ONE))
    assert e.value.reason is Reason.POOL_FULL
    assert loan_store.get(demo.COLL, "SLOW") is None and counters(line) == (0, 0, 0, 9)


def test_the_same_loan_id_racing_itself_is_replayed_not_taken_twice(memory: MemoryStore) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    memory.racers.append(lambda: lending.lend(ctx, loan_request(ctx, line, "L1")))
    loan, replayed = lending.lend(ctx, loan_request(ctx, line, "L1"))
    assert replayed and loan.loan_id == "L1" and counters(line) == (1, 1, 1, 29)


def test_a_return_racing_a_renewal_wins_and_the_renewal_is_refused(memory: MemoryStore) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    loan, _ = lending.lend(ctx, loan_request(ctx, line, "L1", days=10))
    memory.racers.append(lambda: collectivity_loans.return_loan(ctx, account(demo.COLL), line, "L1"))
    with pytest.raises(Refused) as e:
        renewals.renew(ctx, loan, T0 + timedelta(days=20))  # judged on the loan as read: still active
    assert e.value.reason is Reason.ALREADY_ENDED
    stored = loan_store.get(demo.COLL, "L1")
    assert stored.state is LoanState.RETURNED and stored.end_date == T0 + timedelta(days=10)
    assert counters(line) == (2, 1, 1, 29)  # freed once


def test_two_renewals_racing_each_land_whole_on_the_loan_as_it_is(memory: MemoryStore) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    loan, _ = lending.lend(ctx, loan_request(ctx, line, "L1", days=10))
    memory.racers.append(lambda: renewals.renew(ctx, loan_store.get(demo.COLL, "L1"), T0 + timedelta(days=30)))
    with pytest.raises(Refused) as e:  # judged again on the loan now ending at day 30: not later
        renewals.renew(ctx, loan, T0 + timedelta(days=20))
    assert e.value.reason is Reason.END_NOT_LATER
    memory.racers.append(lambda: renewals.renew(ctx, loan_store.get(demo.COLL, "L1"), T0 + timedelta(days=40)))
    assert renewals.renew(ctx, loan_store.get(demo.COLL, "L1"), T0 + timedelta(days=50)).end_date == \
        T0 + timedelta(days=50)


def test_a_patron_racing_themself_gets_one_loan_of_a_medium(memory: MemoryStore) -> None:
    ctx, coll = at(T0), account(demo.COLL)
    (line,) = licence_of(ctx, EAN)
    first: list[object] = []
    memory.racers.append(lambda: first.append(patron_loans.create(ctx, coll, patron_loans.NewLoan("M1", EAN))))
    loan, created = patron_loans.create(ctx, coll, patron_loans.NewLoan("M1", EAN))
    assert first == [(loan, True)] and not created  # the racer's loan, found on the retry
    assert counters(line) == (1, 1, 1, 29) and patron_store.get(demo.COLL, "M1").active == {loan.loan_id: EAN}


def test_an_email_is_the_first_patrons_even_when_two_race_for_it(memory: MemoryStore) -> None:
    ctx, coll = at(T0), account(demo.COLL)
    licence_of(ctx, EAN, ONE)
    memory.racers.append(lambda: patron_loans.create(ctx, coll, patron_loans.NewLoan("M1", ONE, email="a@x.example")))
    with pytest.raises(Refused) as e:
        patron_loans.create(ctx, coll, patron_loans.NewLoan("M2", EAN, email=" A@X.example "))
    assert e.value.reason is Reason.EMAIL_IN_USE
    loan, created = patron_loans.create(ctx, coll, patron_loans.NewLoan("M1", EAN, email="a@x.example"))
    assert created and loan.extra == {"memberId": "M1"}


def test_fulfilment_records_each_download_of_an_active_loan() -> None:
    ctx, coll = at(T0), account(demo.COLL)
    licence_of(ctx, EAN)
    loan, _ = patron_loans.create(ctx, coll, patron_loans.NewLoan("M1", EAN))
    view, link, until = patron_loans.fulfil(at(T0 + timedelta(minutes=5)), coll, loan.loan_id)
    assert view.downloads == ["2026-03-02T10:05:00Z"] and until == T0 + timedelta(minutes=65)
    assert link.startswith("http://hub.test/fulfillment/")
    patron_loans.fulfil(at(T0 + timedelta(minutes=6)), coll, loan.loan_id)
    assert patron_loans.own_loan(coll, loan.loan_id).downloads == ["2026-03-02T10:05:00Z", "2026-03-02T10:06:00Z"]
    over = at(loan.end_date + timedelta(seconds=1))
    with pytest.raises(Refused) as e:
        patron_loans.fulfil(over, coll, loan.loan_id)
    assert e.value.reason is Reason.LOAN_EXPIRED and loan_store.get(demo.COLL, loan.loan_id).state is LoanState.EXPIRED


def test_two_loans_racing_to_drop_the_same_lapsed_seat_free_its_place_once(memory: MemoryStore) -> None:
    """The seat write path: A's end has passed (nothing written). SLOW reads the line with A's seat lapsed;
    FAST lands first and drops it; SLOW's write, conditioned on A's seat still being there, fails, and it
    decides again on the line as it is: the pool is then full. Counters match the loan records."""
    from lending.domain.loans import drifts
    from lending.store import licences as line_store

    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)  # one download place
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    later = at(T0 + timedelta(days=2))
    memory.racers.append(lambda: lending.lend(later, loan_request(later, line, "FAST", ean13=ONE)))
    with pytest.raises(Refused) as e:
        lending.lend(later, loan_request(later, line, "SLOW", ean13=ONE))
    assert e.value.reason is Reason.POOL_FULL and loan_store.get(demo.COLL, "SLOW") is None
    item = line_store.get_line(line)  # both its items, merged
    assert set(item["loans"]) == {"FAST"} and counters(line, later.now) == (0, 0, 0, 8)
    lic = line_store.licence(item, later.now)
    assert drifts(lic, loan_store.of_line(line), 0, later.now) == []


def test_a_crash_between_the_seat_and_the_detail_is_repaired_by_the_replay(memory: MemoryStore) -> None:
    """The seat is written, the detail is not (the request died in between): the place is taken once;
    the same request again writes the detail from the seat and answers it as a replay, taking nothing;
    another request under that loanId is DUPLICATED."""
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    real = table.put_new
    table.put_new = lambda item: (_ for _ in ()).throw(RuntimeError("crash"))  # type: ignore[assignment]
    try:
        with pytest.raises(RuntimeError):
            lending.lend(ctx, loan_request(ctx, line, "L1", days=14))
    finally:
        table.put_new = real  # type: ignore[assignment]
    assert loan_store.get(demo.COLL, "L1") is None and counters(line) == (1, 1, 1, 29)
    other = at(T0 + timedelta(minutes=1))
    with pytest.raises(Refused) as e:
        lending.lend(other, loan_request(other, line, "L1", days=13))
    assert e.value.reason is Reason.DUPLICATED
    loan, replayed = lending.lend(other, loan_request(ctx, line, "L1", days=14))
    assert replayed and loan_store.get(demo.COLL, "L1") == loan and loan.created_at == T0
    assert counters(line) == (1, 1, 1, 29)


def test_a_renewal_landing_between_a_loans_read_and_its_write_keeps_its_seat(memory: MemoryStore) -> None:
    """A's end is reached: SLOW reads the line with A's seat lapsed. A renewal judged a second before
    that end (A still active) lands first and moves A's seat to its new end. SLOW's write must not drop
    the renewed seat (its condition is on the seat as read, not on any seat under that id): it decides
    again on the line as it is, where A holds the only place."""
    from lending.domain.loans import drifts
    from lending.store import licences as line_store

    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)  # one download place
    loan, _ = lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    before = at(loan.end_date - timedelta(seconds=1))
    later = at(loan.end_date)
    memory.racers.append(lambda: renewals.renew(before, loan_store.get(demo.COLL, "A"), T0 + timedelta(days=5)))
    with pytest.raises(Refused) as e:
        lending.lend(later, loan_request(later, line, "SLOW", ean13=ONE))
    assert e.value.reason is Reason.POOL_FULL and loan_store.get(demo.COLL, "SLOW") is None
    item = line_store.get_line(line)  # both its items, merged
    assert set(item["loans"]) == {"A"} and loan_store.get(demo.COLL, "A").end_date == T0 + timedelta(days=5)
    assert drifts(line_store.licence(item, later.now), loan_store.of_line(line), 0, later.now) == []


def _return_cut_short(ctx: Ctx, line: str, loan_id: str) -> None:
    """A return that dies between its two writes: the detail is RETURNED, the seat still on the line."""
    real = loan_store.free_seat
    loan_store.free_seat = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash"))  # type: ignore[assignment]
    try:
        with pytest.raises(RuntimeError):
            collectivity_loans.return_loan(ctx, account(demo.COLL), line, loan_id)
    finally:
        loan_store.free_seat = real  # type: ignore[assignment]


def test_a_return_cut_short_after_its_detail_is_finished_by_its_replay_once(memory: MemoryStore) -> None:
    """endLoan is the detail's write then the seat's: a crash between leaves the place taken (never
    given twice); the same return again finds the detail RETURNED with its seat still there, takes the
    seat off and answers as the return did; any repeat after that is ALREADY_ENDED, freeing nothing."""
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    lending.lend(ctx, loan_request(ctx, line, "L1", days=10, callback_url="https://x.example/"))
    later = at(T0 + timedelta(hours=1))
    _return_cut_short(later, line, "L1")
    stored = loan_store.get(demo.COLL, "L1")
    assert stored.state is LoanState.RETURNED and stored.returned_at == later.now
    assert counters(line, later.now) == (1, 1, 1, 29) and "L1" in memory.get(*line_key(line))["loans"]
    again = at(T0 + timedelta(hours=1, minutes=1))
    replayed = collectivity_loans.return_loan(again, account(demo.COLL), line, "L1")
    assert replayed.state is LoanState.RETURNED and replayed.returned_at == later.now  # the return as made
    assert counters(line, again.now) == (2, 1, 1, 29) and "L1" not in memory.get(*line_key(line))["loans"]
    assert refused(collectivity_loans.return_loan, again, account(demo.COLL), line, "L1").reason is \
        Reason.ALREADY_ENDED
    assert counters(line, again.now) == (2, 1, 1, 29)
    assert [x.loan_id for x in lending.ended_loans(again, account(demo.COLL), lending.EndedLoans(
        since=T0))] == ["L1"]


def test_a_returns_seat_freed_by_its_replay_first_is_not_freed_again_by_the_return(memory: MemoryStore) -> None:
    """The seat's write is conditioned on the seat as the loan says: the return and its replay racing
    past the detail give the place back once."""
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    lending.lend(ctx, loan_request(ctx, line, "L1", days=10))
    # racers land before the next writes: the detail's (nothing), then the seat's (the replay's, whole)
    memory.racers += [lambda: None,
                      lambda: collectivity_loans.return_loan(ctx, account(demo.COLL), line, "L1")]
    collectivity_loans.return_loan(ctx, account(demo.COLL), line, "L1")
    assert counters(line) == (2, 1, 1, 29) and memory.get(*line_key(line))["loans"] == {}


def test_a_hold_placed_while_a_place_is_freed_gets_that_place(memory: MemoryStore) -> None:
    """The return read the title's queue (nobody waits) and wrote its detail; a hold is placed and finds
    no place (the seat is still on the line); then the seat comes off: the place goes to the hold, not
    back to whoever asks first (what the end's transaction used to guard with the queue's counter)."""
    from lending.domain.holds import HoldState
    from lending.services import holds
    from lending.store import holds as hold_store

    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)  # one download place
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=5))
    placed: list[bool] = []
    memory.racers += [lambda: None, lambda: placed.append(
        holds.place_hold(ctx, account(demo.COLL), holds.NewHold("M1", ONE))[1])]
    collectivity_loans.return_loan(ctx, account(demo.COLL), line, "A")
    (hold,) = hold_store.queue(demo.COLL, ONE)[1]
    assert placed == [True] and hold.state is HoldState.RESERVED and hold.order_line_id == line
    assert counters(line) == (0, 0, 0, 9)  # the place is the hold's (reserved), the access still to spend
