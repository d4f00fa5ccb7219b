"""LCP end to end over HTTP on the local stack: lend through each door (PNB, v1, warehouse) with a
passphrase, fetch the licence from the loan's link, open it with Readium's r2-lcp-js and decrypt the
publication the licence links to; then the status document: register, renew, return (counters,
getEndedLoans and the callback as for any return), idempotent per device; revoked, cancelled and
expired licences say so. Every document validates against Readium's schemas."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509

from lending.lcp import licence as lcpl
from lending.local import demo, epubs
from lending.local.receiver import Receiver
from lending.services import clock
from lending.services.lcp_provider import local_authority
from tests.helpers import coll_auth, line, loan_body, order_body
from tests.lcp.conftest import lsd_with_r2, open_with_r2, validate
from tests.v1_helpers import KEY

pytestmark = pytest.mark.e2e
EAN = "9791000000015"
PASS = {"readerPass": "correct horse battery", "readerHint": "Quatre mots"}
_ids = itertools.count(1)
DIST = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}


def pnb(stack: Any, service: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(f"{stack.url}/v2/pnb-numerique/{service}", json=body, timeout=20)
    assert r.status_code == 200, r.text
    return dict(r.json())


def new_line(stack: Any, ean: str = EAN) -> str:
    answer = pnb(stack, "sendOrder", order_body(line(ean)))
    assert answer["returnStatus"] == "OK", answer
    return str(answer["orderResponseLine"][0]["orderLineId"])


def loan_id() -> str:
    return f"LCP{next(_ids)}{int(time.time() * 1000) % 10**9}"


def lend_pnb(stack: Any, line_id: str, days: int = 14, **over: Any) -> tuple[str, dict[str, Any]]:
    lid = loan_id()
    answer = pnb(stack, "loanBook", loan_body(line_id, lid, days=days, DRMinfo=PASS, **over))
    assert answer["returnStatus"] == "OK", answer
    return lid, answer


def fetch_licence(url: str) -> dict[str, Any]:
    r = requests.get(url, timeout=20)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == lcpl.LICENCE_TYPE
    doc = r.json()
    validate(doc, "license")
    assert lcpl.check_signature(doc, x509.load_pem_x509_certificate(local_authority().root_pem))
    return dict(doc)


def link(doc: dict[str, Any], rel: str) -> dict[str, Any]:
    return next(x for x in doc["links"] if x["rel"] == rel)


def status(doc: dict[str, Any]) -> dict[str, Any]:
    r = requests.get(link(doc, "status")["href"], timeout=20)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == lcpl.STATUS_TYPE
    found = r.json()
    validate(found, "status")
    return dict(found)


def interact(lsd: dict[str, Any], rel: str, expect: int = 200, **params: str) -> dict[str, Any]:
    href = link(lsd, rel)["href"].split("{")[0]
    method = "POST" if rel == "register" else "PUT"
    r = requests.request(method, href, params=params, timeout=20)
    assert r.status_code == expect, r.text
    if expect == 200:
        validate(r.json(), "status")
    else:
        assert r.headers["Content-Type"] == "application/problem+json"
    return dict(r.json())


def counters(stack: Any, line_id: str) -> tuple[int, int]:
    """(NUS1, NTA): free download places (2 for this title), accesses left."""
    got = pnb(stack, "getLoanStatus", {**coll_auth(), "orderLineId": [line_id]})["loanResponseLine"][0]
    return got["nus1"], got["nta"]  # the REST binding renders the counters in lower case


def test_pnb_loan_licence_opens_in_r2_lcp_js_and_decrypts_the_linked_publication(
        stack: Any, r2_lcp: Path, tmp_path: Path) -> None:
    line_id = new_line(stack)
    _, answer = lend_pnb(stack, line_id)
    assert answer["link"]["protection"] == "LCP" and answer["link"]["mimeType"] == lcpl.LICENCE_TYPE
    doc = fetch_licence(answer["link"]["url"])
    assert doc["encryption"]["user_key"]["text_hint"] == "Quatre mots"
    assert doc["rights"]["print"] == 10 and doc["rights"]["copy"] == 2000
    publication = link(doc, "publication")
    r = requests.get(publication["href"], timeout=20)  # a redirect to the protected file in the bucket
    assert r.status_code == 200 and r.history and r.history[0].status_code == 302
    assert len(r.content) == publication["length"]
    assert base64.b64encode(hashlib.sha256(r.content).digest()).decode() == publication["hash"]
    opened = open_with_r2(r2_lcp, doc, r.content, PASS["readerPass"], tmp_path)
    assert opened["opened"] is True and opened["id"] == doc["id"]
    offer = next(o for o in demo.offers() if o.ean13 == EAN)
    plain = epubs.build(EAN, offer.title, offer.publisher or "Editions Demo")
    with zipfile.ZipFile(io.BytesIO(plain)) as z:
        assert opened["resources"] and all(base64.b64decode(v) == z.read(k) for k, v in opened["resources"].items())
    # Asked again (same request within the hour): the same loan, the same licence.
    again = pnb(stack, "loanBook", loan_body(line_id, answer["loanId"], days=14, DRMinfo=PASS,
                                               loanEndDate=answer["loanEndDate"]))
    assert again["link"] == answer["link"] and fetch_licence(again["link"]["url"])["id"] == doc["id"]


def test_register_renew_and_return_through_lsd(stack: Any) -> None:
    line_id = new_line(stack)
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        lid, answer = lend_pnb(stack, line_id, days=7, callbackUrl=f"{rx.url}/returns")
        doc = fetch_licence(answer["link"]["url"])
        lsd = status(doc)
        assert lsd["status"] == "ready" and lsd["id"] == doc["id"]
        assert {x["rel"] for x in lsd["links"]} == {"license", "register", "return", "renew"}
        assert all(x.get("templated") for x in lsd["links"] if x["rel"] != "license")
        device = {"id": "device-1", "name": "Thorium de Zoé"}
        lsd = interact(lsd, "register", **device)
        assert lsd["status"] == "active"
        lsd = interact(lsd, "register", **device)  # again: nothing more
        assert [e["type"] for e in lsd["events"]] == ["register"]
        interact(lsd, "register", 400, id="")  # no device id, no name: refused

        # Renew: later, within the offer's 60 days from the loan's start; the licence follows.
        before = datetime.fromisoformat(doc["rights"]["end"])
        wanted = before + timedelta(days=10)
        lsd = interact(lsd, "renew", end=wanted.strftime("%Y-%m-%dT%H:%M:%SZ"), **device)
        renewed = fetch_licence(link(lsd, "license")["href"])
        assert renewed["id"] == doc["id"] and datetime.fromisoformat(renewed["rights"]["end"]) == wanted
        assert renewed["encryption"] == doc["encryption"] and renewed["updated"] >= doc["updated"]
        assert "renew" in [e["type"] for e in lsd["events"]]
        too_far = datetime.fromisoformat(doc["rights"]["start"]) + timedelta(days=61)
        interact(lsd, "renew", 403, end=too_far.strftime("%Y-%m-%dT%H:%M:%SZ"), **device)
        interact(lsd, "renew", 400, end=before.strftime("%Y-%m-%dT%H:%M:%SZ"), **device)  # not later
        assert counters(stack, line_id)[0] == 1  # one of two places taken

        # Return: the place is freed, getEndedLoans lists it, the library's callback arrives.
        lsd = interact(lsd, "return", **device)
        assert lsd["status"] == "returned" and {x["rel"] for x in lsd["links"]} == {"license"}
        assert counters(stack, line_id)[0] == 2
        ended = pnb(stack, "getEndedLoans", {**coll_auth(), "loanId": [lid]})
        assert [x["loanId"] for x in ended["loanEndedResponseLine"]] == [lid]
        got = rx.wait_for(lambda r: len(r) >= 1, timeout=15)
        assert got and got[0].json()["loanId"] == lid
    # The same device again: the same answer; another device: refused; the place was freed once.
    assert status(doc)["status"] == "returned"
    again = requests.put(f"{link(doc, 'status')['href']}/return", params=device, timeout=20)
    assert again.status_code == 200 and again.json()["status"] == "returned"
    other = requests.put(f"{link(doc, 'status')['href']}/return", params={"id": "d2", "name": "Autre"}, timeout=20)
    assert other.status_code == 400
    assert counters(stack, line_id)[0] == 2
    assert requests.get(answer["link"]["url"], timeout=20).status_code == 403  # the loan's link is dead


def test_racing_returns_free_one_place(stack: Any) -> None:
    line_id = new_line(stack)
    _, answer = lend_pnb(stack, line_id)
    doc = fetch_licence(answer["link"]["url"])
    href = f"{link(doc, 'status')['href']}/return"

    def give_back(n: int) -> int:
        return requests.put(href, params={"id": f"dev{n % 2}", "name": "App"}, timeout=30).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(give_back, range(6)))
    assert 200 in codes and set(codes) <= {200, 400}
    lsd = status(doc)
    assert lsd["status"] == "returned" and [e["type"] for e in lsd["events"]].count("return") == 1
    assert counters(stack, line_id) == (2, 29)  # one place freed, once


def test_revoked_cancelled_and_expired_licences_say_so(stack: Any) -> None:
    line_id = new_line(stack)
    _, registered = lend_pnb(stack, line_id)
    doc = fetch_licence(registered["link"]["url"])
    interact(status(doc), "register", id="d1", name="App")
    end = pnb(stack, "endLoan", {**DIST, "orderLineId": line_id, "loanId": registered["loanId"]})
    assert end["returnStatus"] == "OK"
    lsd = status(doc)
    assert lsd["status"] == "revoked" and lsd["events"][-1]["type"] == "revoke"

    _, unused = lend_pnb(stack, line_id)
    unused_doc = fetch_licence(unused["link"]["url"])
    pnb(stack, "endLoan", {**DIST, "orderLineId": line_id, "loanId": unused["loanId"]})
    assert status(unused_doc)["status"] == "cancelled"

    _, short = lend_pnb(stack, line_id, days=1)
    short_doc = fetch_licence(short["link"]["url"])
    with clock.frozen(datetime.now(UTC) + timedelta(days=2)):
        lsd = status(short_doc)
        assert lsd["status"] == "expired" and {x["rel"] for x in lsd["links"]} == {"license"}
        interact(lsd | {"links": [{"rel": "return", "href": link(short_doc, "status")["href"] + "/return"}]},
                 "return", 400, id="d1", name="App")


def test_v1_and_warehouse_loans_answer_their_licence(stack: Any, r2_lcp: Path, tmp_path: Path) -> None:
    new_line(stack)
    member = f"m{next(_ids)}{int(time.time())}"
    r = requests.post(f"{stack.url}/v1/media/{EAN}/loans.json", headers=KEY, timeout=20,
                      json={"member_id": member, "passphrase": "v1 passphrase", "passphrase_hint": "v1"})
    assert r.status_code in (200, 201), r.text
    got = requests.get(f"{stack.url}/v1/loans/{r.json()['id']}", headers=KEY, timeout=20)
    assert got.status_code == 200 and got.headers["Content-Type"] == lcpl.LICENCE_TYPE
    doc = got.json()
    validate(doc, "license")
    protected = requests.get(link(doc, "publication")["href"], timeout=20).content
    assert open_with_r2(r2_lcp, doc, protected, "v1 passphrase", tmp_path)["opened"] is True

    answer = pnb(stack, "sendOrder", order_body(line(EAN)))
    line_id = answer["orderResponseLine"][0]["orderLineId"]
    orders = pnb(stack, "getOrders", {**coll_auth(), "orderIdColl": "COLL1"})
    url = next(x["orderLine"][0]["loanUrl"] for x in orders["getOrderResponseLine"]
               if x["orderLine"][0]["orderLineId"] == line_id)
    n = next(_ids)
    expire = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y%m%dT%H%M%S")
    lent = requests.post(url, data={"borrower_id": f"r{n}", "transaction_id": f"t{n}{int(time.time())}",
                                    "expire_at": expire, "passphrase": "warehouse pass"}, timeout=20,
                         allow_redirects=False)
    assert lent.status_code == 201, lent.text
    wdoc = fetch_licence(lent.text)
    assert wdoc["encryption"]["user_key"]["text_hint"]  # a default hint when none was given
    wpub = requests.get(link(wdoc, "publication")["href"], timeout=20).content
    assert open_with_r2(r2_lcp, wdoc, wpub, "warehouse pass", tmp_path)["opened"] is True


def test_without_a_passphrase_the_link_serves_the_plain_file(stack: Any) -> None:
    line_id = new_line(stack)
    answer = pnb(stack, "loanBook", loan_body(line_id, loan_id()))
    assert "protection" not in answer["link"]
    r = requests.get(answer["link"]["url"], timeout=20)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/epub+zip"


def test_unknown_licences_and_bad_requests_are_problems_not_faults(stack: Any) -> None:
    for method, path in (("GET", "/lcp/status/nope"), ("GET", "/lcp/licences/00000000-0000-4000-8000-000000000000"),
                         ("POST", "/lcp/status/%00/register?id=a&name=b"), ("GET", "/lcp/publications/123.epub"),
                         ("PUT", "/lcp/status/00000000-0000-4000-8000-000000000000/renew?end=yesterday&id=a&name=b")):
        r = requests.request(method, f"{stack.url}{path}", timeout=20)
        assert r.status_code in (400, 404), (path, r.status_code, r.text)
        assert r.headers["Content-Type"] == "application/problem+json"
    assert requests.get(f"{stack.url}/lcp/hint", timeout=20).status_code == 200


def test_r2_lcp_js_registers_renews_and_returns_through_our_status_document(stack: Any, r2_lcp: Path) -> None:
    """Readium's own LSD client (what Thorium runs) against the hub's status documents."""
    line_id = new_line(stack)
    _, answer = lend_pnb(stack, line_id, days=7)
    doc = fetch_licence(answer["link"]["url"])
    url = link(doc, "status")["href"]
    got = lsd_with_r2(r2_lcp, "register", url, "r2-device", "Readium test device")
    assert got["status"]["status"] == "active" and got["status"]["events"][0]["name"] == "Readium test device"
    end = (datetime.fromisoformat(doc["rights"]["end"]) + timedelta(days=5)).isoformat()
    got = lsd_with_r2(r2_lcp, "renew", url, "r2-device", "Readium test device", end)
    assert "renew" in [e["type"] for e in got["status"]["events"]]
    assert datetime.fromisoformat(fetch_licence(link(doc, "status")["href"].replace("/status/", "/licences/"))
                                  ["rights"]["end"]) == datetime.fromisoformat(end)
    too_far = (datetime.fromisoformat(doc["rights"]["start"]) + timedelta(days=90)).isoformat()
    assert "error" in lsd_with_r2(r2_lcp, "renew", url, "r2-device", "Readium test device", too_far)
    got = lsd_with_r2(r2_lcp, "return", url, "r2-device", "Readium test device")
    assert got["status"]["status"] == "returned"
    assert counters(stack, line_id)[0] == 2
    assert "error" in lsd_with_r2(r2_lcp, "return", url, "r2-device", "Readium test device")  # no return link left
