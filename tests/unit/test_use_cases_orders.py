"""Orders, declared IPs and library API v1 patron loans as use cases (services.orders, services.ips,
services.patron_loans) on the store in memory: an injected clock, no emulator, no socket."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lending.domain.refusals import Reason, Refused
from lending.domain.values import replace
from lending.local import demo
from lending.services import collectivity_loans, ips, lending, order_status, orders, patron_loans
from lending.services.context import Ctx
from lending.services.orders import CancelledLine
from lending.store import licences as line_store
from lending.store import patrons as patron_store
from tests.fakes.store import MemoryStore, NotFaked, signature_mismatches
from tests.usecase_helpers import (
    EAN,
    ONE,
    T0,
    THREE,
    UNAVAILABLE,
    account,
    at,
    cancel_order,
    counters,
    licence_of,
    loan_request,
    refused,
    send_order,
)

pytestmark = pytest.mark.usefixtures("memory")



def test_the_fake_keeps_the_interface_of_the_store_it_replaces() -> None:
    from lending.store import table

    assert signature_mismatches(MemoryStore()) == []
    with pytest.raises(NotFaked):  # and nothing gets past it to AWS
        table.client()


def test_send_order_makes_one_licence_per_ok_line_and_refuses_lines_one_by_one(memory) -> None:
    ctx = at(T0)
    answer = send_order(ctx, EAN, UNAVAILABLE, "9791000000077", EAN)
    statuses = [x.refusal.reason if x.refusal else None for x in answer.lines]
    assert statuses == [None, Reason.CANNOT_BE_SOLD, Reason.UNKNOWN_OFFER, Reason.DUPLICATED_LINE]
    prices = {ean: ttc for ean, _, _, ttc, *_ in demo.CATALOGUE}
    assert answer.order_id == "ORD1" and [x.unit_price for x in answer.lines[:2]] == [prices[EAN], prices[UNAVAILABLE]]
    assert answer.lines[2].unit_price == 2400  # an unknown offer: the price as sent
    ok, sold_out, _unknown, _twice = (x.order_line_id for x in answer.lines)
    lic = line_store.licence(line_store.get_line(ok) or {}, T0)
    assert (lic.nta_total, lic.nta, lic.max_loan_days, lic.gln_reseller) == (30, 30, 60, demo.RESELLER)
    assert lic.end_date == T0 - timedelta(days=1) + timedelta(days=3650) and lic.lending_token
    refused_line = line_store.get_line(sold_out) or {}
    assert refused_line["status"] == "REFUSED" and refused_line["reason"] == "cannot_be_sold"
    assert not line_store.is_licence(refused_line)
    # The order is unique per reseller: a second one with its id changes nothing.
    before = len(memory.items)
    assert refused(send_order, ctx, ONE).reason is Reason.ORDER_EXISTS
    assert len(memory.items) == before
    assert [x.order_line_id for x in line_store.licences_of(demo.COLL, EAN, T0)] == [ok]


def test_cancel_order_cancels_unused_lines_only() -> None:
    ctx = at(T0)
    used, unused = licence_of(ctx, EAN, ONE)
    lending.lend(ctx, loan_request(ctx, used, "L1"))
    answer = cancel_order(at(T0 + timedelta(hours=1)), "ORD1")
    lines = {x.order_line_id: x.refusal and (x.refusal.reason, x.refusal.params) for x in answer}
    assert lines == {unused: None, used: (Reason.LINE_USED, {"order_line_id": used})}
    assert (line_store.get_line(unused) or {})["status"] == "CANCELLED"
    assert line_store.licences_of(demo.COLL, ONE, T0) == []  # a cancelled licence lends no more
    assert refused(lending.lend, ctx, loan_request(ctx, unused, "L2", ean13=ONE)).reason is Reason.CANNOT_BE_LOANED
    assert cancel_order(ctx, "ORD1", unused) == [CancelledLine(unused)]  # cancelling again is no error
    assert refused(cancel_order, ctx, "NOPE").reason is Reason.ORDER_NOT_FOUND
    assert refused(cancel_order, ctx, "ORD1", "1" * 24).reason is Reason.UNKNOWN_LINE
    assert counters(used) == (1, 1, 1, 29)


def test_check_availability_says_each_line_on_its_own() -> None:
    ctx = at(T0)
    sent = [(EAN, 0), (UNAVAILABLE, 0), ("9791000000077", 0), (EAN, 1)]
    prices = {ean: (ttc, ht) for ean, _, _, ttc, ht, *_ in demo.CATALOGUE}
    lines = [orders.AskedLine({"ean13": e, "glnDistributor": demo.DISTRIBUTOR},
                              orders.PricedLine(e, demo.DISTRIBUTOR, prices[EAN][0] + off, prices[EAN][1], "EUR"))
             for e, off in sent]
    lines.append(orders.AskedLine({"ean13": ["?"]}, Refused(Reason.INVALID_PARAMETER, detail="bad")))
    got = orders.check_availability(ctx, account(demo.RESELLER), orders.CheckAvailability(lines, demo.COLL))
    assert [(x.available, x.unavailable, x.note and x.note.reason, x.refusal and x.refusal.reason) for x in got] == [
        (True, None, None, None), (False, "40", None, None), (False, None, Reason.UNKNOWN_OFFER, None),
        (False, None, None, Reason.INVALID_PRICE), (False, None, None, Reason.INVALID_PARAMETER)]
    assert got[0].date == T0 and got[0].ean13 == EAN and got[4].ean13 is None  # echoed only when plain
    assert refused(orders.check_availability, ctx, account(demo.RESELLER),
                   orders.CheckAvailability(lines, "1" * 13)).reason is Reason.UNKNOWN_COLLECTIVITY


def test_get_orders_lists_lines_with_their_licence_state() -> None:
    ctx = at(T0)
    (ok,) = licence_of(ctx, EAN)
    send_order(ctx, UNAVAILABLE, order_id="ORD2")
    lending.lend(ctx, loan_request(ctx, ok, "L1"))
    coll = account(demo.COLL)
    found = order_status.get_orders(at(T0 + timedelta(hours=1)), coll,
                                    order_status.GetOrders(since=T0 - timedelta(days=1)))
    assert [x.order_line_id for x in found.lines] == [ok] and found.date == "2026-03-02T11:00:00Z"
    (line,) = found.lines
    assert line.state == order_status.LineState("OK") and line.licence is not None and line.licence.nta == 29
    assert line.loan_url and line.loan_url.startswith(f"http://hub.test/warehouse/licences/{ok}/")
    everything = order_status.get_orders(ctx, coll,
                                         order_status.GetOrders(since=T0 - timedelta(days=1), with_errors=True))
    refused_line = everything.lines[1]
    assert refused_line.state.refusal is not None and refused_line.state.refusal.reason is Reason.CANNOT_BE_SOLD
    assert refused_line.licence is None and refused_line.loan_url is None
    missing = refused(order_status.get_orders, ctx, coll, order_status.GetOrders())
    assert missing.reason is Reason.MISSING_SINCE_OR_ORDER_ID


def test_declare_ip_stores_ranges_and_says_which_were_declared_already() -> None:
    coll = account(demo.COLL)
    assert ips.declare(coll, ips.DeclareIps(["192.0.2.1", "192.0.2.10,192.0.2.20"])).already == []
    again = ips.declare(coll, ips.DeclareIps(["192.0.2.15", "192.0.2.30", "192.0.2.12,192.0.2.20", "192.0.2.1"]))
    assert again.already == ["192.0.2.15", "192.0.2.12,192.0.2.20", "192.0.2.1"]
    assert refused(ips.declare, coll, ips.DeclareIps(["10.0.0.0,10.0.10.0"])).reason is Reason.IP_RANGE_TOO_LARGE
    assert refused(ips.declare, coll, ips.DeclareIps(["10.0.0.1", "999.1.1.1"])).reason is Reason.INVALID_IP_RANGE
    assert ips.declare(account(demo.COLL2), ips.DeclareIps(["192.0.2.1"])).already == []  # per collectivity
    assert ips.declare(coll, ips.DeclareIps(["10.0.0.1"])).already == []  # the refused call stored nothing


def v1(member: str, ean13: str = EAN, **kw: object) -> patron_loans.NewLoan:
    return patron_loans.NewLoan(member_id=member, ean13=ean13, **kw)  # type: ignore[arg-type]


def test_a_patron_loan_is_one_per_medium_and_takes_from_the_licence_that_ends_first() -> None:
    ctx = at(T0)
    (late,) = licence_of(ctx, EAN, order_id="LATE")
    (early,) = licence_of(ctx, EAN, order_id="EARLY", dmd=T0 - timedelta(days=100))
    coll = account(demo.COLL)
    loan, created = patron_loans.create(ctx, coll, v1("M1"))
    assert created and loan.order_line_id == early and loan.origin == "v1" and loan.extra == {"memberId": "M1"}
    assert loan.end_date == T0 + timedelta(days=21)  # the library's default loan days
    again, created = patron_loans.create(at(T0 + timedelta(hours=2)), coll, v1("M1"))
    assert not created and again.loan_id == loan.loan_id  # the patron's active loan of it, as is
    patron = patron_store.get(demo.COLL, "M1")
    assert patron.active == {loan.loan_id: EAN} and patron.day_count == 1 and patron.version == 1
    patron_loans.create(ctx, coll, v1("M2"))
    third, _ = patron_loans.create(ctx, coll, v1("M3"))  # the early licence's two places are taken
    assert third.order_line_id == late
    assert counters(early)[0] == 0 and counters(late)[0] == 1
    views, more = patron_loans.list_loans(ctx, coll, "M1", None, None, 1, 10)
    assert [v.loan.loan_id for v in views] == [loan.loan_id] and not more
    assert refused(patron_loans.create, ctx, coll, v1("M4", "9791000000077")).reason is Reason.MEDIUM_NOT_FOUND


def test_patron_limits_active_by_day_and_by_month_and_a_courtesy_loan_past_them() -> None:
    from lending.services import auth
    from lending.store import accounts

    coll = account(demo.COLL)
    accounts.save(replace(coll, settings={"maxActiveLoans": 2, "maxLoansPerDay": 3, "maxLoansPerMonth": 4}))
    auth.forget()
    coll, ctx = account(demo.COLL), at(T0)
    licence_of(ctx, EAN, ONE, THREE)

    def take(when: Ctx, ean: str) -> str:
        loan, created = patron_loans.create(when, coll, v1("M1", ean))
        assert created
        return loan.loan_id

    first = take(ctx, EAN)
    second = take(ctx, ONE)
    assert refused(patron_loans.create, ctx, coll, v1("M1", THREE)).reason is Reason.PATRON_ACTIVE_LIMIT
    assert refused(patron_loans.create, ctx, coll, v1("M2", ONE)).reason is Reason.ALL_ON_LOAN  # not a limit
    patron_loans.return_loan(ctx, coll, first)  # active loans are counted from the loan records
    take(ctx, THREE)
    patron_loans.return_loan(ctx, coll, second)
    assert refused(patron_loans.create, ctx, coll, v1("M1", EAN)).reason is Reason.PATRON_DAILY_LIMIT
    tomorrow = at(T0 + timedelta(days=1))
    fourth = take(tomorrow, EAN)
    patron_loans.return_loan(tomorrow, coll, fourth)
    assert refused(patron_loans.create, tomorrow, coll, v1("M1", ONE)).reason is Reason.PATRON_MONTHLY_LIMIT
    assert patron_loans.grant_courtesy(coll, "M1") == 1
    courtesy = take(tomorrow, ONE)  # past the limit, once
    assert patron_store.get(demo.COLL, "M1").courtesy == 0
    patron_loans.return_loan(tomorrow, coll, courtesy)
    assert refused(patron_loans.create, tomorrow, coll, v1("M1", ONE)).reason is Reason.PATRON_MONTHLY_LIMIT
    take(at(T0 + timedelta(days=31)), ONE)  # a new month (UTC): counted afresh
    record = patron_store.get(demo.COLL, "M1")
    assert (record.month, record.month_count, record.day_count) == ("2026-04", 1, 1)


def test_a_returned_v1_loan_frees_its_place_and_the_patron_may_borrow_it_again(memory) -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    coll = account(demo.COLL)
    loan, _ = patron_loans.create(ctx, coll, v1("M1", ONE, return_url="https://sigb.example/v1"))
    assert refused(patron_loans.create, ctx, coll, v1("M2", ONE)).reason is Reason.ALL_ON_LOAN
    view = patron_loans.return_loan(at(T0 + timedelta(days=1)), coll, loan.loan_id)
    assert view.loan.loan_id == loan.loan_id and counters(line)[0] == 1
    assert refused(patron_loans.return_loan, ctx, coll, loan.loan_id).reason is Reason.LOAN_RETURNED
    # its callback event on the loan's own write (the table's stream hands it over), no queue message
    (returned,) = [x for x in memory.of_type("loan") if x.get("callbackEventId")]
    assert returned["callbackUrl"] == "https://sigb.example/v1" and memory.queue == []
    again, created = patron_loans.create(at(T0 + timedelta(days=1)), coll, v1("M1", ONE))
    assert created and again.loan_id != loan.loan_id


def test_loan_status_tells_each_line_of_the_collectivity_on_its_own() -> None:
    ctx = at(T0)
    ok, sold_out = (x.order_line_id for x in send_order(ctx, EAN, UNAVAILABLE).lines)
    lending.lend(ctx, loan_request(ctx, ok, "L1"))
    collectivity_loans.return_loan(at(T0 + timedelta(hours=1)), account(demo.COLL), ok, "L1")
    (other,) = licence_of(ctx, ONE, order_id="THEIRS", coll=demo.COLL2)
    later = at(T0 + timedelta(hours=2))
    got = order_status.loan_status(later, account(demo.COLL),
                                   order_status.LoanStatus([ok, sold_out, other, ok], with_ended=True))
    assert [x.order_line_id for x in got] == [ok, sold_out, other]  # each line once
    first, refused_line, theirs = got
    assert first.state == order_status.LineState("OK") and first.licence is not None and first.licence.nta == 29
    assert [x.loan_id for x in first.ended or []] == ["L1"]
    assert refused_line.state is not None and refused_line.state.refusal is not None
    assert refused_line.state.refusal.reason is Reason.CANNOT_BE_SOLD and refused_line.licence is None
    assert theirs.refusal is not None and theirs.refusal.reason is Reason.UNKNOWN_LINE and theirs.state is None
    assert order_status.loan_status(later, account(demo.COLL), order_status.LoanStatus([ok]))[0].ended is None
