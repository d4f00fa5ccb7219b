"""The distributor's offers on emulated AWS: a console offer takes the ONIX path (reader rules, ingest,
update file), leaves the feed's cursor where it was, waits for a running sync, and stays within the
distributor's own catalogue; the licence models; an EPUB through the one ingest function; sales points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lending.catalogue import console_offers
from lending.domain.offers import MAX_COUNT, MAX_DAYS, model_of, model_terms
from lending.domain.refusals import Reason, Refused
from lending.domain.staff import Staff, StaffRole, StaffState
from lending.local import demo, epubs
from lending.services import distributor as uses
from lending.services import files
from lending.services.context import Ctx
from lending.store import catalogue as feeds
from lending.store import offers as offer_store
from tests.helpers import invoke, line, loan_body, order_ok, pnb

pytestmark = pytest.mark.usefixtures("aws")

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
EAN = "9791000000091"  # not in the demo catalogue
FORM = {"ean13": EAN, "title": "Cartes du ciel", "price": "12.50", "currency": "EUR", "tax_rate": "550",
        "availability": "20", "model": "loans", "loans": "20", "downloads": "2", "onsite_streams": "1",
        "offsite_streams": "0", "licence_days": "1825", "max_loan_days": "28"}


def staff(gln: str = demo.DISTRIBUTOR) -> Staff:
    return Staff(email="x@d.example", gln_coll=gln, role=StaffRole.ADMIN, state=StaffState.ACTIVE)


def publish(form: dict[str, str], at: datetime = NOW, creating: bool = True, who: Staff | None = None) -> object:
    who = who or staff()
    return console_offers.publish(Ctx(now=at), who, uses.offer_of_form(who.gln_coll, form), creating)


def test_an_offer_goes_the_onix_way_and_keeps_the_feed_cursor() -> None:
    before = feeds.state(demo.DISTRIBUTOR)
    known = {f.name for f in feeds.update_files_since("2000-01-01T00:00:00Z", demo.DISTRIBUTOR)}
    offer = publish(FORM)
    stored = offer_store.get(EAN, demo.DISTRIBUTOR)
    assert stored == offer and stored is not None
    assert (stored.terms.loans, stored.terms.downloads, stored.terms.licence_days) == (20, 2, 1825)
    assert (stored.price_ttc, stored.price_ht, stored.tax_rate) == (1250, 1185, 550)
    after = feeds.state(demo.DISTRIBUTOR)
    assert (after.position, after.source, after.unfiled) == (before.position, before.source, [])
    files_now = feeds.update_files_since("2000-01-01T00:00:00Z", demo.DISTRIBUTOR)
    assert [f.count for f in files_now if f.name not in known] == [1]
    # the same form again changes nothing: no new update file
    publish(FORM, NOW + timedelta(minutes=1), creating=False)
    assert len(feeds.update_files_since("2000-01-01T00:00:00Z", demo.DISTRIBUTOR)) == len(known) + 1
    with pytest.raises(Refused) as e:
        publish(FORM, NOW + timedelta(minutes=2))
    assert e.value.reason is Reason.OFFER_EXISTS


def test_the_onix_readers_rules_refuse_what_the_form_lets_through() -> None:
    # a fraction of a cent is the form's to refuse; a check digit is stdnum's; the rest is the reader's
    for change, reason in (({"ean13": EAN[:-1] + "2"}, Reason.EAN_INVALID), ({"price": "1.005"}, Reason.OFFER_INVALID),
                           ({"model": "free"}, Reason.OFFER_INVALID), ({"max_loan_days": "4000"}, Reason.OFFER_INVALID),
                           ({"downloads": "0", "onsite_streams": "0"}, Reason.OFFER_INVALID)):
        with pytest.raises(Refused) as e:
            publish({**FORM, **change})
        assert e.value.reason is reason, change
    assert offer_store.get(EAN, demo.DISTRIBUTOR) is None


def test_a_running_sync_makes_the_console_wait() -> None:
    assert feeds.take_lease(demo.DISTRIBUTOR, "someone", "2026-05-04T08:59:00Z", "2026-05-04T09:15:00Z")
    with pytest.raises(Refused) as e:
        publish(FORM)
    assert e.value.reason is Reason.SYNC_BUSY and offer_store.get(EAN, demo.DISTRIBUTOR) is None


def test_licence_models() -> None:
    assert model_of(model_terms("loans", 30, 1, 0, 0, 3650, 21)) == "loans"
    timed = model_terms("time_limited", 0, 1, 0, 0, 365, 21)
    assert (timed.loans, model_of(timed)) == (MAX_COUNT, "time_limited")
    perpetual = model_terms("perpetual", 40, 1, 0, 0, 0, 21)
    assert (perpetual.licence_days, model_of(perpetual)) == (MAX_DAYS, "perpetual")
    for args in (("loans", 0, 1, 0, 0, 365, 21), ("loans", 5, 0, 0, 0, 365, 21), ("loans", 5, 1, 0, 0, 10, 21)):
        with pytest.raises(ValueError):
            model_terms(*args)  # type: ignore[arg-type]
    # both survive the ONIX round trip (loans or licence days at the ceiling)
    publish({**FORM, "model": "perpetual", "licence_days": ""})
    assert model_of(offer_store.get(EAN, demo.DISTRIBUTOR).terms) == "perpetual"  # type: ignore[union-attr]
    publish({**FORM, "model": "time_limited", "loans": ""}, NOW + timedelta(minutes=1), creating=False)
    assert model_of(offer_store.get(EAN, demo.DISTRIBUTOR).terms) == "time_limited"  # type: ignore[union-attr]


def test_tenancy_epub_and_sales_points() -> None:
    other = staff(demo.DISTRIBUTOR2)
    with pytest.raises(Refused) as e:
        uses.offer(other, "9791000000015")
    assert e.value.reason is Reason.NOT_FOUND
    with pytest.raises(Refused):
        uses.upload_epub(other, "9791000000015", epubs.build("9791000000015", "x"))
    with pytest.raises(Refused) as e:
        uses.offers(Staff(email="a@b.example", gln_coll=demo.COLL, role=StaffRole.ADMIN))
    assert e.value.reason is Reason.FORBIDDEN
    with pytest.raises(Refused) as e:
        uses.upload_epub(staff(), "9791000000015", b"PK\x03\x04junk")
    assert e.value.reason is Reason.EPUB_INVALID
    book = epubs.build("9791000000015", "Le Chant des rivieres, v2")
    uses.upload_epub(staff(), "9791000000015", book)
    got = files.open_epub("9791000000015")
    assert got is not None and got.content == book

    line_id, = order_ok(line("9791000000015"))
    assert pnb("loanBook", loan_body(line_id, "SP1"))["returnStatus"] == "OK"
    _, rows = uses.sales_of_staff(Ctx(), staff(), "9791000000015")
    row = next(r for r in rows if r.order_line_id == line_id)
    assert (row.gln_reseller, row.gln_coll, row.loans_used, row.loans_left, row.active_loans) == (
        demo.RESELLER, demo.COLL, 1, 29, 1)
    import base64

    basic = base64.b64encode(f"{demo.DISTRIBUTOR}:{demo.DISTRIBUTOR_PASSWORD}".encode()).decode()
    status, body = invoke("GET", "/distributor/sales/9791000000015", headers={"authorization": f"Basic {basic}"})
    assert status == 200 and line_id in [p["orderLineId"] for p in body["salesPoints"]]
    assert invoke("GET", "/distributor/sales/9791000000015")[0] == 401
    assert invoke("GET", "/distributor/sales/97910", headers={"authorization": f"Basic {basic}"})[0] == 404
