"""The library's catalogue on emulated AWS: the v1 resources (Cantook family) and the OPDS 2 feed, per
API key; availability, start_at, paging headers, formats, errors; the feed against the OPDS 2 schema."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lending.local import demo
from lending.pnb.operations import run
from lending.services import clock
from lending.services.context import Ctx
from tests.helpers import line, loan_body, order_body
from tests.opds_schema import errors
from tests.v1_helpers import KEY, KEY2

pytestmark = pytest.mark.usefixtures("aws")
# After the demo catalogue's load (its offers are stamped with the real time): orders come after offers.
T0 = (datetime.now(UTC) + timedelta(days=10)).replace(hour=10, minute=0, second=0, microsecond=0)


def at(now: datetime, service: str, body: dict[str, Any], coll: str = demo.COLL) -> dict[str, Any]:
    status, answer = run(service, body, Ctx(now=now, base_url="http://hub.test"))
    assert status == 200 and answer["returnStatus"] == "OK", answer
    return answer


def buy(now: datetime, *eans: str, coll: str = demo.COLL) -> list[str]:
    dist = {o.ean13: o.gln_distributor for o in demo.offers()}
    body = order_body(*[line(e, dist[e], dmd=now - timedelta(hours=1)) for e in eans], glnColl=coll)
    return [x["orderLineId"] for x in at(now, "sendOrder", body)["orderResponseLine"]]


def get(path: str, headers: dict[str, str] | None = None, now: datetime = T0) -> tuple[int, Any, dict[str, str]]:
    from lending.local import functions
    from lending.local.gateway import Gateway, build_event
    from tests.helpers import _functions

    fns = _functions()
    gw = Gateway.__new__(Gateway)
    gw.routes = [r for f in fns.values() for r in f.routes]
    raw = path.split("?")[0]
    route, params, _ = gw.match("GET", raw)
    assert route is not None
    event = build_event("GET", raw, path.split("?", 1)[1] if "?" in path else "",
                        {"host": "hub.test", **(headers or {})}, b"", route, params, "127.0.0.1")
    with clock.frozen(now):
        result = functions.invoke(fns[route.function], event)
    status, out_headers, payload = Gateway.translate(result)
    text = payload.decode()
    try:
        return status, json.loads(text), out_headers
    except ValueError:
        return status, text, out_headers


@pytest.fixture
def held() -> dict[str, Any]:
    """COLL holds 015 (two licences), 022, 039 (its 3 loans spent) and 053; COLL2 holds 022 only."""
    buy(T0 - timedelta(days=3), "9791000000015", "9791000000022")
    spent = buy(T0 - timedelta(days=2), "9791000000039")[0]
    for i in range(3):
        lent = T0 - timedelta(days=2) + timedelta(minutes=i)
        at(lent, "loanBook", loan_body(spent, f"SPENT{i}", ean13="9791000000039", days=7, now=lent))
    buy(T0 - timedelta(days=1), "9791000000015", "9791000000053")
    buy(T0, "9791000000022", coll=demo.COLL2)
    return {"spent_at": T0 - timedelta(days=2) + timedelta(minutes=2)}


def test_resources_list_the_library_titles_once_with_paging_headers(held: dict[str, Any]) -> None:
    status, body, headers = get("/v1/resources.json?start_at=1990-01-01&page=1", KEY)
    assert status == 200
    ids = [r["id"] for r in body["resources"]]
    assert ids == ["9791000000015", "9791000000022", "9791000000039", "9791000000053"]
    assert (headers["X-Total-Items"], headers["X-Total-Pages"], headers["X-Per-Page"], headers["X-Current-Page"]) \
        == ("4", "1", "50", "1")
    first = body["resources"][0]
    assert first["title"] == "Le Chant des rivieres" and first["publisher_name"] == "Editions Demo"
    assert first["media"] == [{"id": "9791000000015", "key": "9791000000015", "key_type": "isbn", "nature": "epub",
                               "issued_on": None, "current_holds": 0}]
    assert first["link"] == "http://hub.test/v1/resources/9791000000015.json"
    assert (first["copies"], first["copies_available"], first["loans_left"]) == (4, 4, 60)  # two licences
    assert first["available"] is True and first["contributors"][0]["last_name"] == "Jeanne Riviere"
    spent = body["resources"][2]
    assert spent["available"] is False and spent["copies"] == 0 and spent["lendable_until"] is None
    assert spent["updated_at"] == held["spent_at"].strftime("%Y-%m-%dT%H:%M:%SZ")  # its last loan

    _, other, _ = get("/v1/resources.json", KEY2)
    assert [r["id"] for r in other["resources"]] == ["9791000000022"]

    _, avail, h = get("/v1/resources.json?available=1", KEY)
    assert [r["id"] for r in avail["resources"]] == ["9791000000015", "9791000000022", "9791000000053"]
    assert h["X-Total-Items"] == "3"

    pages = [get(f"/v1/resources.json?per_page=3&page={n}", KEY) for n in (1, 2, 3)]
    assert [[r["id"] for r in p[1]["resources"]] for p in pages] == [
        ["9791000000015", "9791000000022", "9791000000039"], ["9791000000053"], []]
    assert [p[2]["X-Current-Page"] for p in pages] == ["1", "2", "3"] and pages[2][2]["X-Total-Pages"] == "2"


def test_start_at_keeps_what_changed_since(held: dict[str, Any]) -> None:
    since = (T0 - timedelta(days=1, hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _, body, headers = get(f"/v1/resources.json?start_at={since}", KEY)
    # 015 (a second licence), 053 (bought then); 039 was spent before, 022 untouched since.
    assert [r["id"] for r in body["resources"]] == ["9791000000015", "9791000000053"]
    _, none, headers = get("/v1/resources.json?start_at=2099-01-01", KEY)
    assert none["resources"] == [] and headers["X-Total-Pages"] == "0" and headers["X-Total-Items"] == "0"


def test_one_resource_xml_and_errors(held: dict[str, Any]) -> None:
    status, one, _ = get("/v1/resources/9791000000053.json", KEY)
    assert status == 200 and one["id"] == "9791000000053" and one["copies"] == 3
    status, text, headers = get("/v1/resources/9791000000053.xml", KEY)
    assert status == 200 and headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(text.encode())
    assert root.tag == "resource" and root.findtext("id") == "9791000000053"
    assert root.find("media/medium/key").text == "9791000000053"  # type: ignore[union-attr]
    status, text, headers = get("/v1/resources.xml?per_page=2&available=1", KEY)
    root = ET.fromstring(text.encode())
    assert root.tag == "resources" and [r.findtext("id") for r in root] == ["9791000000015", "9791000000022"]
    assert headers["X-Total-Items"] == "3" and headers["X-Total-Pages"] == "2"

    assert get("/v1/resources/9791000000053.json", KEY2)[:2] == (404, {
        "errors": ["medium_not_found"], "messages": ["The media cannot be found."]})  # another library's
    assert get("/v1/resources/abc.json", KEY)[0] == 404
    status, body, headers = get("/v1/resources.json")
    assert status == 401 and body["errors"] == ["invalid_api_key"] and headers["WWW-Authenticate"].startswith("Basic")
    assert get("/v1/resources.json", {"x-api-key": "nope"})[0] == 401
    status, body, _ = get("/v1/resources.json?page=0&per_page=500&available=maybe&start_at=yesterday", KEY)
    assert status == 400 and body["errors"] == ["invalid_start_at", "invalid_page", "invalid_per_page",
                                                "invalid_available"]
    basic = "Basic " + base64.b64encode(f"{demo.COLL_API_KEY}:".encode()).decode()
    assert get("/v1/resources.json", {"authorization": basic})[0] == 200
    assert get("/v1/resources.json", {"authorization": "Basic !!!"})[0] == 401


def test_opds_feed_validates_with_facets_paging_and_borrow_links(held: dict[str, Any]) -> None:
    status, feed, headers = get("/v1/opds.json?per_page=2", KEY)
    assert status == 200 and headers["Content-Type"] == "application/opds+json"
    assert errors(feed) == []
    assert feed["metadata"]["numberOfItems"] == 4 and feed["metadata"]["currentPage"] == 1
    titles = [p["metadata"]["title"] for p in feed["publications"]]
    assert titles == ["Atlas des bibliotheques", "Le Chant des rivieres"]  # by title
    rels = {link["rel"]: link["href"] for link in feed["links"]}
    assert "page=2" in rels["next"] and "page=2" in rels["last"] and "previous" not in rels
    borrow = feed["publications"][1]["links"][1]
    assert borrow["rel"] == "http://opds-spec.org/acquisition/borrow" and borrow["templated"] is True
    assert borrow["href"] == "http://hub.test/v1/media/9791000000015/loans.json{?member_id}"
    assert borrow["properties"]["copies"] == {"total": 4, "available": 4}
    assert borrow["properties"]["availability"]["state"] == "available"
    assert borrow["properties"]["indirectAcquisition"] == [{"type": "application/epub+zip"}]
    (availability, order) = feed["facets"]
    assert [(x["title"], x["properties"]["numberOfItems"], x.get("rel")) for x in availability["links"]] == [
        ("All titles", 4, "self"), ("Available now", 3, None)]
    assert [x["title"] for x in order["links"]] == ["Title", "Recently added"]

    for path in ("/v1/opds.json?per_page=2&page=2", "/v1/opds.json?available=1&sort=added",
                 "/v1/opds.json?page=9"):
        status, page, _ = get(path, KEY)
        assert status == 200 and errors(page) == [], (path, errors(page))
    _, added, _ = get("/v1/opds.json?available=1&sort=added", KEY)
    assert [p["metadata"]["identifier"] for p in added["publications"]] == [
        "urn:isbn:9791000000053", "urn:isbn:9791000000015", "urn:isbn:9791000000022"]
    _, beyond, _ = get("/v1/opds.json?page=9", KEY)
    assert "publications" not in beyond and beyond["navigation"][0]["title"] == "All titles"

    _, other, _ = get("/v1/opds.json", KEY2)
    assert errors(other) == [] and [p["metadata"]["title"] for p in other["publications"]] == [
        "Petite histoire du pret"]
    basic = "Basic " + base64.b64encode(f"{demo.COLL2_API_KEY}:x".encode()).decode()
    assert get("/v1/opds.json", {"authorization": basic})[1] == other
    status, _, headers = get("/v1/opds.json")
    assert status == 401 and "WWW-Authenticate" in headers
    assert get("/v1/opds.json?sort=price", KEY)[1]["errors"] == ["invalid_sort"]


def test_a_library_with_nothing_gets_an_empty_valid_feed() -> None:
    _, feed, _ = get("/v1/opds.json", KEY2)
    assert errors(feed) == [] and feed["metadata"]["numberOfItems"] == 0 and "navigation" in feed
    _, body, headers = get("/v1/resources.json", KEY2)
    assert body == {"resources": []} and headers["X-Total-Pages"] == "0"
