"""End to end over HTTP: a Cantook-family harvester, paging `/v1/resources.json` by the headers exactly as
rero-ebooks does (its key in the base URL, `http://<key>:@host`), gets every title the library holds
once, and the available ones; an OPDS client walks the OPDS 2 feed by its next links, each page valid
against the OPDS 2 schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from lending.domain.dates import iso
from lending.domain.identifiers import with_check_digit
from lending.domain.offers import LicenceTerms, Offer
from lending.local import demo
from lending.store import licences as line_store
from lending.store import offers as offer_store
from tests.cantook_harvester import Harvester
from tests.helpers import line, order_body
from tests.opds_schema import errors

pytestmark = pytest.mark.e2e
NEW = [with_check_digit(f"97910002{i:04d}") for i in range(120)]
ONLY_COLL2 = with_check_digit("979100030001")


def pnb(stack: Any, service: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(f"{stack.url}/v2/pnb-numerique/{service}", json=body, timeout=30)
    assert r.status_code == 200 and r.json()["returnStatus"] == "OK", r.text
    answer: dict[str, Any] = r.json()
    return answer


def held_by(gln: str) -> set[str]:
    orders = line_store.orders_of_coll(gln)
    lines = line_store.get_lines([i for o in orders for i in o["lineIds"]])
    return {x["ean13"] for x in lines.values() if x.get("status") == "OK"}


@pytest.fixture(scope="module")
def catalogue(stack: Any) -> dict[str, Any]:
    """120 more offers in the catalogue; the demo library buys them all (the first can lend once, and
    does), the second library buys another title."""
    now = datetime.now(UTC)
    offers = [Offer(ean13=e, gln_distributor=demo.DISTRIBUTOR, title=f"Titre {i:03d}", publisher="Editions Demo",
                    terms=LicenceTerms(loans=1 if i == 0 else 10, downloads=1, onsite_streams=0, offsite_streams=0,
                                       licence_days=365, max_loan_days=21),
                    price_ttc=1000, price_ht=948, updated_at=iso(now)) for i, e in enumerate([*NEW, ONLY_COLL2])]
    offer_store.save_many(offers)
    lines = [line(e, ttc=1000, ht=948) for e in NEW]
    bought = []
    for chunk in (lines[:99], lines[99:]):
        bought += [x["orderLineId"] for x in pnb(stack, "sendOrder", order_body(*chunk))["orderResponseLine"]]
    pnb(stack, "sendOrder", order_body(line(ONLY_COLL2, ttc=1000, ht=948), glnColl=demo.COLL2))
    r = requests.post(f"{stack.url}/v1/media/{NEW[0]}/loans.json", headers={"X-Api-Key": demo.COLL_API_KEY},
                      data={"member_id": "harvest1"}, timeout=30)
    assert r.status_code == 201, r.text  # its only access: the title can lend no more
    return {"held": held_by(demo.COLL), "spent": NEW[0]}


def test_rero_style_harvest_gets_every_title_once(stack: Any, catalogue: dict[str, Any]) -> None:
    base = stack.url.replace("http://", f"http://{demo.COLL_API_KEY}:@")  # how a harvester is configured
    harvester = Harvester(base, lambda url: requests.get(url, timeout=30))
    harvest = harvester.get_records("1990-01-01")  # raises, as rero does, unless X-Total-Items were read
    ids = [r["id"] for r in harvest.records]
    assert len(ids) == len(set(ids)) == harvest.total_items
    assert set(ids) == catalogue["held"] and set(NEW) <= set(ids) and ONLY_COLL2 not in ids
    assert len(harvest.pages_asked) == -(-len(ids) // 50) + 1 >= 4  # every page, then one past the last
    assert all(r["media"][0]["key"] == r["id"] and r["media"][0]["key_type"] == "isbn" for r in harvest.records)

    available = harvester.available_ids("1990-01-01")
    avail_ids = [r["id"] for r in available.records]
    assert len(avail_ids) == len(set(avail_ids)) == available.total_items
    assert catalogue["spent"] not in avail_ids and set(NEW[1:]) <= set(avail_ids) <= set(ids)

    later = harvester.get_records("2999-01-01")
    assert later.records == [] and later.total_items == 0

    other = Harvester(stack.url.replace("http://", f"http://{demo.COLL2_API_KEY}:@"),
                      lambda url: requests.get(url, timeout=30)).get_records()
    assert ONLY_COLL2 in {r["id"] for r in other.records} and not set(NEW) & {r["id"] for r in other.records}


def test_opds_client_walks_the_feed(stack: Any, catalogue: dict[str, Any]) -> None:
    url: str | None = f"{stack.url}/v1/opds.json"
    seen: list[str] = []
    pages = 0
    while url and pages < 20:
        r = requests.get(url, auth=(demo.COLL_API_KEY, ""), timeout=30)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/opds+json"
        feed = r.json()
        assert errors(feed) == [], errors(feed)[:5]
        seen += [p["metadata"]["identifier"].rsplit(":", 1)[1] for p in feed.get("publications", [])]
        url = next((link["href"] for link in feed["links"] if link["rel"] == "next"), None)
        pages += 1
    assert sorted(seen) == sorted(catalogue["held"])
    r = requests.get(f"{stack.url}/v1/opds.json", timeout=30)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
