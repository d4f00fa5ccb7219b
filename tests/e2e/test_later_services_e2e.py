"""returnLoan, extendLoan and getUserAgent over HTTP on the local stack: JSON bodies on the older path with PMB's
parameters (login/password, glnContractor = its login, `+0100` dates; PMB's own bytes, Basic and form bodies on
the REST binding, are tests/e2e/test_pmb_wire.py), over SOAP with a stock client
(zeep, every answer checked against pnb.xsd); and the renewal racing a return and an expiry, round after
round, never both applied, the counters reconciled clean after."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from zeep.plugins import Plugin

from lending.local import demo
from lending.local.receiver import Receiver
from lending.notify.signing import verify
from lending.pnb.soap.schema import MODEL
from lending.services import lending
from lending.services.context import Ctx
from lending.store import loans as loan_store
from lending.store import table
from tests.helpers import coll_auth, iso, line, loan_body, order_body

pytestmark = pytest.mark.e2e
PMB = {"login": demo.COLL, "password": demo.COLL_PASSWORD, "glnContractor": demo.COLL}
ROUNDS = 24


def post(stack: Any, service: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(f"{stack.url}/v2/pnb-numerique/{service}", json=body, timeout=60)
    assert r.status_code == 200, r.text
    return dict(r.json())


def order(stack: Any, ean13: str = "9791000000015") -> str:
    got = post(stack, "sendOrder", order_body(line(ean13)))
    assert got["returnStatus"] == "OK", got
    return str(got["orderResponseLine"][0]["orderLineId"])


def paris(when: datetime) -> str:
    """As PMB writes a date (PHP's DateTime::ISO8601, a basic offset), here always at +0100."""
    return (when + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+0100")


def nus1_nta(stack: Any, lid: str) -> tuple[int, int]:
    st = post(stack, "getLoanStatus", {**coll_auth(), "orderLineId": [lid]})["loanResponseLine"][0]
    return st["nus1"], st["nta"]  # the REST rendering (Java beans)


def clean(lid: str) -> None:
    _, drifts = lending.reconcile()
    assert [d for d in drifts if d.order_line_id == lid] == []


def test_pmb_returns_and_renews_over_json(stack: Any) -> None:
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        _pmb_returns_and_renews(stack, rx)


def _pmb_returns_and_renews(stack: Any, rx: Receiver) -> None:
    lid = order(stack)
    now = datetime.now(UTC).replace(microsecond=0)
    for loan_id in ("PMB1", "PMB2"):  # PMB's callbackUrl is its own return URL for the loan
        got = post(stack, "loanBook", loan_body(lid, loan_id, days=14, callbackUrl=f"{rx.url}/pmb/{loan_id}"))
        assert got["returnStatus"] == "OK"
    assert nus1_nta(stack, lid) == (0, 28)

    agents = post(stack, "getUserAgent", PMB)
    assert agents["returnStatus"] == "OK"
    assert {"userAgentId", "appName"} <= set(agents["listUserAgent"][0])  # what PMB's device list reads

    new_end = now + timedelta(days=28)
    renewed = post(stack, "extendLoan", {**PMB, "orderLineId": lid, "loanId": "PMB1", "date": paris(new_end)})
    assert (renewed["returnStatus"], renewed["loanEndDate"]) == ("OK", iso(new_end))
    assert nus1_nta(stack, lid) == (0, 28)  # no new access
    again = post(stack, "extendLoan", {**PMB, "orderLineId": lid, "loanId": "PMB1", "date": paris(new_end)})
    assert again["returnStatus"] == "INVALID_ARGUMENTS" and iso(new_end) in again["returnMessage"]

    returned = post(stack, "returnLoan", {**PMB, "orderLineId": lid, "loanId": "PMB2"})
    assert returned["returnStatus"] == "OK"
    assert nus1_nta(stack, lid) == (1, 28)  # the place at once
    ended = post(stack, "getEndedLoans", {**coll_auth(), "loanId": ["PMB1", "PMB2"]})
    assert [x["loanId"] for x in ended["loanEndedResponseLine"]] == ["PMB2"]
    twice = post(stack, "returnLoan", {**PMB, "orderLineId": lid, "loanId": "PMB2"})
    assert (twice["returnStatus"], twice["returnMessage"]) == (
        "ACCES_DENIED", f"The loan with orderlineId '{lid}' and loanId 'PMB2' is already ended")
    late = post(stack, "extendLoan", {**PMB, "orderLineId": lid, "loanId": "PMB2", "date": paris(new_end)})
    assert late["returnStatus"] == "ACCES_DENIED"
    wrong = post(stack, "returnLoan", {**PMB, "password": "nope1", "orderLineId": lid, "loanId": "PMB1"})
    assert (wrong["returnStatus"], wrong["returnMessage"]) == ("AUTHENTICATION_ERROR", "Bad credentials")

    # The return's callback reached the library system, signed, once (the second return sent nothing).
    rx.wait_for(lambda r: len(r) >= 1, timeout=15)
    got = rx.wait_for(lambda r: len(r) >= 2, timeout=1)  # room for a wrong second delivery to show
    assert [r.path for r in got] == ["/pmb/PMB2"]
    assert got[0].signed and verify(demo.COLL_CALLBACK_SECRET, got[0].body, got[0].headers["x-signature"])
    body = got[0].json()
    assert (body["event"], body["loanId"], body["orderLineId"]) == ("loan.returned", "PMB2", lid)
    clean(lid)


class XsdCheck(Plugin):
    """Every answer the stock client receives must be valid against the schema the WSDL carries."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
        answer = body[0]
        assert MODEL.validator.validate(answer), MODEL.validator.error_log
        self.seen.add(etree.QName(answer).localname)
        return envelope, http_headers


def test_a_stock_soap_client_returns_renews_and_lists_reading_apps(stack: Any) -> None:
    check = XsdCheck()
    pnb = zeep.Client(f"{stack.url}/v2/pnb-numerique/soap?wsdl", plugins=[check]).service
    lid = order(stack)
    for loan_id in ("ZRL1", "ZRL2"):
        assert post(stack, "loanBook", loan_body(lid, loan_id, days=10))["returnStatus"] == "OK"
    login = {"login": demo.COLL, "password": demo.COLL_PASSWORD}
    now = datetime.now(UTC).replace(microsecond=0)

    renewed = pnb.extendLoan(**login, glnContractor=demo.COLL, orderLineId=lid, loanId="ZRL1",
                             date=now + timedelta(days=30))
    assert renewed.returnStatus == "OK" and renewed.loanEndDate == now + timedelta(days=30)
    assert renewed.loanId == "ZRL1" and renewed.orderLineId == lid and renewed.requestId
    too_long = pnb.extendLoan(**login, orderLineId=lid, loanId="ZRL1", date=now + timedelta(days=61))
    assert too_long.returnStatus == "INVALID_ARGUMENTS" and "maximum" in too_long.returnMessage

    assert pnb.returnLoan(**login, orderLineId=lid, loanId="ZRL2").returnStatus == "OK"
    twice = pnb.returnLoan(**login, orderLineId=lid, loanId="ZRL2")
    assert (twice.returnStatus, twice.returnMessage) == (
        "ACCES_DENIED", f"The loan with orderlineId '{lid}' and loanId 'ZRL2' is already ended")
    assert pnb.returnLoan(**login, orderLineId=lid, loanId="NOPE").returnStatus == "NOT_FOUND"
    wrong = pnb.returnLoan(login=demo.COLL, password="wrong1", orderLineId=lid, loanId="ZRL1")
    assert (wrong.returnStatus, wrong.returnMessage) == ("AUTHENTICATION_ERROR", "Bad credentials")

    agents = pnb.getUserAgent(**login)
    assert agents.returnStatus == "OK"
    thorium = next(x for x in agents.listUserAgent if x.appName == "Thorium Reader")
    assert (thorium.userAgentId, thorium.drmId, thorium.drmLabel) == ("lcp-thorium-reader", "LCP", "Readium LCP")
    assert "Windows" in thorium.platforms
    assert any(x.drmId == "NONE" for x in agents.listUserAgent)
    assert {"returnLoanResponse", "extendLoanResponse", "getUserAgentResponse"} <= check.seen
    assert nus1_nta(stack, lid) == (1, 28)
    clean(lid)


def _ended_state(gln: str, loan_id: str) -> dict[str, Any]:
    item = table.get(*loan_store.loan_key(gln, loan_id))
    assert item is not None
    return item


def test_renewal_racing_a_return_is_never_both_applied(stack: Any) -> None:
    """Each round: one loan, then at once its return and two renewals (to two different ends). The outcome
    must be a serial one: the renewals that answered OK all landed before the return (the loan's end is the
    latest of theirs, or its own when none did); one that came after it was refused, and wrote nothing."""
    lid = order(stack)
    body = {"login": demo.COLL, "password": demo.COLL_PASSWORD, "orderLineId": lid}
    outcomes: Counter[str] = Counter()
    rng = random.Random(13)
    for i in range(ROUNDS):
        loan_id = f"RACEX{i}"
        assert post(stack, "loanBook", loan_body(lid, loan_id, days=7))["returnStatus"] == "OK"
        original = loan_store.get(demo.COLL, loan_id)
        assert original is not None
        ends = [original.end_date + timedelta(days=d) for d in (5, 9)]
        start = threading.Barrier(3, timeout=30)

        def call(service: str, extra: dict[str, Any], _start: threading.Barrier = start,
                 _lag: float = rng.uniform(0, 0.05), _loan_id: str = loan_id) -> dict[str, Any]:
            _start.wait()
            if service == "returnLoan":
                time.sleep(_lag)  # a return is the quicker call: let the renewals meet it at every point
            return post(stack, service, {**body, "loanId": _loan_id, **extra})

        with ThreadPoolExecutor(max_workers=3) as pool:
            ret = pool.submit(call, "returnLoan", {})
            ext = [pool.submit(call, "extendLoan", {"date": iso(e)}) for e in ends]
            returned, extended = ret.result(), [f.result() for f in ext]
        assert returned["returnStatus"] == "OK"  # nothing else ends this loan
        stored = loan_store.get(demo.COLL, loan_id)
        assert stored is not None and stored.state.value == "RETURNED"
        landed = [e for e, a in zip(ends, extended, strict=True) if a["returnStatus"] == "OK"]
        assert stored.end_date == max(landed, default=original.end_date)
        for a in extended:
            assert a["returnStatus"] in ("OK", "ACCES_DENIED", "INVALID_ARGUMENTS"), a
        # A returned loan is out of the expiry index for good: no renewal wrote it back.
        raw = _ended_state(demo.COLL, loan_id)
        assert "gsi2pk" not in raw and "gsi2sk" not in raw
        outcomes[f"{len(landed)} renewed, then returned"] += 1
    assert nus1_nta(stack, lid) == (2, 30 - ROUNDS)  # every place back, one access per loan
    clean(lid)
    print(dict(outcomes))


def test_renewal_racing_an_expiry_is_never_both_applied(stack: Any) -> None:
    """A renewal judged just before the loan's end against the expiry job judged just after it: either
    the loan runs on to its new end, or it expired and the renewal was refused."""
    lids = [order(stack) for _ in range(4)]  # 4 licences, 2 places each
    now = datetime.now(UTC).replace(microsecond=0)
    for i in range(8):
        assert post(stack, "loanBook", loan_body(lids[i // 2], f"RACEV{i}", days=1))["returnStatus"] == "OK"
    loans = {x.loan_id: x for lid in lids for x in loan_store.of_line(lid)}
    assert len(loans) == 8
    ends = {x: loan.end_date for x, loan in loans.items()}  # renew() moves the end of the loan it is given
    from lending.services import renewals

    before = Ctx(now=now + timedelta(hours=23))
    after = Ctx(now=now + timedelta(days=1, hours=1))

    gates = {x: threading.Barrier(3, timeout=30) for x in loans}  # each loan: its renewal and two expiries
    lags = {x: i * 0.05 for i, x in enumerate(sorted(loans))}

    def renew(loan_id: str) -> str:
        gates[loan_id].wait()
        try:
            renewals.renew(before, loans[loan_id], ends[loan_id] + timedelta(days=3))
            return "renewed"
        except Exception as e:  # Refused: already ended
            return type(e).__name__

    def expire(loan_id: str) -> int:
        gates[loan_id].wait()
        time.sleep(lags[loan_id])  # the renewal (it reads the licence first) is slower: meet it at every point
        return lending.expire(after, loans[loan_id])

    with ThreadPoolExecutor(max_workers=3 * len(loans)) as pool:
        expired = [pool.submit(expire, x) for x in loans for _ in range(2)]
        renewed = {x: pool.submit(renew, x) for x in loans}
        results = {x: f.result() for x, f in renewed.items()}
        expiries = sum(f.result() for f in expired)
    final = {x.loan_id: x for lid in lids for x in loan_store.of_line(lid)}
    for loan_id, loan in final.items():
        if results[loan_id] == "renewed":
            assert loan.state.value == "ACTIVE" and loan.end_date == ends[loan_id] + timedelta(days=3)
        else:
            assert loan.state.value == "EXPIRED" and loan.end_date == ends[loan_id]
    assert expiries == sum(1 for x in final.values() if x.state.value == "EXPIRED")
    print(Counter(results.values()))
    for lid in lids:
        clean(lid)
