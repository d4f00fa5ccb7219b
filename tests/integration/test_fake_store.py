"""The store in memory (tests/fakes/store.py) against the real store on moto: one scenario of use cases
and store operations, run on each, must give the same outcomes (refusals, counters, replays, expiries,
renewal bounds, cancellations, patron limits). It keeps the fake honest: a rule the fake gets wrong
shows here, not in a use-case test that trusts it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from lending.domain.licences import Pool
from lending.domain.loans import Loan, LoanState
from lending.domain.refusals import Refused
from lending.domain.values import replace
from lending.local import demo
from lending.services import collectivity_loans, holds, ips, lending, patron_loans, renewals
from lending.store import licences as line_store
from lending.store import loans as loan_store
from lending.store import outbox as outbox_store
from tests.fakes import seed
from tests.fakes.store import memory_store
from tests.helpers import iso
from tests.usecase_helpers import (
    EAN,
    ONE,
    T0,
    THREE,
    account,
    at,
    cancel_order,
    counters,
    licence,
    licence_of,
    loan_request,
)


def scenario() -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def attempt(label: str, call: Callable[..., Any], *args: Any) -> Any:
        try:
            result = call(*args)
        except Refused as r:
            params = {k: "<line>" if k == "order_line_id" else v for k, v in r.params.items()}  # random ids
            seen.append((label, (r.reason.value, params)))
            return None
        except (loan_store.LoanExists, loan_store.LicenceRefused, loan_store.AlreadyEnded,
                loan_store.LoanChanged) as e:
            seen.append((label, (type(e).__name__, sorted(getattr(e, "item", {}) or {}))))
            return None
        seen.append((label, "ok" if not isinstance(result, bool | int | list) else result))
        return result

    ctx, coll = at(T0), account(demo.COLL)
    one, three, ean = licence_of(ctx, ONE, THREE, EAN)
    (old,) = licence_of(ctx, THREE, order_id="OLD", dmd=T0 - timedelta(days=360))  # ends at T0 + 5 days
    lend = lending.lend
    cb = "https://x.example/"
    first = attempt("lend", lend, ctx, loan_request(ctx, one, "L1", ean13=ONE, days=14, callback_url=cb))
    attempt("full", lend, ctx, loan_request(ctx, one, "L2", ean13=ONE))
    attempt("replay", lend, at(T0 + timedelta(minutes=30)),
            loan_request(ctx, one, "L1", ean13=ONE, days=14, callback_url=cb))
    attempt("duplicated", lend, ctx, loan_request(ctx, one, "L1", ean13=ONE, days=13))
    attempt("too long", lend, ctx, loan_request(ctx, ean, "L3", days=60, end=T0 + timedelta(days=60, seconds=1)))
    attempt("longest", lend, ctx, loan_request(ctx, ean, "L4", end=T0 + timedelta(days=60)))
    attempt("wrong ean", lend, ctx, loan_request(ctx, three, "L5", ean13=ONE))
    clamped = attempt("clamped", lend, ctx, loan_request(ctx, old, "L6", ean13=THREE, days=10))
    seen.append(("clamped end", iso(clamped[0].end_date)))
    attempt("licence over", lend, at(T0 + timedelta(days=5)), loan_request(at(T0 + timedelta(days=5)), old, "L7",
                                                                              ean13=THREE))
    for n in range(3):
        made = attempt(f"nta {n}", lend, ctx, loan_request(ctx, three, f"N{n}", ean13=THREE, pool=Pool.ONSITE))
        if made:
            attempt(f"back {n}", lending.return_early, ctx, made[0])
    attempt("nta spent", lend, ctx, loan_request(ctx, three, "N9", ean13=THREE))
    seen.append(("counters", [counters(x) for x in (one, three, ean, old)]))
    # Store operations read directly: the failure and the item it carries.
    ghost = Loan(gln_coll=demo.COLL, loan_id="G", order_line_id="9" * 24, ean13=ONE, gln_distributor="",
                 pool=Pool.DOWNLOAD, created_at=T0, end_date=T0 + timedelta(days=1))
    attempt("store lend unknown line", loan_store.lend, ghost, T0)
    attempt("store lend taken id", loan_store.lend, first[0], T0)
    attempt("store renew stale", loan_store.renew, ghost, T0 + timedelta(days=2), T0)
    # Renewals.
    later = at(T0 + timedelta(days=2))
    l1 = loan_store.get(demo.COLL, "L1")
    attempt("renew not later", renewals.renew, later, l1, l1.end_date)
    attempt("renew too long", renewals.renew, later, l1, T0 + timedelta(days=21, seconds=1))
    attempt("renew ok", renewals.renew, later, l1, T0 + timedelta(days=21))
    attempt("renew stale", loan_store.renew, first[0], T0 + timedelta(days=20), T0 + timedelta(days=2))
    attempt("renew past licence", renewals.renew, ctx, clamped[0], T0 + timedelta(days=6))
    # Early return, expiry, ended loans.
    attempt("return", collectivity_loans.return_loan, later, coll, one, "L1")
    attempt("return again", collectivity_loans.return_loan, later, coll, one, "L1")
    attempt("store end again", loan_store.end, l1, LoanState.RETURNED, T0)
    # A place given back to a pool already whole (a drift) is dropped: the counter stays at its size.
    dl, _ = lend(ctx, loan_request(ctx, ean, "D1", days=3))
    attempt("store end clamped", loan_store.end, replace(dl, pool=Pool.OFFSITE), LoanState.RETURNED, T0)
    seen.append(("clamped counters", counters(ean)))
    # L1's event, carried by the loan, pending until its first delivery claim (its id is random)
    seen.append(("outbox pending", [(x["pk"], x["state"], x["gsi2sk"].endswith(x["callbackEventId"]))
                                    for x in outbox_store.pending(iso(T0 + timedelta(days=9)))]))
    attempt("expire early", lending.expire_due, at(T0 + timedelta(days=4)))
    attempt("expire at end", lending.expire_due, at(T0 + timedelta(days=5)))
    attempt("expire", lending.expire_due, at(T0 + timedelta(days=5, seconds=1)))
    attempt("ended", lambda: [x.loan_id for x in lending.ended_loans(
        at(T0 + timedelta(days=6)), coll, lending.EndedLoans(since=T0))])
    seen.append(("counters after", [counters(x) for x in (one, three, ean, old)]))
    # Orders, IPs, v1 patrons.
    licence_of(ctx, EAN, ONE, order_id="UNUSED")
    for order_id in ("ORD1", "UNUSED"):
        attempt(f"cancel {order_id}", lambda o=order_id: [  # each line: cancelled, or why not
            x.refusal.reason.value if x.refusal else "cancelled" for x in cancel_order(ctx, o)])
    seen.append(("cancel missing", line_store.cancel_line("8" * 24, iso(T0), require_unused=True)))
    seen.append(("ips", ips.declare(coll, ips.DeclareIps(["192.0.2.0,192.0.2.9", "192.0.2.1"])).already))
    seen.append(("ips again", ips.declare(coll, ips.DeclareIps(["192.0.2.5", "10.0.0.1"])).already))
    (v1line,) = licence_of(ctx, ONE, order_id="V1")
    made = attempt("v1", lambda: patron_loans.create(ctx, coll, patron_loans.NewLoan("M1", ONE))[1])
    attempt("v1 again", lambda: patron_loans.create(ctx, coll, patron_loans.NewLoan("M1", ONE))[1])
    attempt("v1 other", lambda: patron_loans.create(ctx, coll, patron_loans.NewLoan("M2", ONE))[1])
    seen.append(("v1 made", made))
    seen.append(("v1 counters", counters(v1line)))
    # Holds: a returned place goes to the queue's head (the line's `held`), only they may borrow it, and a
    # cancelled reservation passes the place on, then back to the licence.
    def held() -> list[tuple[int, int]]:
        """(free downloads, held) of ONE's two licences: first the line M1 borrowed from (which of the two
        lent first depends on their random ids), then the other."""
        lines = sorted((one, v1line), key=lambda x: x != m1.order_line_id)
        return [(licence(x).free[Pool.DOWNLOAD], licence(x).held) for x in lines]

    def place(member: str) -> Any:
        view, created = holds.place_hold(ctx, coll, holds.NewHold(member, ONE))
        return view.hold.hold_id if created else f"again, {view.hold.state.value}"

    attempt("hold on loan", place, "M2")  # M2 borrows the title already
    h4 = attempt("hold M4", place, "M4")
    h5 = attempt("hold M5", place, "M5")
    attempt("hold M4 again", place, "M4")
    m1 = patron_loans.create(ctx, coll, patron_loans.NewLoan("M1", ONE))[0]
    attempt("return to hold", lambda: patron_loans.return_loan(ctx, coll, m1.loan_id).loan.state.value)
    seen.append(("held", held()))
    attempt("cancel held line", lambda: line_store.cancel_line(m1.order_line_id, iso(T0), require_unused=True) is None)
    attempt("v1 M5 before M4", lambda: patron_loans.create(ctx, coll, patron_loans.NewLoan("M5", ONE))[1])
    m4 = attempt("v1 M4 reserved", lambda: patron_loans.create(ctx, coll, patron_loans.NewLoan("M4", ONE))[0])
    seen.append(("claimed", held(), holds.get_hold(ctx, coll, h4).hold.state.value))
    attempt("return to M5", lambda: patron_loans.return_loan(ctx, coll, m4.loan_id).loan.state.value)
    seen.append(("reserved", held(), holds.get_hold(ctx, coll, h5).hold.state.value))
    attempt("cancel M5", lambda: holds.cancel_hold(ctx, coll, h5).hold.state.value)
    attempt("cancel M5 again", lambda: holds.cancel_hold(ctx, coll, h5))
    seen.append(("freed", held()))
    return seen


def test_the_fake_store_and_moto_agree_on_one_scenario(aws: dict[str, str]) -> None:
    on_moto = scenario()
    with memory_store():
        seed.load()
        in_memory = scenario()
    assert [x for x in in_memory if x not in on_moto] == [] and in_memory == on_moto
    assert ("full", ("pool_full", {"pool": Pool.DOWNLOAD})) in on_moto  # the scenario did reach its refusals
    assert len(on_moto) > 40
