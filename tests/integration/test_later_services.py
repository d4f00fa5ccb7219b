"""PNB returnLoan, extendLoan, getUserAgent and the v1 renewal on emulated AWS: every refusal's code and
text (docs/pnb-later-services.md), the counters, the callback written with the return, the links that follow
a renewal, and the expiry that waits for the new end (injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from lending.local import demo
from lending.pnb.json_door import as_bean
from lending.pnb.operations import run
from lending.services import clock, fulfillment, lending
from lending.services.context import Ctx
from lending.store import loans as loan_store
from tests.helpers import coll_auth, invoke, iso, line, loan_body, order_ok, pnb, stored_events
from tests.v1_helpers import KEY, KEY2

pytestmark = pytest.mark.usefixtures("aws")

LOGIN = {"login": demo.COLL, "password": demo.COLL_PASSWORD}
PMB = {**LOGIN, "glnContractor": demo.COLL}  # as PMB's connector sends them
EAN = "9791000000015"  # 2 places, 30 accesses, at most 60 days a loan, a 10-year licence


def at(now: datetime, service: str, body: dict[str, Any]) -> dict[str, Any]:
    """The door's answer at `now`, rendered as the JSON door renders it (counters in lower case)."""
    status, answer = run(service, body, Ctx(now=now, base_url="http://hub.test"))
    assert status == 200, answer
    return dict(as_bean(answer))


def counters(line_id: str, now: datetime | None = None) -> tuple[int, int]:
    body = {**coll_auth(), "orderLineId": [line_id]}
    st = (at(now, "getLoanStatus", body) if now else pnb("getLoanStatus", body))["loanResponseLine"][0]
    return st["nus1"], st["nta"]  # the REST rendering (Java beans)


def outbox(loan_id: str) -> list[dict[str, Any]]:
    return stored_events(loan_id)


def token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_return_loan_is_every_early_return() -> None:
    (lid,) = order_ok()
    pnb("loanBook", loan_body(lid, "RET1", callbackUrl="https://127.0.0.1:9/cb"))
    pnb("loanBook", loan_body(lid, "RET2"))
    assert counters(lid) == (0, 28)
    returned = pnb("returnLoan", {**PMB, "orderLineId": lid, "loanId": "RET1"})
    assert set(returned) == {"requestId", "returnStatus"} and returned["returnStatus"] == "OK"
    assert counters(lid) == (1, 28)  # the place at once; the access stays spent
    ended = pnb("getEndedLoans", {**coll_auth(), "loanId": ["RET1", "RET2"]})
    assert [(x["loanId"], x["orderLineId"]) for x in ended["loanEndedResponseLine"]] == [("RET1", lid)]
    assert [(o["url"], o["body"]["event"]) for o in outbox("RET1")] == [("https://127.0.0.1:9/cb", "loan.returned")]
    twice = pnb("returnLoan", {**LOGIN, "orderLineId": lid, "loanId": "RET1"})
    assert (twice["returnStatus"], twice["returnMessage"]) == (
        "ACCES_DENIED", f"The loan with orderlineId '{lid}' and loanId 'RET1' is already ended")
    assert counters(lid) == (1, 28) and len(outbox("RET1")) == 1  # a second return frees and tells nothing


def test_return_loan_refusals() -> None:
    (lid,) = order_ok()
    pnb("loanBook", loan_body(lid, "RREF1"))
    unknown = pnb("returnLoan", {**LOGIN, "orderLineId": lid, "loanId": "NOPE"})
    assert (unknown["returnStatus"], unknown["returnMessage"]) == (
        "NOT_FOUND", f"No Loan having a line with orderLineId '{lid}' and a loanId 'NOPE' is found")
    no_line = pnb("returnLoan", {**LOGIN, "orderLineId": "1" * 24, "loanId": "RREF1"})
    assert (no_line["returnStatus"], no_line["returnMessage"]) == (
        "NOT_FOUND", f"The orderLineId {'1' * 24} does not exist")
    # Another collectivity: my line is unknown to it, and so is my loan on a line of its own.
    coll2 = {"login": demo.COLL2, "password": demo.COLL2_PASSWORD}
    assert pnb("returnLoan", {**coll2, "orderLineId": lid, "loanId": "RREF1"})["returnMessage"] == (
        f"The orderLineId {lid} does not exist")
    (theirs,) = order_ok(glnColl=demo.COLL2)
    assert pnb("returnLoan", {**coll2, "orderLineId": theirs, "loanId": "RREF1"})["returnStatus"] == "NOT_FOUND"
    wrong = pnb("returnLoan", {**LOGIN, "password": "wrong1", "orderLineId": lid, "loanId": "RREF1"})
    assert (wrong["returnStatus"], wrong["returnMessage"]) == ("AUTHENTICATION_ERROR", "Bad credentials")
    assert pnb("returnLoan", {"orderLineId": lid, "loanId": "RREF1"})["returnStatus"] == "AUTHENTICATION_ERROR"
    reseller = pnb("returnLoan", {"login": demo.RESELLER, "password": demo.RESELLER_PASSWORD, "orderLineId": lid,
                                  "loanId": "RREF1"})
    assert (reseller["returnStatus"], reseller["returnMessage"]) == ("ACCES_DENIED", "Authorization failure")
    stranger = pnb("returnLoan", {**LOGIN, "glnContractor": demo.RESELLER, "orderLineId": lid, "loanId": "RREF1"})
    assert stranger["returnStatus"] == "INVALID_ARGUMENTS" and "glnContractor" in stranger["returnMessage"]
    bad_id = pnb("returnLoan", {**LOGIN, "orderLineId": lid, "loanId": "not-alnum!"})
    assert bad_id["returnStatus"] == "INVALID_ARGUMENTS" and "loanId" in bad_id["returnMessage"]
    assert counters(lid) == (1, 29)  # nothing of that returned the loan
    contractor = pnb("returnLoan", {**LOGIN, "glnContractor": demo.CONTRACTOR, "orderLineId": lid, "loanId": "RREF1"})
    assert contractor["returnStatus"] == "OK"


def test_extend_loan_moves_the_end_and_takes_nothing() -> None:
    (lid,) = order_ok()
    now = datetime.now(UTC).replace(microsecond=0)
    first = at(now, "loanBook", loan_body(lid, "EXT1", days=14, now=now))
    assert counters(lid, now) == (1, 29)
    new_end = now + timedelta(days=21)
    paris = (new_end + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+01:00")  # the same instant, in Paris
    got = at(now + timedelta(days=1), "extendLoan", {**PMB, "orderLineId": lid, "loanId": "EXT1", "date": paris})
    assert {k: v for k, v in got.items() if k != "requestId"} == {
        "orderLineId": lid, "loanId": "EXT1", "loanEndDate": iso(new_end), "returnStatus": "OK"}
    assert counters(lid, now + timedelta(days=1)) == (1, 29)  # no new access, the same place
    assert loan_store.get(demo.COLL, "EXT1").end_date == new_end  # type: ignore[union-attr]
    # A loanBook replay within the hour answers the loan as it now is.
    replay = at(now + timedelta(minutes=30), "loanBook", loan_body(lid, "EXT1", days=14, now=now))
    assert replay["loanEndDate"] == iso(new_end) and replay["link"] == first["link"]
    # The loan's link lives on past the old end, and the expiry job waits for the new one.
    link = token(first["link"]["url"])
    past_old_end = now + timedelta(days=15)
    assert lending.expire_due(Ctx(now=past_old_end)) == 0
    assert isinstance(fulfillment.open_link(link, Ctx(now=past_old_end)), fulfillment.Delivery)
    assert counters(lid, new_end - timedelta(seconds=1)) == (1, 29)  # the seat moved with the end
    assert lending.expire_due(Ctx(now=new_end + timedelta(seconds=1))) == 0  # no hold: nothing to write
    assert loan_store.get(demo.COLL, "EXT1").at(new_end).state.value == "EXPIRED"  # type: ignore[union-attr]
    after = fulfillment.open_link(link, Ctx(now=new_end + timedelta(seconds=2)))
    assert after is fulfillment.Refusal.LOAN_EXPIRED
    assert counters(lid, new_end + timedelta(seconds=2)) == (2, 29)


def test_extend_loan_refusals() -> None:
    (lid,) = order_ok()
    now = datetime.now(UTC).replace(microsecond=0)
    at(now, "loanBook", loan_body(lid, "EREF1", days=14, now=now))
    body = {**LOGIN, "orderLineId": lid, "loanId": "EREF1"}
    same = at(now, "extendLoan", {**body, "date": iso(now + timedelta(days=14))})
    assert (same["returnStatus"], same["returnMessage"]) == (
        "INVALID_ARGUMENTS", f"The parameter date is invalid: the new loan end date must be after the current one "
                             f"({iso(now + timedelta(days=14))})")
    too_long = at(now, "extendLoan", {**body, "date": iso(now + timedelta(days=60, seconds=1))})
    assert (too_long["returnStatus"], too_long["returnMessage"]) == (
        "INVALID_ARGUMENTS", "The parameter date is invalid. The loan duration is over maximum autorized limit "
                             "(60 days from the loan's start)")
    # Judged from the loan's start, not from now: 10 days in, 60 days in all is the most. Ends are kept to
    # the second: a fraction is dropped.
    exact = (now + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%S.999999Z")
    assert at(now + timedelta(days=10), "extendLoan", {**body, "date": exact})["loanEndDate"] == (
        iso(now + timedelta(days=60)))
    missing = at(now, "extendLoan", body)
    assert (missing["returnStatus"], missing["returnMessage"]) == ("INVALID_ARGUMENTS",
                                                                   "The parameter date is mandatory")
    bad = at(now, "extendLoan", {**body, "date": "2026-13-01T00:00:00Z"})
    assert bad["returnStatus"] == "INVALID_ARGUMENTS" and "date" in bad["returnMessage"]
    nope = at(now, "extendLoan", {**body, "loanId": "NOPE", "date": iso(now + timedelta(days=20))})
    assert nope["returnStatus"] == "NOT_FOUND"
    coll2 = {"login": demo.COLL2, "password": demo.COLL2_PASSWORD}
    assert at(now, "extendLoan", {**body, **coll2, "date": iso(now + timedelta(days=20))})["returnMessage"] == (
        f"The orderLineId {lid} does not exist")
    assert at(now, "returnLoan", body)["returnStatus"] == "OK"
    returned = at(now, "extendLoan", {**body, "date": iso(now + timedelta(days=70))})
    assert (returned["returnStatus"], returned["returnMessage"]) == (
        "ACCES_DENIED", f"The loan with orderlineId '{lid}' and loanId 'EREF1' is already ended")
    assert loan_store.get(demo.COLL, "EREF1").end_date == now + timedelta(days=60)  # type: ignore[union-attr]


def test_extend_loan_refused_when_the_licence_ends_first_or_the_loan_is_overdue() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    # 9791000000039: a 365-day licence, 14 days a loan at most; bought 360 days ago, it ends in 5 days.
    (lid,) = order_ok(line("9791000000039", dmd=now - timedelta(days=360)))
    at(now, "loanBook", loan_body(lid, "LIC1", ean13="9791000000039", days=2, now=now))
    body = {**LOGIN, "orderLineId": lid, "loanId": "LIC1"}
    first = at(now, "extendLoan", {**body, "date": iso(now + timedelta(days=6))})
    assert (first["returnStatus"], first["returnMessage"]) == (
        "INVALID_ARGUMENTS", f"The parameter date is invalid: the licence ends on "
                             f"{iso(now + timedelta(days=5))}, before it")
    assert at(now, "extendLoan", {**body, "date": iso(now + timedelta(days=5))})["returnStatus"] == "OK"
    # Overdue (its end has passed, the expiry job has not come yet): over, and its place freed on the way.
    later = now + timedelta(days=5, seconds=1)
    assert counters(lid, now)[0] == 4
    overdue = at(later, "extendLoan", {**body, "date": iso(later + timedelta(days=1))})
    assert overdue["returnStatus"] == "ACCES_DENIED"
    assert loan_store.get(demo.COLL, "LIC1").state.value == "EXPIRED"  # type: ignore[union-attr]
    _, drifts = lending.reconcile()
    assert [d for d in drifts if d.order_line_id == lid] == []


def test_get_user_agent() -> None:
    got = pnb("getUserAgent", PMB)
    assert got["returnStatus"] == "OK"
    names = {x["appName"]: x for x in got["listUserAgent"]}
    assert names["Thorium Reader"]["userAgentId"] == "lcp-thorium-reader" and names["Thorium Reader"]["drmId"] == "LCP"
    assert any(x["drmId"] == "NONE" for x in got["listUserAgent"])
    reseller = pnb("getUserAgent", {"login": demo.RESELLER, "password": demo.RESELLER_PASSWORD})
    assert reseller["listUserAgent"] == got["listUserAgent"]
    assert pnb("getUserAgent", {})["returnStatus"] == "AUTHENTICATION_ERROR"
    distributor = pnb("getUserAgent", {"login": demo.DISTRIBUTOR, "password": demo.DISTRIBUTOR_PASSWORD})
    assert distributor["returnStatus"] == "ACCES_DENIED"


def v1(method: str, path: str, body: Any = None, key: dict[str, str] = KEY) -> tuple[int, Any]:
    return invoke(method, path, body, key)


def test_v1_renewal_by_put_expires_at() -> None:
    order_ok(line(EAN))
    start = datetime.now(UTC).replace(microsecond=0)
    with clock.frozen(start):
        status, made = v1("POST", f"/v1/media/{EAN}/loans.json", {"member_id": "renewer",
                                                                   "expires_at": iso(start + timedelta(days=14))})
    assert status == 201
    loan_id, link = made["id"], token(made["url"])
    with clock.frozen(start + timedelta(days=2)):
        status, renewed = v1("PUT", f"/v1/loans/{loan_id}.json", {"expires_at": iso(start + timedelta(days=30))})
        assert status == 200 and renewed["expires_at"] == iso(start + timedelta(days=30)), renewed
        assert renewed["id"] == loan_id and renewed["state"] == "active"
        form = urlencode({"expires_at": iso(start + timedelta(days=31))})
        status, _ = invoke("PUT", f"/v1/loans/{loan_id}", form,
                           {**KEY, "content-type": "application/x-www-form-urlencoded"})
        assert status == 200
        assert v1("PUT", f"/v1/loans/{loan_id}.json", {}) == (400, {
            "errors": ["missing_expires_at"], "messages": ["expires_at is required: the loan's new end."]})
        assert v1("PUT", f"/v1/loans/{loan_id}.json", {"expires_at": "soon"})[1]["errors"] == ["invalid_expires_at"]
        assert v1("PUT", f"/v1/loans/{loan_id}.json", {"expires_at": iso(start + timedelta(days=20))}) == (400, {
            "errors": ["expires_at_not_later"], "messages": ["expires_at must be after the loan's current end."]})
        status, over = v1("PUT", f"/v1/loans/{loan_id}.json", {"expires_at": iso(start + timedelta(days=61))})
        assert (status, over["errors"]) == (403, ["loan_duration_over_maximum"])
        assert v1("PUT", f"/v1/loans/{loan_id}.json", {"expires_at": iso(start + timedelta(days=40))}, KEY2)[0] == 404
        assert v1("PUT", "/v1/loans/nope.json", {"expires_at": iso(start + timedelta(days=40))})[0] == 404
    with clock.frozen(start + timedelta(days=20)):  # past the first end: the loan's url still opens
        assert invoke("GET", f"/fulfillment/{link}")[0] == 200
        listed = v1("GET", "/v1/loans.json?member_id=renewer")[1]["loans"]
        assert [x["expires_at"] for x in listed] == [iso(start + timedelta(days=31))]
        assert v1("DELETE", f"/v1/loans/{loan_id}")[0] == 200
        status, gone = v1("PUT", f"/v1/loans/{loan_id}.xml", {"expires_at": iso(start + timedelta(days=40))})
        assert status == 403 and "loan_returned" in gone


def test_a_pnb_loan_is_not_renewed_through_v1() -> None:
    (lid,) = order_ok()
    pnb("loanBook", loan_body(lid, "PNBONLY1"))
    assert v1("PUT", "/v1/loans/PNBONLY1.json", {"expires_at": iso(datetime.now(UTC) + timedelta(days=30))})[0] == 404


def test_the_warehouse_link_follows_a_renewal() -> None:
    from lending.services.order_status import loan_url
    from lending.store import licences

    (lid,) = order_ok()
    item = licences.get_line(lid)
    assert item is not None
    url = loan_url(Ctx(base_url="http://hub.test"), item)
    assert url
    now = datetime.now(UTC).replace(microsecond=0)
    with clock.frozen(now):
        code, fulfil = invoke("POST", urlsplit(url).path,
                              urlencode({"borrower_id": "B9", "transaction_id": "T9", "duration": 7}),
                              {"content-type": "application/x-www-form-urlencoded"})
    assert code == 201, fulfil
    link = token(fulfil)
    loan = loan_store.get(*_ids(link))
    assert loan is not None and loan.origin == "warehouse"
    renewed = at(now + timedelta(days=1), "extendLoan", {**LOGIN, "orderLineId": lid, "loanId": loan.loan_id,
                                                         "date": iso(now + timedelta(days=20))})
    assert renewed["loanEndDate"] == iso(now + timedelta(days=20))
    assert isinstance(fulfillment.open_link(link, Ctx(now=now + timedelta(days=10))), fulfillment.Delivery)
    with clock.frozen(now + timedelta(days=10)):  # the reader gives it back through the same link, late
        assert invoke("DELETE", f"/warehouse/loans/{link}")[0] == 204
    assert loan_store.get(demo.COLL, loan.loan_id).state.value == "RETURNED"  # type: ignore[union-attr]


def _ids(link: str) -> tuple[str, str]:
    from lending.services.links import verify_loan_link

    found = verify_loan_link(link, datetime.now(UTC))
    assert found is not None
    return found


def test_the_soap_door_answers_them_as_the_json_door() -> None:
    from tests.integration.test_soap_door import comparable, soap

    (lid,) = order_ok()
    now = datetime.now(UTC).replace(microsecond=0)
    for loan_id in ("SOAPX1", "SOAPX2"):
        pnb("loanBook", loan_body(lid, loan_id, days=10))
    ext = {**PMB, "orderLineId": lid, "loanId": "SOAPX1", "date": iso(now + timedelta(days=20))}
    by_soap = soap("extendLoan", ext)
    assert comparable(by_soap) == {"orderLineId": lid, "loanId": "SOAPX1",
                                   "loanEndDate": iso(now + timedelta(days=20)), "returnStatus": "OK"}
    assert comparable(soap("extendLoan", ext)) == comparable(pnb("extendLoan", ext))  # both: not later
    ret = {**LOGIN, "orderLineId": lid, "loanId": "SOAPX2"}
    assert comparable(soap("returnLoan", ret)) == {"returnStatus": "OK"}
    assert comparable(soap("returnLoan", ret)) == comparable(pnb("returnLoan", ret))  # both: already ended
    assert comparable(soap("getUserAgent", LOGIN)) == comparable(pnb("getUserAgent", LOGIN))
    # The XSD's own refusals: a missing credential is a failed authentication, a missing date names it.
    no_login = soap("returnLoan", {k: v for k, v in ret.items() if k != "login"})
    assert (no_login["returnStatus"], no_login["returnMessage"]) == ("AUTHENTICATION_ERROR", "Bad credentials")
    no_date = soap("extendLoan", {k: v for k, v in ext.items() if k != "date"})
    assert (no_date["returnStatus"], no_date["returnMessage"]) == ("INVALID_ARGUMENTS",
                                                                   "The parameter date is mandatory")
