"""Library API v1, pure parts: patron limits and courtesy loans, the licence choice, request decoding,
XML/JSON rendering, the demo EPUB files."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from lending.domain.codes import Refused, Status
from lending.domain.licence_choice import lending_order, none_left
from lending.domain.licences import Licence, Pool
from lending.domain.offers import LicenceTerms
from lending.domain.patrons import Limits, Patron, admit, after_loan, check_email_owner, email_digest
from lending.domain.refusals import PARAMS, Reason
from lending.local.epubs import build
from lending.pnb.refusals import answer as pnb_answer
from lending.v1.errors import CODES, REASONS, V1Error, of_refusal
from lending.v1.render import render
from lending.v1.requests import CREATE_LOAN, LIST_LOANS, params, validate
from tests.v1_helpers import from_xml

NOW = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
DEMO = Limits.of({"maxActiveLoans": 5, "maxLoansPerDay": 3, "maxLoansPerMonth": 10, "defaultLoanDays": 21})


def test_limits_come_from_the_library_settings() -> None:
    assert Limits(5, 3, 10, 21) == DEMO
    assert Limits.of({}) == Limits(None, None, None, 21)
    assert Limits.of({"maxActiveLoans": "2", "maxLoansPerDay": -1, "maxLoansPerMonth": True,
                      "defaultLoanDays": 0}) == Limits(2, None, None, 21)
    assert Limits.of({"maxActiveLoans": "²", "maxLoansPerDay": "9" * 5000}) == Limits(None, None, None, 21)


def test_admit_each_limit_in_turn() -> None:
    fresh = Patron("c", "m")
    assert admit(DEMO, fresh, 0, NOW) is False
    with pytest.raises(Refused) as r:
        admit(DEMO, fresh, 5, NOW)
    assert r.value.reason == "patron_active_limit"
    today = Patron("c", "m", day="2026-03-31", day_count=3, month="2026-03", month_count=3)
    with pytest.raises(Refused) as r:
        admit(DEMO, today, 1, NOW)
    assert r.value.reason == "patron_daily_limit"
    assert of_refusal(r.value).messages == ["This patron has reached the maximum number of loans per day."]
    month = Patron("c", "m", day="2026-03-30", day_count=3, month="2026-03", month_count=10)
    with pytest.raises(Refused) as r:
        admit(DEMO, month, 0, NOW)
    assert r.value.reason == "patron_monthly_limit"
    # A new day, a new month: yesterday's and last month's loans no longer count.
    assert admit(DEMO, today, 1, NOW + timedelta(hours=1)) is False
    assert admit(DEMO, month, 0, NOW + timedelta(hours=1)) is False
    assert admit(Limits(), Patron("c", "m", day_count=99, month_count=999), 999, NOW) is False


def test_only_the_parameter_that_ends_the_path_loses_its_format_suffix() -> None:
    from lending.v1.door import split_format

    def split(path: str, **params: str) -> tuple[str, dict[str, str]]:
        return split_format({"rawPath": path, "pathParameters": params})

    assert split("/v1/loans/abc.xml", loan_id="abc.xml") == ("xml", {"loan_id": "abc"})
    assert split("/v1/loans/abc.json", loan_id="abc.json") == ("json", {"loan_id": "abc"})
    assert split("/v1/members/bob.json/courtesy_loans", member_id="bob.json") == ("json", {"member_id": "bob.json"})
    assert split("/v1/members/bob.xml/courtesy_loans.xml", member_id="bob.xml") == ("xml", {"member_id": "bob.xml"})


def test_a_courtesy_loan_passes_every_limit_once() -> None:
    granted = Patron("c", "m", version=3, day="2026-03-31", day_count=3, month="2026-03", month_count=10,
                     courtesy=1)
    assert admit(DEMO, granted, 5, NOW) is True
    after = after_loan(granted, {"a": "1"}, "b", "2", NOW, courtesy_used=True)
    assert (after.courtesy, after.day_count, after.month_count, after.version) == (0, 4, 11, 4)
    with pytest.raises(Refused):
        admit(DEMO, after, 6, NOW)
    # Within the limits the grant is kept for when it is needed.
    assert admit(DEMO, Patron("c", "m", courtesy=1), 0, NOW) is False


def test_after_loan_counts_today_and_this_month_and_drops_ended_loans() -> None:
    old = Patron("c", "m", version=1, active={"gone": "x", "kept": "y"}, day="2026-03-30", day_count=3,
                 month="2026-02", month_count=10)
    new = after_loan(old, {"kept": "y"}, "new", "z", NOW, courtesy_used=False)
    assert new.active == {"kept": "y", "new": "z"}
    assert (new.day, new.day_count, new.month, new.month_count) == ("2026-03-31", 1, "2026-03", 1)
    again = after_loan(new, new.active, "more", "w", NOW, courtesy_used=False)
    assert (again.day_count, again.month_count, again.version) == (2, 2, 3)


def licence(line: str, days: int = 365, dmd_days_ago: int = 1, free: int = 1, nta: int = 10,
            status: str = "OK") -> Licence:
    terms = LicenceTerms(loans=nta, downloads=1, onsite_streams=0, offsite_streams=0, licence_days=days,
                         max_loan_days=21)
    lic = Licence.new(order_line_id=line, gln_coll="c", gln_reseller="r", order_id="o", ean13="e",
                      gln_distributor="d", terms=terms, dmd_date=NOW - timedelta(days=dmd_days_ago))
    lic.free[Pool.DOWNLOAD] = free
    lic.status = status
    return lic


def test_licence_choice_soonest_end_first_free_places_before_full_ones() -> None:
    later = licence("L-later", days=700)
    sooner = licence("L-sooner", days=400)
    soonest_full = licence("L-full", days=100, free=0)
    same_end_older = licence("L-older", days=402, dmd_days_ago=3)  # ends with L-sooner's end + 1 day - 2
    expired = licence("L-expired", days=10, dmd_days_ago=20)
    spent = licence("L-spent", nta=0)
    cancelled = licence("L-cancelled", status="CANCELLED")
    future = licence("L-future", dmd_days_ago=-2)
    every = [later, spent, sooner, expired, soonest_full, cancelled, future, same_end_older]
    order, out = lending_order(every, Pool.DOWNLOAD, NOW)
    assert [x.order_line_id for x in order] == ["L-older", "L-sooner", "L-later", "L-full"]
    assert sorted(r.reason for r in out) == ["cannot_be_loaned", "cannot_be_loaned", "licence_expired",
                                            "nta_exhausted"]
    # Equal ends: the older licence first, then the line id.
    a, b = licence("B", days=400), licence("A", days=400)
    assert [x.order_line_id for x in lending_order([a, b], Pool.DOWNLOAD, NOW)[0]] == ["A", "B"]


def test_none_left_tells_busy_from_spent() -> None:
    busy = none_left([refused("pool_full"), refused("nta_exhausted")])
    assert (busy.reason, of_refusal(busy).messages) == ("all_on_loan", ["All resources are currently on loan."])
    spent = none_left([refused("nta_exhausted"), refused("licence_expired")])
    assert spent.reason == "nothing_left"
    assert of_refusal(busy).codes == ["all_copies_on_loan"] and of_refusal(busy).status == 403
    assert of_refusal(spent).codes == ["no_copies_left"]


def refused(reason: str) -> Refused:
    return Refused(Reason(reason), **{p: "dl" for p in PARAMS.get(Reason(reason), ())})


def test_refusals_of_the_core_map_to_v1_codes() -> None:
    assert set(REASONS.values()) <= set(CODES)
    for reason, status in (("patron_active_limit", 403), ("patron_daily_limit", 403),
                           ("patron_monthly_limit", 403), ("medium_not_found", 404), ("loan_not_found", 404),
                           ("loan_expired", 403), ("loan_returned", 403), ("busy", 503)):
        assert of_refusal(refused(reason)).status == status
    e = V1Error("missing_member_id", "invalid_email")
    assert e.status == 400
    assert e.messages == ["The patron identifier is missing.", "The email address is invalid."]


def event(query: str = "", body: str | None = None, content_type: str | None = None) -> dict:
    headers = {"content-type": content_type} if content_type else {}
    return {"rawQueryString": query, "body": body, "headers": headers}


def test_parameters_from_query_form_or_json_body() -> None:
    assert params(event("member_id=a&page=2")) == {"member_id": "a", "page": "2"}
    assert params(event("member_id=a", "member_id=b&notify=1", "application/x-www-form-urlencoded")) == {
        "member_id": "b", "notify": "1"}
    assert params(event("", json.dumps({"member_id": "c", "notify": 1}), "application/json")) == {
        "member_id": "c", "notify": "1"}  # JSON values are read as text, as form values are
    assert params(event("", '{"member_id": "d"}')) == {"member_id": "d"}  # no content type: JSON by its look
    assert params(event("member_id=&email=")) == {}  # blank is absent
    for bad in (event("", "[1]", "application/json"), event("", "{nope", "application/json"),
                event("", "x", "text/csv")):
        with pytest.raises(V1Error) as e:
            params(bad)
        assert e.value.codes == ["invalid_body"]


def test_validation_reports_every_problem_in_the_spec_style() -> None:
    with pytest.raises(V1Error) as e:
        validate(CREATE_LOAN, {"email": "not-an-email", "notify": "2", "return_url": "ftp://x",
                               "expires_at": "soon"})
    assert e.value.codes == ["missing_member_id", "invalid_expires_at", "invalid_notify", "invalid_email",
                             "invalid_return_url"]
    with pytest.raises(V1Error) as e:
        validate(CREATE_LOAN, {"member_id": "a b"}, "missing_email")
    assert e.value.codes == ["invalid_member_id", "missing_email"]
    req = validate(CREATE_LOAN, {"member_id": " jsmith ", "notify": "1", "email": "j@example.org",
                                 "expires_at": "2026-04-20T13:00:00"})
    assert req.member_id == "jsmith" and req.notify is True and req.email == "j@example.org"
    assert req.expires_at == datetime(2026, 4, 20, 13, tzinfo=UTC)  # the spec's zone-less form is UTC
    assert validate(CREATE_LOAN, {"member_id": 42}).member_id == "42"
    listing = validate(LIST_LOANS, {"start_at": "2026-03-01T00:00:00+01:00"})
    assert (listing.page, listing.per_page) == (1, 50)
    assert listing.start_at == datetime(2026, 2, 28, 23, tzinfo=UTC)
    with pytest.raises(V1Error) as e:
        validate(LIST_LOANS, {"page": "0", "per_page": "101", "end_at": "tomorrow"})
    assert e.value.codes == ["invalid_end_at", "invalid_page", "invalid_per_page"]


LOAN = {"id": "522f30dba5f317bf49000004", "created_at": "2014-01-01T12:00:00Z",
        "downloads": ["2014-01-01T13:00:00Z"], "expires_at": "2014-01-21T12:00:00Z", "hold_expires_at": None,
        "shippings": ["2014-01-01T12:05:00Z"], "member_id": "jsmith", "resource_id": "ENQC1234",
        "key": "9987654321234", "key_type": "isbn"}


def test_xml_has_the_spec_form() -> None:
    kind, text = render("xml", "loan", LOAN)
    assert kind == "application/xml; charset=utf-8"
    assert text == ('<?xml version="1.0" encoding="UTF-8"?>\n<loan><id>522f30dba5f317bf49000004</id>'
                    "<created_at>2014-01-01T12:00:00Z</created_at><downloads><download>2014-01-01T13:00:00Z"
                    "</download></downloads><expires_at>2014-01-21T12:00:00Z</expires_at><hold_expires_at/>"
                    "<shippings><shipping>2014-01-01T12:05:00Z</shipping></shippings><member_id>jsmith</member_id>"
                    "<resource_id>ENQC1234</resource_id><key>9987654321234</key><key_type>isbn</key_type></loan>")
    _, errors = render("xml", "loan", {"errors": ["invalid_email", "missing_member_id"]})
    assert errors.endswith("<loan><errors><error>invalid_email</error><error>missing_member_id</error>"
                           "</errors></loan>")
    page = {"loans": [LOAN, {**LOAN, "member_id": "a<&>\"b"}], "page": 1, "per_page": 2, "next_page": 2}
    _, listing = render("xml", "loans", page, listing="loans")
    root = ET.fromstring(listing.encode())
    assert root.tag == "loans" and root.attrib == {"page": "1", "per_page": "2", "next_page": "2"}
    assert [x.find("member_id").text for x in root] == ["jsmith", 'a<&>"b']  # type: ignore[union-attr]
    assert from_xml(listing) == page
    kind, text = render("json", "loan", LOAN)
    assert kind == "application/json; charset=utf-8" and json.loads(text) == LOAN


def test_demo_epub_is_a_valid_epub_container() -> None:
    data = build("9791000000015", "Le Chant des rivieres & co")
    assert data == build("9791000000015", "Le Chant des rivieres & co")  # reproducible
    assert data[30:38] == b"mimetype" and data[38:58] == b"application/epub+zip"  # first, uncompressed
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        first = z.infolist()[0]
        assert (first.filename, first.compress_type, first.extra) == ("mimetype", zipfile.ZIP_STORED, b"")
        assert z.testzip() is None
        container = ET.fromstring(z.read("META-INF/container.xml"))
        ns = {"c": "urn:oasis:names:tc:opendocument:xmlns:container"}
        opf_path = container.find("c:rootfiles/c:rootfile", ns).attrib["full-path"]  # type: ignore[union-attr]
        opf = ET.fromstring(z.read(opf_path))
        ns = {"o": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
        assert opf.find("o:metadata/dc:title", ns).text == "Le Chant des rivieres & co"  # type: ignore[union-attr]
        assert opf.find("o:metadata/dc:identifier", ns).text == "urn:isbn:9791000000015"  # type: ignore[union-attr]
        for item in opf.findall("o:manifest/o:item", ns):
            ET.fromstring(z.read(f"OEBPS/{item.attrib['href']}"))  # every listed file is there, well-formed
        assert [i.attrib["idref"] for i in opf.findall("o:spine/o:itemref", ns)] == ["text", "ch2", "ch3"]


def test_an_email_is_kept_as_a_keyed_digest_that_ignores_case_and_blanks() -> None:
    key = b"k" * 32
    digest = email_digest(key, "Reader@Example.org")
    assert digest == email_digest(key, "  reader@example.ORG ")
    assert "reader" not in digest and len(digest) == 40
    assert digest != email_digest(key, "other@example.org")
    assert digest != email_digest(b"another key", "reader@example.org")  # worthless without the hub's key


def test_an_email_belongs_to_the_first_patron_who_gave_it() -> None:
    check_email_owner(None, "m1")  # nobody yet
    check_email_owner("m1", "m1")  # the same patron again
    with pytest.raises(Refused) as refused:
        check_email_owner("m1", "m2")
    assert (pnb_answer(refused.value)[0], refused.value.reason) == (Status.INVALID_ARGUMENTS, "email_in_use")
    assert of_refusal(refused.value).codes == ["email_in_use"]
    assert of_refusal(refused.value).status == 400
    assert of_refusal(refused.value).messages == ["The email address is already in use"]
