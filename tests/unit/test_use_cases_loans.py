"""The loan use cases (services.lending, services.renewals, services.collectivity_loans) on the store in
memory (tests/fakes/store.py): lend with replay and DUPLICATED, early return, expiry, renewal,
getEndedLoans. An injected clock, no emulator, no socket; each test takes milliseconds."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from lending.domain.licences import Localization, Pool
from lending.domain.loans import LoanState
from lending.domain.refusals import Reason
from lending.local import demo
from lending.notify import events
from lending.services import collectivity_loans, lending, renewals
from lending.store import loans as loan_store
from lending.store.licences import line_key
from tests.usecase_helpers import EAN, ONE, T0, THREE, account, at, counters, licence_of, loan_request, refused

pytestmark = pytest.mark.usefixtures("memory")
CALLBACK = "https://sigb.example/returns"



def test_a_loan_takes_one_access_and_one_place_in_one_write_of_its_line(memory) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    before, writes = memory.transactions, memory.writes
    loan, replayed = lending.lend(ctx, loan_request(ctx, line, "L1", days=14))
    assert not replayed and loan.state is LoanState.ACTIVE and loan.end_date == T0 + timedelta(days=14)
    # loanBook: one conditional write of the line (its seat), then the detail; no transaction
    assert loan.gln_distributor == "" and memory.transactions == before and memory.writes == writes + 1
    assert set(memory.get(*line_key(line))["loans"]) == {"L1"}
    assert counters(line) == (1, 1, 1, 29)
    assert loan_store.get(demo.COLL, "L1") == loan
    # The other pools are their own: a stream takes an off-site place, not a download.
    lending.lend(ctx, loan_request(ctx, line, "S1", pool=Pool.OFFSITE))
    assert counters(line) == (1, 1, 0, 28)
    assert refused(lending.lend, ctx, loan_request(ctx, line, "S2", pool=Pool.OFFSITE)).params == {"pool": Pool.OFFSITE}


def test_the_same_request_within_the_hour_is_replayed_and_takes_nothing() -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    first, _ = lending.lend(ctx, loan_request(ctx, line, "L1", days=14))
    later = at(T0 + timedelta(minutes=59))
    again, replayed = lending.lend(later, loan_request(ctx, line, "L1", days=14))  # same parameters
    assert replayed and again == first and counters(line) == (1, 1, 1, 29)
    # Replayed even once the pool is full (the repeat finds the loan before the refusal is said).
    lending.lend(ctx, loan_request(ctx, line, "L2"))
    assert lending.lend(later, loan_request(ctx, line, "L1", days=14)) == (first, True)
    # Past the hour, or with another parameter, the loanId is taken: DUPLICATED.
    late = refused(lending.lend, at(T0 + timedelta(minutes=61)), loan_request(ctx, line, "L1", days=14))
    assert late.reason is Reason.DUPLICATED and late.params == {"gln_coll": demo.COLL, "loan_id": "L1"}
    other = refused(lending.lend, later, loan_request(ctx, line, "L1", days=13))
    assert other.reason is Reason.DUPLICATED
    assert counters(line) == (0, 1, 1, 28)


def test_refusals_say_why_in_the_domain_order() -> None:
    ctx = at(T0)
    one, three = licence_of(ctx, ONE, THREE)
    lending.lend(ctx, loan_request(ctx, one, "A", ean13=ONE))
    assert refused(lending.lend, ctx, loan_request(ctx, one, "B", ean13=ONE)).reason is Reason.POOL_FULL
    assert refused(lending.lend, ctx, loan_request(ctx, one, "C", ean13=EAN)).reason is Reason.WRONG_EAN
    assert refused(lending.lend, ctx, loan_request(ctx, one, "D", ean13=ONE, days=22)).reason is \
        Reason.OVER_MAX_DURATION
    assert refused(lending.lend, ctx, loan_request(ctx, "9" * 24, "E", ean13=ONE)).reason is Reason.UNKNOWN_LINE
    other_coll = refused(lending.lend, ctx, loan_request(ctx, one, "F", ean13=ONE, coll=demo.COLL2))
    assert other_coll.reason is Reason.UNKNOWN_LINE  # another tenant's line is as unknown as a missing one
    for n in range(3):  # three accesses in all: then nothing left, though places are free
        loan, _ = lending.lend(ctx, loan_request(ctx, three, f"T{n}", ean13=THREE))
        lending.return_early(ctx, loan)
    assert counters(three) == (5, 1, 1, 0)
    assert refused(lending.lend, ctx, loan_request(ctx, three, "T9", ean13=THREE)).reason is Reason.NTA_EXHAUSTED
    assert counters(one) == (0, 0, 0, 9)


def test_a_loan_never_runs_past_its_licence_and_none_is_made_before_or_after_it() -> None:
    ctx = at(T0)
    (soon,) = licence_of(ctx, THREE, dmd=T0 - timedelta(days=360), order_id="OLD")  # a 365-day licence
    loan, _ = lending.lend(ctx, loan_request(ctx, soon, "L1", ean13=THREE, days=10))
    assert loan.end_date == T0 + timedelta(days=5)  # clamped to the licence's end
    ended = at(T0 + timedelta(days=5))
    assert refused(lending.lend, ended, loan_request(ended, soon, "L2", ean13=THREE)).reason is \
        Reason.LICENCE_EXPIRED
    (later,) = licence_of(ctx, THREE, dmd=T0 + timedelta(days=1), order_id="LATER")
    assert refused(lending.lend, ctx, loan_request(ctx, later, "L3", ean13=THREE)).reason is Reason.CANNOT_BE_LOANED


def test_an_overdue_loan_gives_its_place_with_nothing_written_at_its_end(memory) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    after = at(T0 + timedelta(days=2))  # A is over: its seat on the line no longer counts
    assert counters(line, T0) == (0, 0, 0, 9) and counters(line, after.now) == (1, 0, 0, 9)
    loan, _ = lending.lend(after, loan_request(after, line, "B", ean13=ONE))
    a = loan_store.get(demo.COLL, "A")
    assert loan.state is LoanState.ACTIVE and a is not None and a.at(after.now).state is LoanState.EXPIRED
    assert set(memory.get(*line_key(line))["loans"]) == {"B"}  # B's write dropped A's seat
    assert counters(line, after.now) == (0, 0, 0, 8)


def test_in_situ_needs_an_address_of_a_declared_range() -> None:
    from lending.services import ips

    coll = account(demo.COLL)
    assert refused(lending.check_in_situ, coll, Localization.IN_SITU, None).reason is Reason.MISSING_IP
    assert refused(lending.check_in_situ, coll, Localization.IN_SITU, "192.0.2.5").reason is Reason.IP_NOT_DECLARED
    ips.declare(coll, ips.DeclareIps(["192.0.2.1,192.0.2.9"]))
    lending.check_in_situ(coll, Localization.IN_SITU, "192.0.2.5")
    lending.check_in_situ(coll, Localization.EX_SITU, None)


def test_an_early_return_frees_the_place_once_and_writes_its_event_with_it(memory) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    loan, _ = lending.lend(ctx, loan_request(ctx, line, "L1", callback_url=CALLBACK))
    back = at(T0 + timedelta(days=3))
    returned = collectivity_loans.return_loan(back, account(demo.COLL), line, "L1")
    assert returned.state is LoanState.RETURNED and returned.returned_at == back.now
    assert counters(line) == (2, 1, 1, 29)  # the place comes back, the access stays spent
    assert memory.of_type("outbox") == []  # the event is no item of its own: the loan carries it
    (event,) = [x for x in memory.of_type("loan") if x.get("callbackEventId")]
    assert event["loanId"] == "L1" and event["callbackUrl"] == CALLBACK
    # the return's write is the event: the table's stream hands it to the delivery; no queue message, no
    # pending index entry (docs/callbacks.md)
    assert "gsi2pk" not in event and memory.queue == []
    assert json.loads(events.from_outbox(event).body())["loanId"] == "L1"
    # A second return is refused and frees nothing, whichever way it comes.
    again = refused(collectivity_loans.return_loan, back, account(demo.COLL), line, "L1")
    assert again.reason is Reason.ALREADY_ENDED
    assert refused(lending.return_early, back, loan).reason is Reason.ALREADY_ENDED  # the loan as first read
    assert counters(line) == (2, 1, 1, 29) and memory.queue == []
    # Without a callback there is nothing to notify.
    quiet, _ = lending.lend(back, loan_request(back, line, "L2"))
    lending.return_early(back, quiet)
    assert len([x for x in memory.of_type("loan") if x.get("callbackEventId")]) == 1


def test_end_loan_by_the_distributor_and_its_refusals() -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    lending.lend(ctx, loan_request(ctx, line, "L1"))
    dist, later = account(demo.DISTRIBUTOR), at(T0 + timedelta(days=1))
    other = refused(lending.end_loan, later, account(demo.DISTRIBUTOR2), lending.EndLoan(line, "L1"))
    assert other.reason is Reason.UNKNOWN_LINE
    assert refused(lending.end_loan, later, dist, lending.EndLoan(line, "NOPE")).reason is Reason.LOAN_NOT_IN_LINE
    too_early = refused(lending.end_loan, later, dist, lending.EndLoan(line, "L1", T0 - timedelta(hours=1)))
    assert too_early.reason is Reason.INVALID_RETURN_DATE
    ended = lending.end_loan(later, dist, lending.EndLoan(line, "L1", T0 + timedelta(hours=5)))
    assert ended.returned_at == T0 + timedelta(hours=5) and counters(line)[0] == 2


def test_a_loan_past_its_end_frees_its_place_once_and_the_job_writes_nothing(memory) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    short, _ = lending.lend(ctx, loan_request(ctx, line, "S", days=1))
    lending.lend(ctx, loan_request(ctx, line, "L", days=10))
    assert counters(line, T0 + timedelta(hours=23)) == (0, 1, 1, 28)
    # At its end the place is free for every reader; nobody waits for the title: the job writes nothing.
    writes, transactions = memory.writes, memory.transactions
    assert counters(line, T0 + timedelta(days=1)) == (1, 1, 1, 28)
    assert lending.expire_due(at(T0 + timedelta(days=1, seconds=1))) == 0
    assert (memory.writes, memory.transactions) == (writes, transactions)
    got = loan_store.get(demo.COLL, "S")
    assert got is not None and got.at(T0 + timedelta(days=1)).state is LoanState.EXPIRED
    # The next loan takes it (and drops the seat); the place is never freed twice.
    lending.lend(at(T0 + timedelta(days=2)), loan_request(at(T0 + timedelta(days=2)), line, "N", days=1))
    assert counters(line, T0 + timedelta(days=2)) == (0, 1, 1, 27)
    assert lending.expire(at(T0 + timedelta(days=2)), short) == 1  # recorded EXPIRED, nothing freed
    assert counters(line, T0 + timedelta(days=2)) == (0, 1, 1, 27)
    assert lending.expire(at(T0 + timedelta(days=2)), short) == 0
    # An expiry never overtakes a running loan, even handed one directly.
    running = loan_store.get(demo.COLL, "L")
    assert running is not None and lending.expire(at(T0 + timedelta(days=2)), running) == 0
    assert counters(line, T0 + timedelta(days=10)) == (2, 1, 1, 27)
    # An expired loan is not returned: ACCES_DENIED, nothing freed twice.
    assert refused(lending.return_early, at(T0 + timedelta(days=11)), running).reason is Reason.ALREADY_ENDED
    assert counters(line, T0 + timedelta(days=11)) == (2, 1, 1, 27)


def test_renewal_moves_the_end_within_the_offer_and_the_licence() -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)  # 60 days at most per loan
    loan, _ = lending.lend(ctx, loan_request(ctx, line, "L1", days=14))
    later = at(T0 + timedelta(days=3))
    renewed = renewals.renew(later, loan, T0 + timedelta(days=30, microseconds=500))
    assert renewed.end_date == T0 + timedelta(days=30)  # kept to the second
    assert loan_store.get(demo.COLL, "L1").end_date == T0 + timedelta(days=30) and counters(line) == (1, 1, 1, 29)
    stored = loan_store.get(demo.COLL, "L1")
    assert refused(renewals.renew, later, stored, T0 + timedelta(days=30)).reason is Reason.END_NOT_LATER
    too_long = refused(renewals.renew, later, stored, T0 + timedelta(days=60, seconds=1))
    assert (too_long.reason, too_long.params) == (Reason.RENEWAL_TOO_LONG, {"days": "60"})
    assert renewals.renew(later, stored, T0 + timedelta(days=60)).end_date == T0 + timedelta(days=60)
    # A renewal judged on a stale read is judged again on the loan as it is (here: already renewed).
    assert refused(renewals.renew, later, loan, T0 + timedelta(days=45)).reason is Reason.END_NOT_LATER
    # The loan is over: refused, and an overdue one is expired on the way.
    over = at(T0 + timedelta(days=61))
    assert refused(renewals.renew, over, loan_store.get(demo.COLL, "L1"), T0 + timedelta(days=62)).reason is \
        Reason.ALREADY_ENDED
    assert loan_store.get(demo.COLL, "L1").state is LoanState.EXPIRED and counters(line)[0] == 2


def test_renewal_stops_at_the_licence_end_and_after_a_return() -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, THREE, dmd=T0 - timedelta(days=355), order_id="OLD")  # ends at T0 + 10 days
    loan, _ = lending.lend(ctx, loan_request(ctx, line, "L1", ean13=THREE, days=5))
    first = refused(renewals.renew, ctx, loan, T0 + timedelta(days=11))
    assert first.reason is Reason.LICENCE_ENDS_FIRST
    extended = collectivity_loans.extend(ctx, account(demo.COLL), line, "L1", T0 + timedelta(days=10))
    assert extended.end_date == T0 + timedelta(days=10)
    collectivity_loans.return_loan(ctx, account(demo.COLL), line, "L1")
    returned = loan_store.get(demo.COLL, "L1")
    assert refused(renewals.renew, ctx, returned, T0 + timedelta(days=9)).reason is Reason.ALREADY_ENDED
    assert refused(collectivity_loans.extend, ctx, account(demo.COLL), line, "L1", T0 + timedelta(days=9)).reason \
        is Reason.ALREADY_ENDED


def test_get_ended_loans_lists_early_returns_by_date_and_by_id() -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    coll = account(demo.COLL)
    for n, hours in ((1, 5), (2, 2)):
        loan, _ = lending.lend(ctx, loan_request(ctx, line, f"L{n}"))
        lending.return_early(at(T0 + timedelta(hours=hours)), loan)
    lending.lend(ctx, loan_request(ctx, line, "RUNNING"))
    now = at(T0 + timedelta(days=1))
    found = lending.ended_loans(now, coll, lending.EndedLoans(since=T0))
    assert [x.loan_id for x in found] == ["L2", "L1"]  # oldest return first
    assert [x.loan_id for x in lending.ended_loans(now, coll, lending.EndedLoans(since=T0 + timedelta(hours=3)))] \
        == ["L1"]
    by_id = lending.ended_loans(now, coll, lending.EndedLoans(loan_ids=["L1", "RUNNING", "NOPE"]))
    assert [x.loan_id for x in by_id] == ["L1"]
    assert lending.ended_loans(now, account(demo.COLL2), lending.EndedLoans(since=T0)) == []
    assert refused(lending.ended_loans, now, coll, lending.EndedLoans()).reason is Reason.MISSING_DATE_OR_LOAN_ID
    old = refused(lending.ended_loans, now, coll, lending.EndedLoans(since=now.now - timedelta(days=61)))
    assert (old.reason, old.params) == (Reason.DATE_TOO_OLD, {"days": "60"})


def test_a_renewal_of_a_loan_its_line_no_longer_seats_is_refused_not_retried_into_an_error(memory) -> None:
    """A's seat is gone from its line: a loan at A's end dropped it (and lent its place), and the renewal
    was judged a second earlier on another clock (A still active by its record); or A was made before
    lines held their loans and the backfill has not run. The line does not count A: moving its seat is
    impossible, and judging again changes nothing, so it is refused as ended (not a 500 after retries)."""
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)  # one download place, 21 days at most
    loan, _ = lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    end = at(loan.end_date)
    lending.lend(end, loan_request(end, line, "B", ean13=ONE, days=1))
    assert set(memory.get(*line_key(line))["loans"]) == {"B"}
    behind = at(loan.end_date - timedelta(seconds=1))
    stale = loan_store.get(demo.COLL, "A")
    assert refused(renewals.renew, behind, stale, T0 + timedelta(days=5)).reason is Reason.ALREADY_ENDED
    assert loan_store.get(demo.COLL, "A").end_date == loan.end_date
    assert set(memory.get(*line_key(line))["loans"]) == {"B"}


def test_touching_a_lapsed_loan_whose_seat_went_with_a_hold_waiting_writes_no_doomed_handovers(
        memory, monkeypatch) -> None:
    """A lapsed; B's loan dropped A's seat (nobody waited then) and took the place; then M1's hold waits.
    Touching A records it EXPIRED: its place went with its seat, so there is nothing to hand M1. The
    hand-over's failure on the missing seat is final (not retried as if the queue had moved): the hold
    still waits, nothing is freed, and one hand-over transaction is attempted, not five (the end
    itself is a single write of the loan's detail)."""
    from lending.domain.holds import HoldState
    from lending.services import holds
    from lending.store import holds as hold_store
    from lending.store import table

    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)  # one download place
    loan, _ = lending.lend(ctx, loan_request(ctx, line, "A", ean13=ONE, days=1))
    end = at(loan.end_date)
    lending.lend(end, loan_request(end, line, "B", ean13=ONE, days=1))
    later = at(loan.end_date + timedelta(minutes=1))
    view, placed = holds.place_hold(later, account(demo.COLL), holds.NewHold("M1", ONE))
    assert placed and view.hold.state is HoldState.WAITING
    tries: list[int] = []
    real = table.transact
    monkeypatch.setattr(table, "transact", lambda items: (tries.append(len(items)), real(items))[1])
    assert refused(collectivity_loans.return_loan, later, account(demo.COLL), line, "A").reason is \
        Reason.ALREADY_ENDED
    assert loan_store.get(demo.COLL, "A").state is LoanState.EXPIRED and len(tries) == 1
    (hold,) = hold_store.queue(demo.COLL, ONE)[1]
    assert hold.state is HoldState.WAITING and counters(line, later.now)[0] == 0
    assert set(memory.get(*line_key(line))["loans"]) == {"B"}
