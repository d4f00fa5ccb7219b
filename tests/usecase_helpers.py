"""Calling the use cases directly (no door): typed requests built from the demo parties, at an injected time.
They run on whichever store is installed: the fake (`memory` fixture) or moto (`aws`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from lending.domain.accounts import Account
from lending.domain.licences import Licence, Pool
from lending.domain.loans import WITHIN_THE_HOUR, Replay, fingerprint
from lending.domain.refusals import Refused
from lending.domain.values import replace
from lending.local import demo
from lending.services import auth, lending, orders
from lending.services.context import Ctx
from lending.store import licences as line_store
from tests.helpers import iso

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
EAN = "9791000000015"  # 2 downloads, 1 on-site, 1 off-site, 30 accesses, 60 days at most
ONE = "9791000000022"  # 1 download, 10 accesses, 21 days at most
THREE = "9791000000039"  # 5 downloads, 3 accesses, 14 days at most
UNAVAILABLE = "9791000000046"


def at(when: datetime) -> Ctx:
    return Ctx(now=when, base_url="http://hub.test")


def account(gln: str) -> Account:
    found = auth.account(gln)
    assert found is not None, gln
    return found


def send_order(ctx: Ctx, *eans: str, order_id: str = "ORD1", dmd: datetime | None = None,
               coll: str = demo.COLL, **line_over: Any) -> orders.OrderResult:
    """sendOrder of one line per EAN (demo prices), as typed requests (the PNB door's decoding aside)."""
    prices = {ean: (ttc, ht) for ean, _, _, ttc, ht, *_ in demo.CATALOGUE}
    lines = []
    for e in eans:
        ttc, ht = prices.get(e, (2400, 2275))
        line = orders.OrderLine(ean13=e, gln_distributor=demo.DISTRIBUTOR, unit_price=ttc, unit_price_ht=ht,
                                currency="EUR", dmd_date=dmd or ctx.now - timedelta(days=1))
        line = replace(line, **line_over)
        sent = {"ean13": e, "glnDistributor": demo.DISTRIBUTOR, "unitPrice": ttc, "currency": "EUR", "quantity": 1}
        lines.append(orders.SentLine(sent, line))
    req = orders.SendOrder(gln_coll=coll, order_id=order_id, order_id_coll="COLL1", reseller_country="FR",
                           coll_country="FR", lines=lines)
    return orders.send_order(ctx, account(demo.RESELLER), req)


def licence_of(ctx: Ctx, *eans: str, **kw: Any) -> list[str]:
    """Order lines of `eans` that must all be OK: their orderLineIds."""
    answer = send_order(ctx, *eans, **kw)
    assert all(x.refusal is None for x in answer.lines), answer
    return [x.order_line_id for x in answer.lines]


def cancel_order(ctx: Ctx, order_id: str, *line_ids: str) -> list[orders.CancelledLine]:
    return orders.cancel_order(ctx, account(demo.RESELLER), orders.CancelOrder(order_id, list(line_ids) or None))


def loan_request(ctx: Ctx, line_id: str, loan_id: str, ean13: str = EAN, days: float = 14, pool: Pool = Pool.DOWNLOAD,
                 callback_url: str | None = None, replay: Replay = WITHIN_THE_HOUR, coll: str = demo.COLL,
                 end: datetime | None = None) -> lending.LoanRequest:
    """A loanBook as its door builds it: the fingerprint is every parameter of the request."""
    requested = end or ctx.now + timedelta(days=days)
    fp = fingerprint("loanEndDate", coll, line_id, loan_id, ean13, pool.value, iso(requested), callback_url or "")
    return lending.LoanRequest(coll=account(coll), order_line_id=line_id, loan_id=loan_id, ean13=ean13, pool=pool,
                               requested_end=requested, fingerprint=fp, callback_url=callback_url, replay=replay)


def licence(line_id: str, now: datetime = T0) -> Licence:
    """The licence as it stands at `now` (a lapsed loan's place is free: docs/cost.md)."""
    item = line_store.get_line(line_id)
    assert item is not None and line_store.is_licence(item)
    return line_store.licence(item, now)


def counters(line_id: str, now: datetime = T0) -> tuple[int, int, int, int]:
    """(free downloads, free on-site, free off-site, accesses left) of a licence at `now`."""
    lic = licence(line_id, now)
    return lic.free[Pool.DOWNLOAD], lic.free[Pool.ONSITE], lic.free[Pool.OFFSITE], lic.nta


def refused(call: Callable[..., Any], *args: Any, **kw: Any) -> Refused:
    """The refusal `call` raises (the test fails if it raises none)."""
    try:
        call(*args, **kw)
    except Refused as r:
        return r
    raise AssertionError(f"{getattr(call, '__name__', call)} was not refused")
