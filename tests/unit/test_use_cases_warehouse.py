"""The warehouse use cases (services.warehouse_loans: lend by loanUrl, return by fulfillment link) on the
store in memory, with an injected clock: typed requests in, typed results out, refusals as reasons (the
door's table words them; tests/integration/test_warehouse.py covers the wire)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from lending.domain.licences import Pool
from lending.domain.loans import LoanState, fingerprint
from lending.domain.refusals import Reason
from lending.services import warehouse_loans as uses
from lending.services.context import Ctx
from lending.store import licences as line_store
from lending.store import loans as loan_store
from tests.usecase_helpers import EAN, ONE, T0, at, counters, licence_of

pytestmark = pytest.mark.usefixtures("memory")
NOTIFY = "https://sigb.example/notify"


def token_of(line: str) -> str:
    item = line_store.get_line(line)
    assert item is not None
    return str(item["lendingToken"])


def url_loan(line: str, transaction: str = "T1", token: str | None = None, pool: Pool = Pool.DOWNLOAD,
             expire_at: datetime | None = None, duration: int | None = 7, **kw: Any) -> uses.UrlLoan:
    fields: dict[str, Any] = {
        "order_line_id": line, "token": token_of(line) if token is None else token, "pool": pool,
        "loan_id": f"W{transaction}", "fingerprint": fingerprint("warehouse", line, transaction, duration, expire_at),
        "regeneration": expire_at is None, "expire_at": expire_at, "duration": duration, "max_days": 59,
        "marks": {"borrowerId": "B1", "transactionId": transaction, "medium": "download"}, "notify_url": NOTIFY}
    return uses.UrlLoan(**{**fields, **kw})


def reasons(result: uses.UrlLoanResult) -> set[Reason]:
    return {r.reason for r in result.refusals}


def test_a_loan_url_lends_once_and_a_retry_gets_the_same_link() -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    first = uses.lend_by_url(ctx, url_loan(line))
    assert first.loan is not None and not first.replayed and not first.refusals
    assert first.loan.end_date == T0 + timedelta(days=7) and first.loan.origin == "warehouse"
    assert first.loan.callback_url == NOTIFY and first.loan.extra["transactionId"] == "T1"
    assert first.url.startswith("http://hub.test/") and "/fulfillment/" in first.url
    assert counters(line) == (1, 1, 1, 29)
    # The lending system retries its transaction at will: the same loan and link, nothing taken.
    again = uses.lend_by_url(at(T0 + timedelta(days=2)), url_loan(line))
    assert again.replayed and again.loan == first.loan and again.url == first.url
    assert counters(line) == (1, 1, 1, 29)
    # The same transaction with other parameters is on loan already; without expire_at it is a regeneration.
    other = uses.lend_by_url(ctx, url_loan(line, duration=8, expire_at=T0 + timedelta(days=5)))
    assert other.loan is None and reasons(other) == {Reason.DUPLICATED}
    regen = uses.lend_by_url(ctx, url_loan(line, duration=8))
    assert regen.replayed and regen.loan == first.loan


def test_a_bad_token_or_an_unknown_line_refuses_the_url_alone() -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    for req in (url_loan(line, token="x" * 32), url_loan(line, token=""), url_loan(line, order_line_id="0" * 24),
                url_loan(line, token="x" * 32, invalid=True)):
        result = uses.lend_by_url(ctx, req)
        assert result.link_refused and result.loan is None and reasons(result) == {Reason.UNKNOWN_LINE}
    assert counters(line) == (2, 1, 1, 30)


def test_every_refusal_of_the_licence_is_gathered_and_nothing_is_taken() -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)  # 1 download, 21 days at most
    too_long = uses.lend_by_url(ctx, url_loan(line, duration=30))
    assert too_long.loan is None and reasons(too_long) == {Reason.OVER_MAX_DURATION}
    # The door's own errors: refusals still gathered (every error is reported), nothing lent.
    door_said = uses.lend_by_url(ctx, url_loan(line, invalid=True))
    assert door_said.loan is None and door_said.refusals == [] and counters(line)[0] == 1
    # Its end already refused by the door: the licence's bound is not said again.
    assert uses.lend_by_url(ctx, url_loan(line, duration=30, invalid=True, end_invalid=True)).refusals == []
    # The download place taken, a second transaction is told the pool is full (by the store's condition).
    assert uses.lend_by_url(ctx, url_loan(line, "T1")).loan is not None
    full = uses.lend_by_url(ctx, url_loan(line, "T2"))
    assert full.loan is None and [(r.reason, r.params) for r in full.refusals] == [
        (Reason.POOL_FULL, {"pool": Pool.DOWNLOAD})]
    # A medium with no place at all on this licence is that pool full, said without trying.
    onsite = uses.lend_by_url(ctx, url_loan(line, "T3", pool=Pool.ONSITE))
    assert [(r.reason, r.params) for r in onsite.refusals] == [(Reason.POOL_FULL, {"pool": Pool.ONSITE})]


def test_a_place_of_an_overdue_loan_is_reclaimed() -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, ONE)
    old = uses.lend_by_url(ctx, url_loan(line, "T1", duration=2)).loan
    assert old is not None
    later = at(T0 + timedelta(days=3))
    fresh = uses.lend_by_url(later, url_loan(line, "T2"))
    assert fresh.loan is not None and not fresh.replayed
    # its end freed the place with nothing written: the loan reads as expired from then on
    assert loan_store.get(old.gln_coll, old.loan_id).at(later.now).state is LoanState.EXPIRED  # type: ignore[union-attr]


def test_the_fulfillment_link_returns_once_and_answers_alike_after() -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    lent = uses.lend_by_url(ctx, url_loan(line))
    assert lent.loan is not None
    token = lent.url.rsplit("/", 1)[1]
    later = at(T0 + timedelta(days=1))
    back = uses.return_by_link(later, token)
    assert back.refusal is None and not back.replayed and back.loan is not None
    assert back.loan.state is LoanState.RETURNED and counters(line) == (2, 1, 1, 29)
    again = uses.return_by_link(later, token)
    assert again.refusal is None and again.replayed
    assert counters(line) == (2, 1, 1, 29)
    assert uses.return_by_link(later, "garbage").refusal.reason is Reason.INVALID_LINK  # type: ignore[union-attr]


def test_a_link_to_an_ended_or_foreign_loan_is_refused() -> None:
    ctx = at(T0)
    (line,) = licence_of(ctx, EAN)
    lent = uses.lend_by_url(ctx, url_loan(line, duration=2))
    assert lent.loan is not None
    token = lent.url.rsplit("/", 1)[1]
    expired = uses.return_by_link(at(T0 + timedelta(days=3)), token)
    assert expired.loan is None and expired.refusal is not None
    assert expired.refusal.reason in (Reason.ALREADY_ENDED, Reason.INVALID_LINK)
    # A loan of another door behind a genuine link: as unknown here as none.
    from lending.services import lending
    from tests.usecase_helpers import loan_request

    pnb, _ = lending.lend(ctx, loan_request(ctx, line, "PNB1"))
    from lending.services.links import sign_loan_link

    foreign = sign_loan_link(ctx.base_url, pnb.gln_coll, pnb.loan_id, pnb.created_at, follows_loan=True)
    assert uses.return_by_link(ctx, foreign.rsplit("/", 1)[1]).refusal.reason is Reason.LOAN_NOT_FOUND  # type: ignore[union-attr]


def test_the_requested_end_is_the_earliest_asked_within_the_spec() -> None:
    now = T0
    assert uses.requested_end(None, None, now, 21, 59) == now + timedelta(days=21)
    assert uses.requested_end(None, None, now, 60, 59) == now + timedelta(days=59)
    assert uses.requested_end(now + timedelta(days=5), 3, now, 60, 59) == now + timedelta(days=3)
    assert uses.requested_end(now + timedelta(days=2), 3, now, 60, 59) == now + timedelta(days=2)


def test_the_ctx_clock_is_the_only_time() -> None:
    # Two calls at the same injected time give the same loan end: nothing reads the wall clock.
    ctx = Ctx(now=T0, base_url="http://hub.test")
    (line,) = licence_of(ctx, EAN)
    a = uses.lend_by_url(ctx, url_loan(line, "T1", duration=None, expire_at=T0 + timedelta(days=4)))
    assert a.loan is not None and a.loan.end_date == T0 + timedelta(days=4)
