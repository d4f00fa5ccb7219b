"""Library API v1 over HTTP on the local stack, in JSON and in XML, with a real HTTP client: a patron's
loan from creation to early return, the emailed and fulfillment links followed to the EPUB, every error,
the limits by day and month (injected clock), courtesy loans, the licence choice, a patron racing
themself."""

from __future__ import annotations

import io
import re
import threading
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from lending.domain.dates import iso
from lending.domain.licences import Pool
from lending.domain.offers import LicenceTerms, Offer
from lending.local import demo, epubs, mail
from lending.services import clock
from lending.store import licences, offers, patrons
from lending.store import loans as loan_store
from tests.helpers import coll_auth, line, order_body, stored_events
from tests.v1_helpers import answer, month_start

pytestmark = pytest.mark.e2e

FORMATS = ("json", "xml")
EAN = "9791000000015"
ONE = "9791000000022"
EXTRA, EXTRA2 = "9791000000084", "9791000000091"  # added by these tests: six media pass the active limit
TITLES = {o.ean13: o.title for o in demo.offers()}


class Hub:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def v1(self, method: str, path: str, fmt: str = "json", key: str | None = demo.COLL_API_KEY,
           **kw: Any) -> tuple[int, dict[str, Any], requests.Response]:
        headers = {**({"X-Api-Key": key} if key else {}), **kw.pop("headers", {})}
        r = self.http.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kw)
        kind = "application/xml; charset=utf-8" if fmt == "xml" else "application/json; charset=utf-8"
        assert r.headers["Content-Type"] == kind, (r.status_code, r.text)
        return r.status_code, answer(fmt, r.text if fmt == "xml" else r.json()), r

    def create(self, member: str, ean: str = EAN, fmt: str = "json", key: str = demo.COLL_API_KEY,
               **params: Any) -> tuple[int, dict[str, Any]]:
        status, body, _ = self.v1("POST", f"/v1/media/{ean}/loans.{fmt}", fmt, key,
                                  json={"member_id": member, **params})
        return status, body

    def pnb(self, service: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.http.post(f"{self.url}/v2/pnb-numerique/{service}", json=body, timeout=30)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    def order(self, *lines: dict[str, Any], coll: str = demo.COLL) -> list[str]:
        got = self.pnb("sendOrder", order_body(*lines, glnColl=coll))
        assert got["returnStatus"] == "OK", got
        return [x["orderLineId"] for x in got["orderResponseLine"]]

    def nus1(self, order_line_id: str, coll: str = demo.COLL) -> int:
        auth = coll_auth() if coll == demo.COLL else coll_auth(demo.COLL2, demo.COLL2_PASSWORD)
        got = self.pnb("getLoanStatus", {**auth, "orderLineId": [order_line_id]})
        return int(got["loanResponseLine"][0]["nus1"])


@pytest.fixture(scope="module")
def hub(stack: Any) -> Iterator[Hub]:
    terms = LicenceTerms(loans=30, downloads=2, onsite_streams=0, offsite_streams=0, licence_days=3650,
                         max_loan_days=60)
    for ean, title in ((EXTRA, "Sixieme livre"), (EXTRA2, "Septieme livre")):
        offers.save(Offer(ean13=ean, gln_distributor=demo.DISTRIBUTOR, title=title, terms=terms,
                          price_ttc=2400, price_ht=2275, tax_rate=550, updated_at=iso(datetime.now(UTC))))
    yield Hub(stack.url)


def member() -> str:
    return f"m{uuid.uuid4().hex[:12]}"


def assert_is_the_book(content: bytes, ean13: str) -> None:
    assert content == epubs.build(ean13, TITLES[ean13])
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert z.namelist()[0] == "mimetype" and z.read("mimetype") == b"application/epub+zip"


def outbox(loan_id: str) -> list[dict[str, Any]]:
    return stored_events(loan_id)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_patron_loan_from_creation_to_early_return(hub: Hub, fmt: str) -> None:
    hub.order(line(EAN))
    who = member()
    # Creation: parameters as a JSON body (json) or as form fields (xml).
    form = {"member_id": who, "return_url": "https://ils.example/returned"}
    sent = {"json": form} if fmt == "json" else {"data": form}
    status, made, r = hub.v1("POST", f"/v1/media/{EAN}/loans.{fmt}", fmt, **sent)
    assert status == 201, made
    assert r.headers["Location"] == f"{hub.url}/v1/loans/{made['id']}"
    assert made["url"].startswith(f"{hub.url}/fulfillment/") and re.fullmatch(r"[0-9a-f]{24}", made["id"])
    expires = datetime.fromisoformat(made["expires_at"].replace("Z", "+00:00"))
    default = datetime.now(UTC) + timedelta(days=21)  # the library's default loan length
    assert abs(expires - default) < timedelta(minutes=1)
    # The same request again, even with another end: the same loan, the same end (200).
    later = iso(datetime.now(UTC) + timedelta(days=5))
    assert hub.create(who, EAN, fmt, expires_at=later) == (200, made)
    # Retrieval: the fulfillment document, its short link, the book.
    suffix = ".xml" if fmt == "xml" else ""
    status, doc, _ = hub.v1("GET", f"/v1/loans/{made['id']}{suffix}", fmt)
    assert status == 200
    assert {k: doc[k] for k in ("id", "member_id", "resource_id", "key", "key_type", "title", "expires_at",
                                "format", "mime_type")} == {
        "id": made["id"], "member_id": who, "resource_id": EAN, "key": EAN, "key_type": "isbn",
        "title": TITLES[EAN], "expires_at": made["expires_at"], "format": "epub",
        "mime_type": "application/epub+zip"}
    assert doc["url"] != made["url"] and len(doc["downloads"]) == 1
    book = requests.get(doc["url"], timeout=30)
    assert book.status_code == 200 and book.headers["Content-Type"] == "application/epub+zip"
    assert_is_the_book(book.content, EAN)
    lent = loan_store.get(demo.COLL, made["id"])
    assert lent and lent.origin == "v1" and lent.extra == {"memberId": who}
    lid = lent.order_line_id  # the licence it was lent from (the one that ends soonest: see below)
    free = hub.nus1(lid)
    # The list: the spec's fields, both downloads (the document and the file).
    status, listed, _ = hub.v1("GET", f"/v1/loans.{fmt}", fmt, params={"member_id": who})
    assert status == 200 and listed["page"] == 1 and listed["next_page"] is None
    (item,) = listed["loans"]
    assert list(item)[:10] == ["id", "created_at", "downloads", "expires_at", "hold_expires_at", "shippings",
                               "member_id", "resource_id", "key", "key_type"]
    assert (item["id"], item["member_id"], item["resource_id"], item["hold_expires_at"], item["shippings"],
            len(item["downloads"]), item["state"]) == (made["id"], who, EAN, None, [], 2, "active")
    # Early return on the patron's behalf: place freed, listed by getEndedLoans, callback queued.
    status, back, _ = hub.v1("DELETE", f"/v1/loans/{made['id']}{suffix}", fmt)
    assert status == 200 and back["state"] == "returned" and back["returned_at"]
    assert hub.nus1(lid) == free + 1
    ended = hub.pnb("getEndedLoans", {**coll_auth(), "date": iso(datetime.now(UTC) - timedelta(minutes=5))})
    assert made["id"] in [x["loanId"] for x in ended["loanEndedResponseLine"]]
    (event,) = outbox(made["id"])
    assert event["url"] == "https://ils.example/returned" and event["body"]["memberId"] == who
    # Ended: every door says so.
    for method in ("GET", "DELETE"):
        status, refused, _ = hub.v1(method, f"/v1/loans/{made['id']}{suffix}", fmt)
        assert (status, refused["errors"]) == (403, ["loan_returned"])
    assert requests.get(made["url"], timeout=30).status_code == 403
    assert requests.get(doc["url"], timeout=30).status_code == 403
    # A new loan of the same book is a new loan.
    assert hub.create(who, EAN, fmt)[0] == 201


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_emailed_link_yields_the_book(hub: Hub, fmt: str) -> None:
    hub.order(line("9791000000053", dist=demo.DISTRIBUTOR2))
    who, address = member(), f"{uuid.uuid4().hex[:8]}@example.org"
    before = len(mail.sent())
    query = {"member_id": who, "notify": "1", "email": address}  # parameters in the query string
    status, made, _ = hub.v1("POST", f"/v1/media/9791000000053/loans.{fmt}", fmt, params=query)
    assert status == 201
    (email,) = [m for m in mail.sent()[before:] if m.to == [address]]
    assert email.subject == f"Your loan: {TITLES['9791000000053']}"
    (link,) = re.findall(r"http://\S+/fulfillment/\S+", email.body)
    assert link == made["url"]
    book = requests.get(link, timeout=30)
    assert book.status_code == 200
    assert book.headers["Content-Disposition"] == 'attachment; filename="9791000000053.epub"'
    assert_is_the_book(book.content, "9791000000053")
    (item,) = hub.v1("GET", f"/v1/loans.{fmt}", fmt, params={"member_id": who})[1]["loans"]
    assert len(item["shippings"]) == 1 and len(item["downloads"]) == 1


def test_a_large_book_is_handed_over_by_a_short_s3_link(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.order(line("9791000000039"))
    status, made = hub.create(member(), "9791000000039")
    assert status == 201
    monkeypatch.setenv("FULFILLMENT_INLINE_MAX", "100")
    first = requests.get(made["url"], timeout=30, allow_redirects=False)
    assert first.status_code == 302 and "X-Amz-Signature=" in first.headers["Location"]
    book = requests.get(made["url"], timeout=30)  # the client follows it to the bucket
    assert book.status_code == 200
    assert_is_the_book(book.content, "9791000000039")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_error_answer(hub: Hub, fmt: str) -> None:
    hub.order(line(EAN))
    path = f"/v1/media/{EAN}/loans.{fmt}"

    def errors(method: str, url: str, **kw: Any) -> tuple[int, list[str]]:
        status, body, _ = hub.v1(method, url, fmt, **kw)
        return status, body["errors"]

    assert errors("POST", path, data={"email": "nope"}) == (400, ["missing_member_id", "invalid_email"])
    assert errors("POST", path, params={"member_id": "x", "notify": "1"}) == (400, ["missing_email"])
    past = iso(datetime.now(UTC) - timedelta(days=1))
    assert errors("POST", path, json={"member_id": "x", "expires_at": past}) == (400, ["invalid_expires_at"])
    assert errors("POST", path, data="{broken", headers={"Content-Type": "application/json"}) == (
        400, ["invalid_body"])
    assert errors("POST", path, key=None, json={"member_id": "x"}) == (401, ["invalid_api_key"])
    assert errors("POST", f"/v1/media/{demo.UNKNOWN_EAN}/loans.{fmt}", json={"member_id": "x"}) == (
        404, ["medium_not_found"])
    assert errors("GET", f"/v1/loans/{'0' * 24}.{fmt}") == (404, ["loan_not_found"])
    address = f"{uuid.uuid4().hex[:8]}@example.org"
    status, made = hub.create(member(), EAN, fmt, email=address)
    assert status == 201
    assert errors("POST", path, json={"member_id": member(), "email": address.upper()}) == (400, ["email_in_use"])
    assert errors("GET", f"/v1/loans/{made['id']}.{fmt}", key=demo.COLL2_API_KEY) == (404, ["loan_not_found"])
    theirs_path = f"/v1/loans/{made['id']}.{fmt}"
    assert errors("DELETE", theirs_path, key=demo.COLL2_API_KEY) == (404, ["loan_not_found"])
    assert errors("GET", f"/v1/loans.{fmt}", params={"page": "x"}) == (400, ["invalid_page"])
    theirs = hub.v1("GET", f"/v1/loans.{fmt}", fmt, key=demo.COLL2_API_KEY)[1]["loans"]
    assert made["id"] not in [x["id"] for x in theirs]
    r = requests.put(f"{hub.url}/v1/loans.{fmt}", timeout=30)
    assert r.status_code == 405


def test_limits_by_day_and_month_and_courtesy_loans(hub: Hub) -> None:
    """The demo library: 5 active loans per patron, 3 new ones a day, 10 a month. The clock is the
    stack's own, frozen at chosen times (the handlers run in this process)."""
    media = [EAN, ONE, "9791000000039", "9791000000053", EXTRA, EXTRA2]
    hub.order(*(line(e, dist=demo.DISTRIBUTOR2 if e == "9791000000053" else demo.DISTRIBUTOR) for e in media))
    who = member()
    held: dict[str, str] = {}

    def take(ean: str, fmt: str = "json", expect: int = 201) -> dict[str, Any]:
        status, body = hub.create(who, ean, fmt)
        assert status == expect, body
        if status == 201:
            held[ean] = body["id"]
        return body

    def give_back(*eans: str) -> None:
        for ean in eans:
            assert hub.v1("DELETE", f"/v1/loans/{held.pop(ean)}")[0] == 200

    day = month_start(days_ahead=45)
    with clock.frozen(day):
        for ean in media[:3]:
            take(ean)
        assert take(media[3], expect=403) == {"errors": ["daily_loan_limit_reached"], "messages": [
            "This patron has reached the maximum number of loans per day."]}
    with clock.frozen(day + timedelta(days=1)):
        take("9791000000053", "xml")
        take(EXTRA, "xml")  # 5 active
        assert take(EXTRA2, "xml", 403) == {"errors": ["loan_limit_reached"], "messages": [
            "You have reached the loan limit authorized by your library."]}
        assert take(EAN, expect=200)["id"] == held[EAN]  # their loan of it: no limit applies, nothing counted
        status, granted, _ = hub.v1("POST", f"/v1/members/{who}/courtesy_loans.xml", "xml")
        assert (status, granted) == (201, {"member_id": who, "courtesy_loans": 1})
        take(EXTRA2)  # past the active limit, once
        give_back(ONE)
        assert take(ONE, expect=403)["errors"] == ["loan_limit_reached"]  # 5 active again
    with clock.frozen(day + timedelta(days=2)):
        give_back(EAN, "9791000000039")
        take(EAN)
        take(ONE)
        assert take("9791000000039", "xml", 403)["errors"] == ["loan_limit_reached"]
        give_back(EAN, ONE)
        take("9791000000039")
        assert take(EAN, expect=403)["errors"] == ["daily_loan_limit_reached"]  # 4 active, 3 today
    with clock.frozen(day + timedelta(days=3)):
        take(EAN)  # the 10th of the month
        give_back(EAN)
        refused = take(ONE, "xml", 403)
        assert refused == {"errors": ["monthly_loan_limit_reached"], "messages": [
            "This patron has reached the maximum number of loans per month."]}
        status, granted, _ = hub.v1("POST", f"/v1/members/{who}/courtesy_loans")
        assert (status, granted) == (201, {"member_id": who, "courtesy_loans": 1})
        take(ONE)  # the 11th, a courtesy loan
        give_back(ONE)
        assert take(EAN, expect=403)["errors"] == ["monthly_loan_limit_reached"]
    record = patrons.get(demo.COLL, who)
    assert (record.month_count, record.courtesy, len(record.active)) == (11, 0, 5)
    with clock.frozen((day + timedelta(days=35)).replace(day=1)):  # a new month; the 21-day loans are over
        take(EAN)
        assert patrons.get(demo.COLL, who).month_count == 1
        listed = hub.v1("GET", "/v1/loans.json", params={"member_id": who, "per_page": 100})[1]["loans"]
        states = [x["state"] for x in listed]
        # the 21-day loans ended: listed as expired at once (nothing written at their end), the new one active
        month = iso((day + timedelta(days=35)).replace(day=1))
        assert len(listed) == 12 and states.count("active") == 1 and "expired" in states
        assert all(x["state"] == "expired" for x in listed if x["state"] != "returned" and x["expires_at"] <= month)


def test_licence_choice_across_several_licences(hub: Hub) -> None:
    now = datetime.now(UTC)
    newest, oldest, middle = (hub.order(line(ONE, dmd=now - timedelta(days=d)), coll=demo.COLL2)[0]
                              for d in (1, 100, 10))
    chosen = []
    for _ in range(3):
        status, _made = hub.create(member(), ONE, key=demo.COLL2_API_KEY)
        assert status == 201
        chosen.append([lid for lid in (newest, oldest, middle) if hub.nus1(lid, demo.COLL2) == 0])
    assert chosen == [[oldest], [oldest, middle], [newest, oldest, middle]]
    status, refused = hub.create(member(), ONE, "xml", key=demo.COLL2_API_KEY)
    assert (status, refused["errors"]) == (403, ["all_copies_on_loan"])


def test_a_patron_racing_themself_gets_one_loan(hub: Hub) -> None:
    hub.order(line(EAN), line(ONE))
    hub.order(line(EAN))  # enough places for every racer, were they to win one each
    free = sum(x.free[Pool.DOWNLOAD] for x in licences.licences_of(demo.COLL, EAN, datetime.now(UTC)))
    who = member()
    results: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(8)

    def racer(fmt: str) -> None:
        start.wait()
        r = requests.post(f"{hub.url}/v1/media/{EAN}/loans.{fmt}", json={"member_id": who}, timeout=60,
                          headers={"X-Api-Key": demo.COLL_API_KEY})
        results.append((r.status_code, answer(fmt, r.text if fmt == "xml" else r.json())))

    threads = [threading.Thread(target=racer, args=(FORMATS[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s, _ in results) == [200] * 7 + [201]
    assert len({b["id"] for _, b in results}) == 1 and len({b["expires_at"] for _, b in results}) == 1
    record = patrons.get(demo.COLL, who)
    assert (record.day_count, record.month_count, len(record.active)) == (1, 1, 1)
    listed = hub.v1("GET", "/v1/loans.json", params={"member_id": who})[1]["loans"]
    assert len(listed) == 1
    assert sum(x.free[Pool.DOWNLOAD] for x in licences.licences_of(demo.COLL, EAN, datetime.now(UTC))) == free - 1


def test_limits_hold_when_a_patron_races_themself(hub: Hub) -> None:
    media = [ONE, "9791000000039", "9791000000053", EXTRA]
    hub.order(line(EAN), *(line(e, dist=demo.DISTRIBUTOR2 if e == "9791000000053" else demo.DISTRIBUTOR)
                           for e in media))
    who = member()
    for _ in range(2):  # two loans today (made and returned): one more fits under the daily limit
        status, made = hub.create(who, EAN)
        assert status == 201
        assert hub.v1("DELETE", f"/v1/loans/{made['id']}")[0] == 200
    results: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(len(media))

    def racer(ean: str) -> None:
        start.wait()
        r = requests.post(f"{hub.url}/v1/media/{ean}/loans.json", data={"member_id": who}, timeout=60,
                          headers={"X-Api-Key": demo.COLL_API_KEY})
        results.append((r.status_code, r.json()))

    threads = [threading.Thread(target=racer, args=(ean,)) for ean in media]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s, _ in results) == [201, 403, 403, 403]
    assert all(b["errors"] == ["daily_loan_limit_reached"] for s, b in results if s == 403)
    assert patrons.get(demo.COLL, who).day_count == 3
    listed = hub.v1("GET", "/v1/loans.json", params={"member_id": who})[1]["loans"]
    assert [x["state"] for x in listed] == ["active", "returned", "returned"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_listing_pages_and_dates(hub: Hub, fmt: str) -> None:
    hub.order(line(EAN))
    who = member()
    base = month_start(days_ahead=100) + timedelta(hours=3)
    ids = []
    for day in range(3):
        with clock.frozen(base + timedelta(days=day)):
            status, made = hub.create(who, EAN)
            assert status == 201
            ids.append(made["id"])
            assert hub.v1("DELETE", f"/v1/loans/{made['id']}")[0] == 200
    page = {"member_id": who, "per_page": 2}
    first = hub.v1("GET", f"/v1/loans.{fmt}", fmt, params=page)[1]
    assert ([x["id"] for x in first["loans"]], first["page"], first["per_page"], first["next_page"]) == (
        [ids[2], ids[1]], 1, 2, 2)
    second = hub.v1("GET", f"/v1/loans.{fmt}", fmt, params={**page, "page": 2})[1]
    assert ([x["id"] for x in second["loans"]], second["next_page"]) == ([ids[0]], None)
    window = {"start_at": iso(base + timedelta(hours=12)), "end_at": iso(base + timedelta(days=1, hours=1))}
    dated = hub.v1("GET", f"/v1/loans.{fmt}", fmt, params={"member_id": who, **window})[1]
    assert [x["id"] for x in dated["loans"]] == [ids[1]]
    everyone = hub.v1("GET", f"/v1/loans.{fmt}", fmt, params=window)[1]
    seen = [x["id"] for x in everyone["loans"]]
    assert ids[1] in seen and ids[0] not in seen and ids[2] not in seen
