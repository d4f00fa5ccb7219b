"""An OPDS 2 feed of the library's catalogue (the titles of services/holdings.py), for OPDS reading apps:
`GET /v1/opds.json?page=&per_page=&available=1&sort=title|added`, with the library's key as the Basic
user name (apps prompt for it on the 401's WWW-Authenticate) or in X-Api-Key.

- publications: one per title; metadata (identifier urn:isbn/urn:ean13, title, authors, publisher,
  modified) and links: the v1 resource (self) and a borrow link to the v1 loan,
  `POST /v1/media/{ean13}/loans.json` with `member_id` (a URI template), whose properties say what the
  library can give now: availability (available while a copy is free), copies, the EPUB it leads to;
- facets: availability (all titles, those with a copy free now) and order (title, recently added), the active one
  `rel: self`, each with its numberOfItems;
- paging: metadata numberOfItems/itemsPerPage/currentPage, links first/previous/next/last. A page with
  no publication (none held, or past the last) carries a navigation link back to the first page instead,
  as the schema wants one of publications, navigation or groups."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ..domain.dates import iso
from ..services import holdings
from ..services.holdings import Title
from ..v1.errors import V1Error
from ..v1.requests import Param, flag, validate, whole
from .cantook import resource_url
from .door import Answer, Call

OPDS = "application/opds+json"
BORROW = "http://opds-spec.org/acquisition/borrow"
SORTS = {"title": "Title", "added": "Recently added"}


def _sort(value: Any) -> str:
    if value not in SORTS:
        raise ValueError(value)
    return str(value)


FEED: dict[str, Param] = {"page": Param(whole(1, 100_000), default=1), "per_page": Param(whole(1, 100), default=50),
                          "available": Param(flag, default=False), "sort": Param(_sort, default="title")}


def free_now(t: Title) -> bool:
    """A copy can be borrowed right now (the availability facet and each borrow link's state)."""
    return t.available and t.copies_free > 0


def identifier(ean13: str) -> str:
    return f"urn:isbn:{ean13}" if ean13.startswith(("978", "979")) else f"urn:ean13:{ean13}"


def publication(t: Title, base_url: str) -> dict[str, Any]:
    offer = t.offer
    metadata: dict[str, Any] = {"@type": "http://schema.org/Book", "identifier": identifier(t.ean13),
                                "title": t.title, "modified": iso(t.updated_at)}
    if offer and offer.contributors:
        metadata["author"] = [{"name": name} for name in offer.contributors]
    if offer and offer.publisher:
        metadata["publisher"] = {"name": offer.publisher}
    properties: dict[str, Any] = {
        "indirectAcquisition": [{"type": "application/epub+zip"}],
        "availability": {"state": "available" if free_now(t) else "unavailable"},
        "copies": {"total": t.copies, "available": t.copies_free},
    }
    if t.lendable_until:
        properties["availability"]["until"] = iso(t.lendable_until)
    return {
        "metadata": metadata,
        "links": [
            {"rel": "self", "href": resource_url(base_url, t.ean13), "type": "application/json"},
            {"rel": BORROW, "href": f"{base_url}/v1/media/{t.ean13}/loans.json{{?member_id}}", "templated": True,
             "type": "application/json", "properties": properties},
        ],
    }


def feed(call: Call) -> Answer:
    req = validate(FEED, call.params)
    if call.fmt != "json":
        raise V1Error("medium_not_found")  # OPDS 2 is JSON only
    base = call.ctx.base_url
    every = holdings.titles(call.library, call.ctx.now)
    if req.sort == "added":
        every = sorted(every, key=lambda t: (-t.created_at.timestamp(), t.ean13))  # newest title first
    else:
        every = sorted(every, key=lambda t: (t.title.casefold(), t.ean13))
    found = [t for t in every if free_now(t)] if req.available else every
    shown, pages = holdings.page(found, req.page, req.per_page)

    def url(**over: Any) -> str:
        query = {"available": int(req.available), "sort": req.sort, "per_page": req.per_page, "page": req.page}
        query.update(over)
        return f"{base}/v1/opds.json?{urlencode(query)}"

    def link(rel: str, href: str, **more: Any) -> dict[str, Any]:
        return {"rel": rel, "href": href, "type": OPDS, **more}

    links = [link("self", url()), link("first", url(page=1))]
    if pages:
        links.append(link("last", url(page=pages)))
    if 1 < req.page <= pages + 1:
        links.append(link("previous", url(page=req.page - 1)))
    if req.page < pages:
        links.append(link("next", url(page=req.page + 1)))

    def facet(title: str, href: str, active: bool, items: int) -> dict[str, Any]:
        out: dict[str, Any] = {"href": href, "type": OPDS, "title": title, "properties": {"numberOfItems": items}}
        if active:
            out["rel"] = "self"
        return out

    lendable = sum(1 for t in every if free_now(t))
    facets = [
        {"metadata": {"title": "Availability"}, "links": [
            facet("All titles", url(available=0, page=1), not req.available, len(every)),
            facet("Available now", url(available=1, page=1), req.available, lendable)]},
        {"metadata": {"title": "Order"}, "links": [
            facet(label, url(sort=key, page=1), req.sort == key, len(found)) for key, label in SORTS.items()]},
    ]
    body: dict[str, Any] = {
        "metadata": {"title": f"{call.library.name or call.library.gln}: catalogue", "numberOfItems": len(found),
                     "itemsPerPage": req.per_page, "currentPage": req.page},
        "links": links,
        "facets": facets,
    }
    if shown:
        body["publications"] = [publication(t, base) for t in shown]
    else:
        body["navigation"] = [{"href": url(available=0, page=1), "title": "All titles", "type": OPDS}]
    return Answer(200, body, content_type=OPDS)
