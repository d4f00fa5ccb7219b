"""The warehouse lending URL over HTTP, on the local stack, with a plain HTTP client: every error
name of the spec, regeneration, the three pools, a tampered or revoked URL, and the early-return
notification (the event the return writes, read back from the table)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from lending.local import demo
from tests.helpers import coll_auth, line, order_body, stored_events

pytestmark = pytest.mark.e2e

_refs = itertools.count(1)
DISTRIBUTOR = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}


def pnb(stack: Any, service: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(f"{stack.url}/v2/pnb-numerique/{service}", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def licences(stack: Any, *lines: dict[str, Any]) -> list[tuple[str, str]]:
    """Buy licences; (orderLineId, loanUrl) of each, the loanUrl as getOrders shows it."""
    ref = f"WH{next(_refs)}{datetime.now(UTC):%H%M%S%f}"[:16]
    answer = pnb(stack, "sendOrder", order_body(*(lines or (line(),)), orderIdColl=ref))
    assert answer["returnStatus"] == "OK", answer
    ids = [x["orderLineId"] for x in answer["orderResponseLine"]]
    shown = pnb(stack, "getOrders", {**coll_auth(), "orderIdColl": ref})["getOrderResponseLine"]
    urls = {x["orderLine"][0]["orderLineId"]: x["orderLine"][0]["loanUrl"] for x in shown}
    return [(i, urls[i]) for i in ids]


def status(stack: Any, line_id: str) -> tuple[int, int, int]:
    got = pnb(stack, "getLoanStatus", {**coll_auth(), "orderLineId": [line_id]})["loanResponseLine"][0]
    return got["nus1"], got["nus2"], got["nta"]


def lend(url: str, as_json: bool = False, **params: Any) -> requests.Response:
    if as_json:
        return requests.post(url, json=params, timeout=10, allow_redirects=False)
    return requests.post(url, data=params, timeout=10, allow_redirects=False)


def errors(r: requests.Response) -> list[str]:
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json()


def at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y%m%dT%H%M%S")


def tx() -> dict[str, str]:
    n = next(_refs)
    return {"borrower_id": f"reader{n}", "transaction_id": f"tx{n}"}


def test_loan_url_answers_201_with_a_time_limited_url_in_body_and_location(stack: Any) -> None:
    (line_id, url), = licences(stack)
    assert url.startswith(f"{stack.url}/warehouse/licences/{line_id}/") and url.endswith("/loans")
    r = lend(url, **tx(), expire_at=at(7))
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.text == r.headers["Location"] and r.text.startswith(f"{stack.url}/fulfillment/")
    doc = requests.get(r.text, timeout=10)
    assert doc.status_code == 200 and doc.headers["Content-Type"] == "application/epub+zip"
    assert doc.content.startswith(b"PK")  # the loan's EPUB file
    end = _expires(r.text)
    assert timedelta(days=6.99) < end - datetime.now(UTC) <= timedelta(days=7)
    # A JSON body, and a date-only expire_at (midnight UTC of that day).
    r = lend(url, as_json=True, **tx(), expire_at=at(3)[:8])
    assert r.status_code == 201, r.text
    assert _expires(r.text) == datetime.strptime(at(3)[:8], "%Y%m%d").replace(tzinfo=UTC)
    assert status(stack, line_id) == (0, 2, 28)
    # The duration alone (days from now); neither: the publisher's maximum (14 days for this title).
    (_, url39), = licences(stack, line("9791000000039"))
    r = lend(url39, as_json=True, **tx(), duration=5)
    assert r.status_code == 201
    assert timedelta(days=4.99) < _expires(r.text) - datetime.now(UTC) <= timedelta(days=5)
    r = lend(url39, **tx())
    assert r.status_code == 201
    assert timedelta(days=13.99) < _expires(r.text) - datetime.now(UTC) <= timedelta(days=14)


def _expires(fulfillment_url: str) -> datetime:
    """The end of the loan behind a fulfillment link (which serves the file while the loan lasts)."""
    from lending.services.links import verify_loan_link
    from lending.store import loans as loan_store

    doc = requests.get(fulfillment_url, timeout=10)
    assert doc.status_code == 200 and doc.content.startswith(b"PK"), doc.text
    found = verify_loan_link(fulfillment_url.rsplit("/", 1)[1], datetime.now(UTC))
    assert found is not None
    loan = loan_store.get(*found)
    assert loan is not None
    return loan.end_date


def test_every_request_error_is_named_all_at_once(stack: Any) -> None:
    (line_id, url), = licences(stack)
    r = lend(url, expire_at="2026-13-45", medium="streaming", localisation="moon", ip_address="999.1.1.1")
    assert errors(r) == ["invalid_expiration_date", "missing_borrower_id", "missing_transaction_id",
                         "localisation_parameter_invalid", "ip_address_parameter_invalid"]
    r = lend(url, as_json=True, borrower_id="a b", transaction_id="x" * 255, medium="",
             notify_url="not a url", bill_drm_to="bad value!", duration="0")
    assert errors(r) == ["medium_parameter_required", "invalid_borrower_id", "invalid_transaction_id",
                         "duration_parameter_invalid", "notify_url_parameter_invalid",
                         "bill_drm_to_parameter_invalid"]
    r = requests.post(url, data="{not json", headers={"Content-Type": "application/json"}, timeout=10)
    assert errors(r) == ["invalid_request_body"]
    assert status(stack, line_id) == (2, 2, 30)  # nothing taken


@pytest.mark.parametrize(("params", "expected"), [
    ({"borrower_id": None}, ["missing_borrower_id"]),
    ({"transaction_id": None}, ["missing_transaction_id"]),
    ({"borrower_id": ""}, ["missing_borrower_id"]),
    ({"expire_at": "20261301"}, ["invalid_expiration_date"]),
    ({"expire_at": "2026-12-01T00:00:00Z"}, ["invalid_expiration_date"]),  # extended, not basic format
    ({"expire_at": "20200101"}, ["invalid_expiration_date"]),  # past
    ({"expire_at": "+60d"}, ["invalid_expiration_date"]),  # beyond 59 days
    ({"duration": "75"}, ["loan_duration_over_maximum"]),
    ({"medium": ""}, ["medium_parameter_required"]),
    ({"medium": "paper"}, ["medium_parameter_invalid"]),
    ({"medium": "streaming"}, ["localisation_parameter_required"]),
    ({"medium": "streaming", "localisation": "moon"}, ["localisation_parameter_invalid"]),
    ({"medium": "streaming", "localisation": "on-site"}, ["ip_address_parameter_required"]),
    ({"medium": "streaming", "localisation": "on-site", "ip_address": "10.0.0"},
     ["ip_address_parameter_invalid"]),
    ({"medium": "streaming", "localisation": "on-site", "ip_address": "192.0.2.77"},
     ["ip_address_parameter_invalid"]),  # well formed, not declared by the collectivity
])
def test_each_request_error(stack: Any, params: dict[str, str], expected: list[str]) -> None:
    (line_id, url), = licences(stack)
    body = {k: v for k, v in {**tx(), **params}.items() if v is not None}
    if body.get("expire_at") == "+60d":
        body["expire_at"] = at(59.01)
    assert errors(lend(url, **body)) == expected
    assert status(stack, line_id) == (2, 2, 30)


def test_licence_errors(stack: Any) -> None:
    old = datetime.now(UTC) - timedelta(days=400)  # 9791000000039: a licence of 365 days
    (expired, expired_url), = licences(stack, line("9791000000039", dmd=old))
    (short, short_url), = licences(stack, line("9791000000039"))
    assert errors(lend(expired_url, **tx(), expire_at=at(3))) == ["loan_term_limit_reached"]
    # 14 days at most for this title; 3 accesses in all (NTA), then nothing more however many places.
    assert errors(lend(short_url, **tx(), expire_at=at(20))) == ["loan_duration_over_maximum"]
    assert errors(lend(short_url, **tx(), duration="15")) == ["loan_duration_over_maximum"]
    for _ in range(3):
        assert lend(short_url, **tx(), duration="2").status_code == 201
    assert status(stack, short) == (0, 0, 0)  # NUS are 0 once nothing is left to lend
    assert errors(lend(short_url, **tx(), expire_at=at(3))) == ["maximum_loans_qty_reached"]
    # Every reason at once: the request's and the licence's.
    assert errors(lend(expired_url, transaction_id="t", expire_at=at(30))) == [
        "missing_borrower_id", "loan_term_limit_reached", "loan_duration_over_maximum"]
    assert status(stack, expired) == (0, 0, 3)


def test_pools_by_medium_and_localisation(stack: Any) -> None:
    # 9791000000015: 2 downloads, 1 on-site stream, 1 off-site stream, 30 accesses.
    pnb(stack, "declareIp", {**coll_auth(), "ips": ["10.20.30.1,10.20.30.20"]})
    (line_id, url), = licences(stack)
    on_site = {"medium": "streaming", "localisation": "on-site", "ip_address": "10.20.30.5"}
    off_site = {"medium": "streaming", "localisation": "off-site"}
    assert lend(url, **tx()).status_code == 201  # medium defaults to download
    assert lend(url, **tx(), medium="download").status_code == 201
    assert errors(lend(url, **tx())) == ["maximum_simultaneous_downloads_reached"]
    assert status(stack, line_id) == (0, 2, 28)
    assert lend(url, **tx(), **on_site).status_code == 201
    assert errors(lend(url, **tx(), **on_site)) == ["maximum_simultaneous_onsite_streamings_reached"]
    assert status(stack, line_id) == (0, 1, 27)
    assert lend(url, **tx(), **off_site).status_code == 201
    assert errors(lend(url, **tx(), **off_site)) == ["maximum_simultaneous_offsite_streamings_reached"]
    assert status(stack, line_id) == (0, 0, 26)
    # 9791000000022 has no streaming place at all.
    (_, url22), = licences(stack, line("9791000000022"))
    assert errors(lend(url22, **tx(), **off_site)) == ["maximum_simultaneous_offsite_streamings_reached"]


def test_same_transaction_regenerates_the_link_and_takes_nothing(stack: Any) -> None:
    (line_id, url), = licences(stack, line("9791000000022"))  # one download place, 10 accesses
    ids, end = tx(), at(10)
    first = lend(url, **ids, expire_at=end, notify_url="https://lending.example/notify")
    assert first.status_code == 201
    assert status(stack, line_id) == (0, 0, 9)
    again = lend(url, **ids)  # no expire_at: the link of the same loan, though the pool is full
    assert again.status_code == 201 and again.text == first.text
    retry = lend(url, **ids, expire_at=end, notify_url="https://lending.example/notify")
    assert retry.status_code == 201 and retry.text == first.text  # an identical retry, same loan
    assert status(stack, line_id) == (0, 0, 9)
    # The same transaction with another end date is a loan already given.
    assert errors(lend(url, **ids, expire_at=at(12))) == ["no_loan_available"]
    # Another transaction of the same borrower is another loan (and the pool is full).
    assert errors(lend(url, borrower_id=ids["borrower_id"], transaction_id="other")) == [
        "maximum_simultaneous_downloads_reached"]
    assert status(stack, line_id) == (0, 0, 9)


def test_tampered_or_revoked_url_lends_nothing(stack: Any) -> None:
    (line_id, url), (other_id, other_url) = licences(stack, line(), line("9791000000039"))
    prefix, token, tail = url.rsplit("/", 2)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_token = other_url.rsplit("/", 2)[1]
    for bad in (f"{prefix}/{flipped}/{tail}", f"{prefix}/{other_token}/{tail}", f"{prefix}/x/{tail}",
                url.replace(line_id, "123456789012345678901234"), url.replace(line_id, "nope")):
        r = lend(bad, **tx())
        assert (r.status_code, r.json()) == (400, ["no_loan_available"]), bad
    assert status(stack, line_id) == (2, 2, 30) and status(stack, other_id) == (5, 2, 3)
    # The reseller cancels the (unused) line: its URL is revoked.
    reseller = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD}
    cancel = pnb(stack, "cancelOrder", {**reseller, "orderId": _order_of(line_id), "orderLineId": [line_id]})
    assert cancel["cancelResponseLine"][0]["returnStatus"] == "CANCELLED", cancel
    r = lend(url, **tx())
    assert (r.status_code, r.json()) == (400, ["no_loan_available"])
    got = pnb(stack, "getLoanStatus", {**coll_auth(), "orderLineId": [line_id]})["loanResponseLine"][0]
    assert (got["returnStatus"], got["nta"]) == ("CANCELLED", 30)


def _order_of(line_id: str) -> str:
    from lending.store import licences as line_store

    item = line_store.get_line(line_id)
    assert item is not None
    return str(item["orderId"])


def test_early_return_writes_the_notification_for_notify_url(stack: Any) -> None:

    (line_id, url), = licences(stack)
    by_distributor, by_reader = tx(), tx()
    r1 = lend(url, **by_distributor, expire_at=at(9), notify_url="http://127.0.0.1:9/notify/loan/1")
    r2 = lend(url, **by_reader, expire_at=at(9), notify_url="http://127.0.0.1:9/notify")
    assert r1.status_code == r2.status_code == 201
    assert status(stack, line_id) == (0, 2, 28)
    loan1 = _loan_id(r1.text)
    ended = pnb(stack, "endLoan", {**DISTRIBUTOR, "orderLineId": line_id, "loanId": loan1})
    assert ended["returnStatus"] == "OK", ended
    back = requests.delete(r2.headers["Link"].split(">")[0][1:], timeout=10)  # the 201's rel="return"
    assert back.status_code == 204
    assert status(stack, line_id) == (2, 2, 28)  # both places back, accesses never given back
    assert requests.get(r2.text, timeout=10).status_code == 403  # the link no longer opens

    events = stored_events()
    mine = {e["body"]["transactionId"]: e for e in events if e["body"].get("orderLineId") == line_id}
    assert set(mine) == {by_distributor["transaction_id"], by_reader["transaction_id"]}
    one, two = mine[by_distributor["transaction_id"]], mine[by_reader["transaction_id"]]
    assert one["url"] == "http://127.0.0.1:9/notify/loan/1" and two["url"] == "http://127.0.0.1:9/notify"
    assert one["body"]["borrowerId"] == by_distributor["borrower_id"] and one["body"]["loanId"] == loan1
    assert two["body"]["borrowerId"] == by_reader["borrower_id"]
    assert {one["body"]["event"], two["body"]["event"]} == {"loan.returned"}


def _loan_id(fulfillment_url: str) -> str:
    from lending.services.links import verify_loan_link

    found = verify_loan_link(fulfillment_url.rsplit("/", 1)[1], datetime.now(UTC))
    assert found is not None
    return found[1]


@pytest.mark.race
def test_racing_requests_never_overfill_a_pool_and_a_transaction_is_one_loan(stack: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    (line_id, url), = licences(stack)  # 2 download places
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: lend(url, **tx(), expire_at=at(5)), range(8)))
    assert sorted(r.status_code for r in got) == [201, 201] + [400] * 6
    refused = {tuple(r.json()) for r in got if r.status_code == 400}
    assert refused == {("maximum_simultaneous_downloads_reached",)}
    assert status(stack, line_id) == (0, 2, 28)
    # The same transaction sent 8 times at once (a lending system retrying): one loan, one access.
    (line2, url2), = licences(stack)
    ids, end = tx(), at(5)
    with ThreadPoolExecutor(8) as pool:
        same = list(pool.map(lambda _: lend(url2, **ids, expire_at=end), range(8)))
    assert {r.status_code for r in same} == {201} and len({r.text for r in same}) == 1
    assert status(stack, line2) == (1, 2, 29)
