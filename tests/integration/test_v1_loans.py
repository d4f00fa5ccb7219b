"""Library API v1 on emulated AWS: limits by day and month with an injected clock, courtesy loans, the
licence choice (and the next licence when a race takes the place), races of a patron with themself made
deterministic, expiry, the fulfillment link, tenants, pagination, emails."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lending.domain.dates import iso
from lending.domain.values import replace
from lending.local import demo, functions, mail, template
from lending.local.gateway import build_event
from lending.services import api_keys, clock, patron_loans
from lending.store import accounts, licences, patrons, table
from lending.store import loans as loan_store
from tests.helpers import invoke, line, loan_body, order_body, order_ok, pnb, stored_events
from tests.v1_helpers import KEY, KEY2, answer, month_start

pytestmark = pytest.mark.usefixtures("aws")

EAN = "9791000000015"  # 2 places, 30 accesses, 60 days at most
ONE = "9791000000022"  # 1 place, 10 accesses, 21 days at most


def create(member: str, ean: str = EAN, fmt: str = "json", key: dict[str, str] = KEY, **params: Any
           ) -> tuple[int, dict[str, Any]]:
    status, payload = invoke("POST", f"/v1/media/{ean}/loans.{fmt}", {"member_id": member, **params}, key)
    return status, answer(fmt, payload)


def call(method: str, path: str, fmt: str = "json", key: dict[str, str] = KEY, body: Any = None
         ) -> tuple[int, dict[str, Any]]:
    status, payload = invoke(method, path, body, key)
    return status, answer(fmt, payload)


def at(when: datetime) -> Any:
    return clock.frozen(when)


def free_places(order_line_id: str) -> int:
    item = licences.get_line(order_line_id)
    assert item
    return int(item["dlFree"])


def test_daily_and_monthly_limits_with_an_injected_clock() -> None:
    (lid,) = order_ok(line(EAN))
    base = month_start()
    made = 0
    for day in range(4):
        for hour in range(3):
            if made == 10:
                break
            with at(base + timedelta(days=day, hours=hour)):
                status, body = create("reader1")
                assert status == 201, body
                assert call("DELETE", f"/v1/loans/{body['id']}")[0] == 200
            made += 1
        if day < 3:
            with at(base + timedelta(days=day, hours=5)):
                assert create("reader1") == (403, {"errors": ["daily_loan_limit_reached"], "messages": [
                    "This patron has reached the maximum number of loans per day."]})
    with at(base + timedelta(days=3, hours=6)):
        status, body = create("reader1", fmt="xml")
        assert (status, body["errors"]) == (403, ["monthly_loan_limit_reached"])
        assert body["messages"] == ["This patron has reached the maximum number of loans per month."]
        assert create("reader2")[0] == 201  # limits are per patron
    record = patrons.get(demo.COLL, "reader1")
    assert (record.month_count, record.day_count, record.courtesy) == (10, 1, 0)
    next_month = (base + timedelta(days=32)).replace(day=1)
    with at(next_month):
        assert create("reader1")[0] == 201
    assert patrons.get(demo.COLL, "reader1").month_count == 1
    # The 10 returns gave their places back; reader2's loan ended before next month: reader1's loan, taking
    # one place, dropped its seat (nothing was written at its end). One place is free.
    assert free_places(lid) == 1


def test_active_limit_courtesy_loans_and_settings_per_library() -> None:
    coll2 = accounts.get(demo.COLL2)
    assert coll2
    accounts.save(replace(coll2, settings={**coll2.settings, "maxActiveLoans": 2, "defaultLoanDays": 7}))
    api_keys.forget()
    order_ok(line(EAN), line(ONE), line("9791000000039"), line("9791000000053", dist=demo.DISTRIBUTOR2),
             glnColl=demo.COLL2)
    now = datetime.now(UTC).replace(microsecond=0)
    with at(now):
        first = create("r", EAN, key=KEY2)
        assert first[0] == 201 and first[1]["expires_at"] == iso(now + timedelta(days=7))  # COLL2's default
        assert create("r", ONE, key=KEY2)[0] == 201
        assert create("r", "9791000000039", key=KEY2) == (403, {
            "errors": ["loan_limit_reached"],
            "messages": ["You have reached the loan limit authorized by your library."]})
        granted = call("POST", "/v1/members/r/courtesy_loans", key=KEY2)
        assert granted == (201, {"member_id": "r", "courtesy_loans": 1})
        third = create("r", "9791000000039", key=KEY2)
        assert third[0] == 201
        assert create("r", "9791000000039", key=KEY2)[1]["id"] == third[1]["id"]  # a replay uses nothing
        assert create("r", "9791000000053", key=KEY2)[1]["errors"] == ["loan_limit_reached"]
        assert call("DELETE", f"/v1/loans/{first[1]['id']}", key=KEY2)[0] == 200
        assert create("r", "9791000000053", key=KEY2)[0] == 403  # 2 active: still at the limit
        granted = call("POST", "/v1/members/r/courtesy_loans.xml", "xml", key=KEY2)
        assert granted == (201, {"member_id": "r", "courtesy_loans": 1})
        assert call("POST", "/v1/members/r/courtesy_loans.json", key=KEY2)[1]["courtesy_loans"] == 2
        assert create("r", "9791000000053", key=KEY2)[0] == 201
        assert patrons.get(demo.COLL2, "r").courtesy == 1  # one used, one left for later
        # The demo library keeps its own settings: 5 active loans, 21 days (14 for 039, its maximum).
        order_ok(line("9791000000039"))
        mine = create("r", "9791000000039")
        assert mine[0] == 201 and mine[1]["expires_at"] == iso(now + timedelta(days=14))
        explicit = create("r2", "9791000000039", expires_at=iso(now + timedelta(days=3)))
        assert explicit[1]["expires_at"] == iso(now + timedelta(days=3))
        bad = call("POST", "/v1/members/a%20b/courtesy_loans", key=KEY2)
        assert bad == (400, {"errors": ["invalid_member_id"],
                             "messages": ["The patron identifier is invalid."]})


def test_licence_choice_soonest_end_first_then_the_next_one() -> None:
    now = datetime.now(UTC)
    newest, oldest, middle, expired = (
        order_ok(line(ONE, dmd=now - timedelta(days=d)))[0] for d in (1, 100, 10, 800))
    order_ok(line("9791000000053", dist=demo.DISTRIBUTOR2))  # another medium of the library: not a candidate
    got = {}
    for member in ("a", "b", "c"):
        status, body = create(member, ONE)
        assert status == 201
        loan = loan_store.get(demo.COLL, body["id"])
        assert loan
        got[member] = loan.order_line_id
    assert got == {"a": oldest, "b": middle, "c": newest}
    assert create("d", ONE) == (403, {"errors": ["all_copies_on_loan"],
                                     "messages": ["All resources are currently on loan."]})
    b_loan = next(x for x in loan_store.of_line(middle) if x.extra.get("memberId") == "b")
    assert call("DELETE", f"/v1/loans/{b_loan.loan_id}")[0] == 200
    status, body = create("d", ONE)
    assert status == 201 and loan_store.get(demo.COLL, body["id"]).order_line_id == middle  # type: ignore[union-attr]
    assert free_places(expired) == 1  # an ended licence is never used


def test_a_race_that_takes_the_place_moves_to_the_next_licence(monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC)
    soon, late = (order_ok(line(ONE, dmd=now - timedelta(days=d)))[0] for d in (50, 1))
    real = loan_store.lend
    calls: list[str] = []

    def racing(new: Any, at_: datetime, patron: Any = None, reservation: Any = None, prune: bool = True,
               line: Any = None) -> None:
        if new.origin == "v1":
            calls.append(new.order_line_id)
            if len(calls) == 1:  # a PNB loan lands on the chosen licence between our read and our transaction
                assert pnb("loanBook", loan_body(soon, "PNBRACE", ean13=ONE))["returnStatus"] == "OK"
        real(new, at_, patron, reservation, prune, line)

    monkeypatch.setattr(loan_store, "lend", racing)
    status, body = create("racer", ONE)
    assert status == 201
    assert calls == [soon, late]
    assert loan_store.get(demo.COLL, body["id"]).order_line_id == late  # type: ignore[union-attr]
    assert (free_places(soon), free_places(late)) == (0, 0)


def test_nothing_left_is_not_busy() -> None:
    (lid,) = order_ok(line("9791000000039"))  # 3 accesses in all, 5 places
    for member in ("x", "y", "z"):
        status, body = create(member, "9791000000039")
        assert status == 201
        assert call("DELETE", f"/v1/loans/{body['id']}")[0] == 200
    assert create("w", "9791000000039") == (403, {"errors": ["no_copies_left"], "messages": [
        "This resource can no longer be lent by your library."]})
    assert free_places(lid) == 5


def inside_first_attempt(monkeypatch: pytest.MonkeyPatch, rival: Callable[[], tuple[int, dict[str, Any]]]
                         ) -> list[tuple[int, dict[str, Any]]]:
    """Make a race deterministic: `rival` runs to its end inside the first loan transaction attempt of the
    request under test, just before that attempt lands. The list receives the rival's answer."""
    real = loan_store.lend
    inner: list[tuple[int, dict[str, Any]]] = []

    def lend(new: Any, at_: datetime, patron: Any = None, reservation: Any = None, prune: bool = True,
             line: Any = None) -> None:
        if not inner:
            inner.append((0, {}))
            inner[0] = rival()
        real(new, at_, patron, reservation, prune, line)

    monkeypatch.setattr(loan_store, "lend", lend)
    return inner


def test_a_patron_racing_themself_gets_one_loan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The interleaving of two creations made deterministic: the second one runs to its end inside the
    first one's transaction attempt, so the first one's version condition fails and it decides again."""
    (lid,) = order_ok(line(EAN))
    inner = inside_first_attempt(monkeypatch, lambda: create("twin", EAN))
    outer = create("twin", EAN)
    assert inner[0][0] == 201 and outer == (200, inner[0][1])
    record = patrons.get(demo.COLL, "twin")
    assert (record.day_count, record.month_count, list(record.active)) == (1, 1, [outer[1]["id"]])
    assert free_places(lid) == 1
    assert len([x for x in loan_store.of_line(lid) if x.extra.get("memberId") == "twin"]) == 1


def test_limits_hold_when_a_patron_races_themself(monkeypatch: pytest.MonkeyPatch) -> None:
    order_ok(line(EAN), line(ONE), line("9791000000039"))
    assert create("busy", EAN)[0] == 201
    assert create("busy", ONE)[0] == 201  # 2 today, the limit is 3
    order_ok(line("9791000000053", dist=demo.DISTRIBUTOR2))
    inner = inside_first_attempt(monkeypatch, lambda: create("busy", "9791000000053"))
    outer = create("busy", "9791000000039")
    assert inner[0][0] == 201
    assert outer[1]["errors"] == ["daily_loan_limit_reached"]
    assert patrons.get(demo.COLL, "busy").day_count == 3


def test_expired_loan_and_its_links() -> None:
    (lid,) = order_ok(line(EAN))
    start = datetime.now(UTC).replace(microsecond=0)
    with at(start):
        status, body = create("late", EAN, expires_at=iso(start + timedelta(days=2)))
    assert status == 201 and body["expires_at"] == iso(start + timedelta(days=2))
    token = body["url"].rsplit("/", 1)[1]
    with at(start + timedelta(days=1)):
        assert raw_get(f"/fulfillment/{token}")["statusCode"] == 200
        doc = call("GET", f"/v1/loans/{body['id']}")[1]
        assert doc["url_expires_at"] == iso(start + timedelta(days=1, hours=1))  # short-lived
    with at(start + timedelta(days=1, hours=2)):
        gone = raw_get(f"/fulfillment/{doc['url'].rsplit('/', 1)[1]}")
        assert gone["statusCode"] == 403 and b"invalid_link" in gone["body"].encode()
    with at(start + timedelta(days=3)):
        assert call("GET", f"/v1/loans/{body['id']}") == (403, {"errors": ["loan_expired"],
                                                             "messages": ["The loan has expired."]})
        assert loan_store.get(demo.COLL, body["id"]).state.value == "EXPIRED"  # type: ignore[union-attr]
        assert free_places(lid) == 2  # expired on the way: its place is back
        assert call("DELETE", f"/v1/loans/{body['id']}.xml", "xml")[1]["errors"] == ["loan_expired"]
        listed = call("GET", "/v1/loans.json?member_id=late")[1]["loans"]
        assert [(x["state"], len(x["downloads"])) for x in listed] == [("expired", 2)]
        assert create("late", EAN)[0] == 201  # an ended loan no longer stands in the way


def raw_get(path: str) -> dict[str, Any]:
    """The fulfillment function's own answer (its body is base64 binary)."""
    fns = template.functions(template.load())
    fn = fns["FulfillmentFunction"]
    route = fn.routes[0]
    token = path.rsplit("/", 1)[1]
    event = build_event("GET", path, "", {"host": "hub.test"}, b"", route, {"token": token}, "127.0.0.1")
    result: dict[str, Any] = functions.invoke(fn, event)
    return result


def test_fulfillment_link_serves_the_file_records_it_and_refuses_the_rest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    order_ok(line(EAN))
    status, body = create("reader", EAN)
    assert status == 201
    token = body["url"].rsplit("/", 1)[1]
    got = raw_get(f"/fulfillment/{token}")
    assert got["statusCode"] == 200 and got["isBase64Encoded"] is True
    assert got["headers"]["Content-Type"] == "application/epub+zip"
    assert got["headers"]["Content-Disposition"] == f'attachment; filename="{EAN}.epub"'
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(got["body"]))) as z:
        assert z.read("mimetype") == b"application/epub+zip"
    assert len(call("GET", "/v1/loans.json?member_id=reader")[1]["loans"][0]["downloads"]) == 1
    monkeypatch.setenv("FULFILLMENT_INLINE_MAX", "100")  # a large book: a redirect to a short S3 link
    moved = raw_get(f"/fulfillment/{token}")
    assert moved["statusCode"] == 302 and f"epub/{EAN}.epub" in moved["headers"]["Location"]
    assert "X-Amz-Signature=" in moved["headers"]["Location"]
    monkeypatch.delenv("FULFILLMENT_INLINE_MAX")
    import boto3

    boto3.client("s3").delete_object(Bucket=template_bucket(), Key=f"epub/{EAN}.epub")
    assert raw_get(f"/fulfillment/{token}")["statusCode"] == 404
    assert call("DELETE", f"/v1/loans/{body['id']}")[0] == 200
    returned = raw_get(f"/fulfillment/{token}")
    assert returned["statusCode"] == 403 and "loan_returned" in returned["body"]
    assert raw_get("/fulfillment/forged.token")["statusCode"] == 403


def template_bucket() -> str:
    import os

    return os.environ["BUCKET_NAME"]


def test_a_library_never_sees_another_s_loans() -> None:
    order_ok(line(EAN))
    status, body = create("mine", EAN)
    assert status == 201
    for method in ("GET", "DELETE"):
        assert call(method, f"/v1/loans/{body['id']}", key=KEY2)[0] == 404
    assert call("GET", "/v1/loans.json", key=KEY2)[1]["loans"] == []
    assert call("GET", "/v1/loans.json?member_id=mine", key=KEY2)[1]["loans"] == []
    # A PNB loan of the same library is not a patron loan of the API.
    (lid,) = order_ok(line(EAN))
    assert pnb("loanBook", loan_body(lid, "PNBONLY"))["returnStatus"] == "OK"
    assert call("GET", "/v1/loans/PNBONLY") == (404, {"errors": ["loan_not_found"],
                                                      "messages": ["Loan not found."]})
    # The library's medium needs the library's own licence.
    assert create("mine", "9791000000053", key=KEY2)[1]["errors"] == ["medium_not_found"]
    for key in ({}, {"x-api-key": "nope"}, {"x-api-key": demo.COLL_PASSWORD}):
        status, payload = invoke("GET", "/v1/loans.json", None, key)
        assert (status, payload["errors"]) == (401, ["invalid_api_key"])
    status, payload = invoke("GET", "/v1/loans.xml", None, {})
    assert status == 401 and answer("xml", payload)["errors"] == ["invalid_api_key"]


def test_bad_requests_and_unknown_media() -> None:
    order_ok(line(EAN))
    soon = iso(datetime.now(UTC) - timedelta(minutes=1))
    cases = [
        ({}, ["missing_member_id"]),
        ({"member_id": "", "email": "x@"}, ["missing_member_id", "invalid_email"]),
        ({"member_id": "m", "notify": "1"}, ["missing_email"]),
        ({"member_id": "m", "notify": "yes", "email": "a@b.org"}, ["invalid_notify"]),
        ({"member_id": "m", "expires_at": soon}, ["invalid_expires_at"]),
        ({"member_id": "m", "return_url": "javascript:alert(1)"}, ["invalid_return_url"]),
    ]
    for params, codes in cases:
        for fmt in ("json", "xml"):
            status, payload = invoke("POST", f"/v1/media/{EAN}/loans.{fmt}", params, KEY)
            assert (status, answer(fmt, payload)["errors"]) == (400, codes), params
    for medium in (demo.UNKNOWN_EAN, "9791000000046", "9791000000016", "abc"):
        assert create("m", medium) == (404, {"errors": ["medium_not_found"],
                                             "messages": ["The media cannot be found."]})
    status, payload = invoke("POST", f"/v1/media/{EAN}/loans.json", "member_id=m&expires_at=2020-01-01", KEY)
    assert status == 400  # a JSON content type with a form body
    assert invoke("GET", "/v1/loans/unknown", None, KEY)[0] == 404
    assert call("GET", "/v1/loans.json?page=0&start_at=x")[1]["errors"] == ["invalid_start_at",
                                                                             "invalid_page"]
    reversed_dates = "/v1/loans.json?start_at=2026-02-01&end_at=2026-01-01"
    assert call("GET", reversed_dates)[1]["errors"] == ["invalid_end_at"]


def test_an_email_already_in_use_by_another_patron(monkeypatch: pytest.MonkeyPatch) -> None:
    lid, _ = order_ok(line(EAN), line(ONE))
    monkeypatch.setattr(patron_loans, "notify", lambda *a: True)
    assert create("first", EAN, notify=1, email="Shared@Example.org")[0] == 201
    for fmt in ("json", "xml"):  # another patron, the same address in any case: refused, nothing taken
        status, body = create("second", EAN, fmt, notify=1, email="shared@example.ORG")
        assert (status, body["errors"]) == (400, ["email_in_use"])
        assert body["messages"] == ["The email address is already in use"]
    assert free_places(lid) == 1 and patrons.get(demo.COLL, "second").version == 0
    # Its owner may give it again, the other patron another address; the address is kept only as a digest.
    assert create("first", ONE, email="shared@example.org")[0] == 201
    assert create("second", EAN, email="second@example.org")[0] == 201
    stored = str(table.client().scan(TableName=table.table_name()))
    assert "example.org" not in stored.lower()
    # Another library's patron may use the same address.
    order_ok(line(EAN), glnColl=demo.COLL2)
    assert create("second", EAN, key=KEY2, email="shared@example.org")[0] == 201


def test_two_patrons_racing_for_one_email_one_gets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim is in the loan's transaction: the second patron's claim, landing inside the first one's
    attempt, makes that attempt fail, and the first patron is then told the address is taken."""
    (lid,) = order_ok(line(EAN))
    inner = inside_first_attempt(monkeypatch, lambda: create("rival", EAN, email="race@example.org"))
    outer = create("racer", EAN, email="race@example.org")
    assert inner[0][0] == 201 and outer[0] == 400 and outer[1]["errors"] == ["email_in_use"]
    assert free_places(lid) == 1
    assert [x.extra.get("memberId") for x in loan_store.of_line(lid)] == ["rival"]


def test_listing_newest_first_by_page_and_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    order_ok(line(EAN))
    base = month_start()
    ids = []
    for i in range(5):
        with at(base + timedelta(days=i)):
            status, body = create("pager", EAN)
            assert status == 201
            ids.append(body["id"])
            assert call("DELETE", f"/v1/loans/{body['id']}")[0] == 200
    with at(base + timedelta(days=5)):
        other = create("someone", EAN)[1]["id"]
    page1 = call("GET", "/v1/loans.json?member_id=pager&per_page=2")[1]
    assert [x["id"] for x in page1["loans"]] == [ids[4], ids[3]] and page1["next_page"] == 2
    page3 = call("GET", "/v1/loans.xml?member_id=pager&per_page=2&page=3", "xml")[1]
    assert ([x["id"] for x in page3["loans"]], page3["page"], page3["next_page"]) == ([ids[0]], 3, None)
    dated = call("GET", f"/v1/loans.json?member_id=pager&start_at={iso(base + timedelta(days=1))}"
                        f"&end_at={iso(base + timedelta(days=3))}")[1]
    assert [x["id"] for x in dated["loans"]] == [ids[3], ids[2], ids[1]]
    everyone = call("GET", "/v1/loans.json")[1]
    assert [x["id"] for x in everyone["loans"]] == [other, *reversed(ids)]
    assert [x["member_id"] for x in everyone["loans"][:2]] == ["someone", "pager"]
    assert everyone["loans"][1]["state"] == "returned" and everyone["loans"][1]["returned_at"]
    only_first = call("GET", f"/v1/loans.json?end_at={iso(base)}")[1]
    assert [x["id"] for x in only_first["loans"]] == [ids[0]]
    # A page further down reads the loans of that page only (the list items are what it skips over).
    read: list[int] = []
    real = table.batch_get
    monkeypatch.setattr(table, "batch_get", lambda keys: read.append(len(keys)) or real(keys))
    page2 = call("GET", "/v1/loans.json?per_page=2&page=2")[1]
    assert ([x["id"] for x in page2["loans"]], page2["next_page"], read) == ([ids[3], ids[2]], 3, [2])


def test_notify_emails_the_link_and_records_it(monkeypatch: pytest.MonkeyPatch) -> None:
    order_ok(line(EAN))
    before = len(mail.sent())
    status, body = create("mailed", EAN, notify="1", email="reader@example.org", return_url="https://ils.example/cb")
    assert status == 201
    (sent,) = mail.sent()[before:]
    assert sent.to == ["reader@example.org"] and sent.subject == "Your loan: Le Chant des rivieres"
    assert body["url"] in sent.body and body["expires_at"] in sent.body
    token = body["url"].rsplit("/", 1)[1]
    assert raw_get(f"/fulfillment/{token}")["statusCode"] == 200
    listed = call("GET", "/v1/loans.json?member_id=mailed")[1]["loans"][0]
    assert len(listed["shippings"]) == 1 and len(listed["downloads"]) == 1
    # The same request again: the same loan, and the email again.
    assert create("mailed", EAN, notify=1, email="reader@example.org")[0] == 200
    assert len(mail.sent()) == before + 2
    # SES refusing the email does not undo the loan; its `shippings` stays empty.
    monkeypatch.setenv("MAIL_FROM", "unverified@elsewhere.example")
    status, body = create("unmailed", EAN, notify=1, email="other@example.org")
    assert status == 201
    assert call("GET", "/v1/loans.json?member_id=unmailed")[1]["loans"][0]["shippings"] == []
    record = loan_store.get(demo.COLL, body["id"])
    assert record and record.callback_url is None and record.extra == {"memberId": "unmailed"}
    assert loan_store.get(demo.COLL, listed["id"]).callback_url == "https://ils.example/cb"  # type: ignore[union-attr]


def test_early_return_frees_the_place_lists_it_and_queues_the_callback() -> None:
    (lid,) = order_ok(line(ONE))
    status, body = create("back", ONE, return_url="https://ils.example/returned")
    assert status == 201 and free_places(lid) == 0
    status, returned = call("DELETE", f"/v1/loans/{body['id']}")
    assert status == 200 and returned["state"] == "returned" and returned["member_id"] == "back"
    assert free_places(lid) == 1
    ended = pnb("getEndedLoans", {"glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD,
                                  "loanId": [body["id"]]})
    assert [x["loanId"] for x in ended["loanEndedResponseLine"]] == [body["id"]]
    (event,) = outbox_events(body["id"])
    assert event["url"] == "https://ils.example/returned"
    assert event["body"] == {"event": "loan.returned", "loanId": body["id"], "orderLineId": lid, "ean13": ONE,
                             "returnDate": returned["returned_at"], "memberId": "back"}
    assert call("DELETE", f"/v1/loans/{body['id']}") == (403, {"errors": ["loan_returned"], "messages": [
        "This loan's availability period has expired."]})
    assert call("GET", f"/v1/loans/{body['id']}")[1]["errors"] == ["loan_returned"]
    assert len(outbox_events(body["id"])) == 1


def outbox_events(loan_id: str) -> list[dict[str, Any]]:
    return stored_events(loan_id)


def test_order_body_helper_for_another_library() -> None:
    """order_ok(glnColl=...) places the licence with the second collectivity (used above)."""
    answer_ = pnb("sendOrder", order_body(line(EAN), glnColl=demo.COLL2))
    assert answer_["returnStatus"] == "OK"
    assert [x.gln_coll for x in licences.licences_of(demo.COLL2, EAN, datetime.now(UTC))] == [demo.COLL2]


def test_the_sample_events_run() -> None:
    """events/v1_*.json (what `sam local invoke -e` / `make invoke` take) are real requests."""
    import json
    from pathlib import Path

    order_ok(line(EAN))
    fns = {f.code_uri.name: f for f in template.functions(template.load()).values()}
    expected = {"v1_create_loan": 201, "v1_list_loans": 200, "v1_get_loan": 404, "v1_return_loan": 404,
                "v1_courtesy_loans": 201}
    for stem, status in expected.items():
        event = json.loads((Path(template.ROOT) / "events" / f"{stem}.json").read_text())
        assert functions.invoke(fns[stem], event)["statusCode"] == status, stem
