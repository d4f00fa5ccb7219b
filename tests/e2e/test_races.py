"""Concurrency proofs: many clients race one licence on the lock-serialised emulator, then the counters
are checked against the loan records (reconcile). The emulator serialises requests, so what decides
every race here is our conditional writes, not moto's luck."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from lending.local import demo
from lending.services import lending
from lending.services.context import Ctx
from lending.store import loans as loan_store
from tests.helpers import coll_auth, line, loan_body, order_body

CLIENTS = 64
DIST = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(url, json=body, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _order(stack: Any, ean13: str) -> str:
    answer = _post(f"{stack.url}/v2/pnb-numerique/sendOrder", order_body(line(ean13)))
    assert answer["returnStatus"] == "OK"
    return str(answer["orderResponseLine"][0]["orderLineId"])


def _race(stack: Any, bodies: list[dict[str, Any]], service: str = "loanBook") -> list[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(lambda b: _post(f"{stack.url}/v2/pnb-numerique/{service}", b), bodies))


def _status(stack: Any, lid: str) -> dict[str, Any]:
    return _post(f"{stack.url}/v2/pnb-numerique/getLoanStatus", {**coll_auth(), "orderLineId": [lid]})[
        "loanResponseLine"
    ][0]


def _clean(lid: str) -> None:
    _, drifts = lending.reconcile()
    assert [d for d in drifts if d.order_line_id == lid] == []


def test_64_clients_race_for_two_download_places(stack: Any) -> None:
    lid = _order(stack, "9791000000015")  # 2 simultaneous downloads, NTA 30
    answers = _race(stack, [loan_body(lid, f"RACE{i}") for i in range(CLIENTS)])
    outcomes = Counter(a["returnStatus"] for a in answers)
    assert outcomes == {"OK": 2, "MAX_SIMULTANEOUS_LOAN_REACHED": CLIENTS - 2}
    st = _status(stack, lid)
    assert (st["nus1"], st["nta"]) == (0, 28)
    active = [x for x in loan_store.of_line(lid) if x.state.value == "ACTIVE"]
    assert sorted(x.loan_id for x in active) == sorted(a["loanId"] for a in answers if a["returnStatus"] == "OK")
    _clean(lid)


def test_64_clients_race_until_nta_is_spent(stack: Any) -> None:
    lid = _order(stack, "9791000000039")  # 5 places but only 3 accesses in all
    answers = _race(stack, [loan_body(lid, f"NRACE{i}", ean13="9791000000039", days=7) for i in range(CLIENTS)])
    outcomes = Counter(a["returnStatus"] for a in answers)
    assert outcomes == {"OK": 3, "MAX_LOAN_QUANTITY_REACHED": CLIENTS - 3}
    st = _status(stack, lid)
    assert (st["nta"], st["nus1"]) == (0, 0)
    assert len(loan_store.of_line(lid)) == 3
    _clean(lid)


def test_identical_requests_racing_give_one_loan(stack: Any) -> None:
    lid = _order(stack, "9791000000015")
    body = loan_body(lid, "TWIN1")
    answers = _race(stack, [body] * 16)
    assert {a["returnStatus"] for a in answers} == {"OK"}
    assert len({a["link"]["url"] for a in answers}) == 1
    assert _status(stack, lid)["nta"] == 29
    _clean(lid)


def test_return_against_return(stack: Any) -> None:
    lid = _order(stack, "9791000000015")
    assert _post(f"{stack.url}/v2/pnb-numerique/loanBook", loan_body(lid, "RR1"))["returnStatus"] == "OK"
    answers = _race(stack, [{**DIST, "orderLineId": lid, "loanId": "RR1"}] * 32, service="endLoan")
    assert Counter(a["returnStatus"] for a in answers) == {"OK": 1, "ACCES_DENIED": 31}
    assert _status(stack, lid)["nus1"] == 2  # freed exactly once
    _clean(lid)


def test_return_against_expiry(stack: Any) -> None:
    lid = _order(stack, "9791000000015")
    now = datetime.now(UTC)
    for i in range(2):
        _post(f"{stack.url}/v2/pnb-numerique/loanBook", loan_body(lid, f"RE{i}", days=1))
    loans = {x.loan_id: x for x in loan_store.of_line(lid)}
    # Returns judged just before the end, expiry judged just after: both are legitimate, only one may win.
    before, after = Ctx(now=now + timedelta(hours=23)), Ctx(now=now + timedelta(days=1, hours=1))

    def give_back(loan_id: str) -> str:
        try:
            lending.return_early(before, loans[loan_id])
            return "returned"
        except Exception as e:  # Refused: already ended
            return type(e).__name__

    with ThreadPoolExecutor(max_workers=8) as pool:
        # The expiry job's own step, aimed at these two loans only (the stack is shared with other tests).
        futures = [
            pool.submit(give_back, "RE0"),
            pool.submit(give_back, "RE1"),
            *[pool.submit(lending.expire, after, loans[f"RE{i % 2}"]) for i in range(6)],
        ]
        results = [f.result() for f in futures]
    states = Counter(x.state.value for x in loan_store.of_line(lid))
    assert states["ACTIVE"] == 0 and states["RETURNED"] + states["EXPIRED"] == 2
    assert results[:2].count("returned") == states["RETURNED"]
    assert sum(r for r in results[2:] if isinstance(r, int)) == states["EXPIRED"]
    assert _status(stack, lid)["nus1"] == 2
    _clean(lid)


def test_64_clients_race_for_two_places_freed_by_lapsed_loans(stack: Any) -> None:
    """The seat write path: both places of the line are held by loans whose end has passed (nothing was
    written at their end). Each racing loanBook drops the lapsed seats it read, on condition they are still
    there: exactly two lend, each lapsed place is given once, and the line's seats and counters match the
    loan records (reconcile)."""
    from lending.domain.licences import Pool
    from lending.domain.loans import Loan
    from lending.store import licences as line_store

    lid = _order(stack, "9791000000015")  # 2 simultaneous downloads, NTA 30
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=12)  # the line's window began a day ago
    for i in range(2):
        loan_store.lend(Loan(gln_coll=demo.COLL, loan_id=f"LAPSED{i}", order_line_id=lid, ean13="9791000000015",
                             gln_distributor=demo.DISTRIBUTOR, pool=Pool.DOWNLOAD, created_at=past,
                             end_date=past + timedelta(hours=6), fingerprint=f"lapsed{i}"), past)
    assert (_status(stack, lid)["nus1"], _status(stack, lid)["nta"]) == (2, 28)  # free at their end
    answers = _race(stack, [loan_body(lid, f"LRACE{i}") for i in range(CLIENTS)])
    outcomes = Counter(a["returnStatus"] for a in answers)
    assert outcomes == {"OK": 2, "MAX_SIMULTANEOUS_LOAN_REACHED": CLIENTS - 2}
    st = _status(stack, lid)
    assert (st["nus1"], st["nta"]) == (0, 26)
    item = line_store.get_line(lid)
    assert item is not None
    won = sorted(a["loanId"] for a in answers if a["returnStatus"] == "OK")
    assert sorted(item["loans"]) == won and item["dlFree"] == 0
    _clean(lid)
