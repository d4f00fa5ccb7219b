"""The v1 catalogue as Cantook-family harvesters read it (rero-ebooks' ApiCantook, for one):

- `GET /v1/resources.{json|xml}?start_at=&page=&per_page=&available=1`: `{"resources": [...]}`, by EAN,
  paged by headers (X-Total-Items, X-Total-Pages, X-Per-Page, X-Current-Page). A page past the last
  answers 200 with no resource and X-Current-Page = the page asked, which ends a harvester's loop.
  `start_at`: titles changed since (see services/holdings.py); `available=1`: only those that can lend.
- `GET /v1/resources/{id}.{json|xml}`: one title (404 medium_not_found when the library holds none).

A resource: `id` (the EAN-13), title, contributors, publisher, `media` (one medium: `id`/`key` the EAN,
`key_type`, `nature` the format; it is the medium_id of `POST /v1/media/{id}/loans`), `link`,
`created_at`, `updated_at`, and the library's own `available`, `copies`, `copies_available`,
`loans_left`, `lendable_until`. ParamSpecs of the family the hub has no data for are null or empty."""

from __future__ import annotations

from typing import Any

from ..domain.dates import iso
from ..services import holdings
from ..services.holdings import Title
from ..v1.errors import V1Error
from ..v1.requests import Param, date, flag, validate, whole
from .door import Answer, Call, paging_headers

LIST: dict[str, Param] = {"start_at": Param(date), "page": Param(whole(1, 100_000), default=1),
                          "per_page": Param(whole(1, 100), default=50), "available": Param(flag, default=False)}


def key_type(ean13: str) -> str:
    """As the v1 loans say it: EAN-13s of the Bookland prefixes are ISBN-13s."""
    return "isbn" if ean13.startswith(("978", "979")) else "ean"


def resource_url(base_url: str, ean13: str, fmt: str = "json") -> str:
    return f"{base_url}/v1/resources/{ean13}.{fmt}"


def resource(t: Title, base_url: str) -> dict[str, Any]:
    offer = t.offer
    publisher = offer.publisher if offer and offer.publisher else None
    formats = offer.formats if offer and offer.formats else ("epub",)
    return {
        "id": t.ean13,
        "title": t.title,
        "title_prefix": None,
        "subtitle": None,
        "summary": None,
        "languages": [],
        "tags": [],
        "classifications": [],
        "contributors": [{"first_name": None, "last_name": name, "nature": "author"}
                         for name in (offer.contributors if offer else ())],
        "publisher_name": publisher,
        "publisher": {"name": publisher} if publisher else None,
        "cover": None,
        "page_count": None,
        "media": [{"id": t.ean13, "key": t.ean13, "key_type": key_type(t.ean13), "nature": formats[0],
                   "issued_on": None, "current_holds": 0}],
        "link": resource_url(base_url, t.ean13),
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
        "available": t.available,
        "copies": t.copies,
        "copies_available": t.copies_free,
        "loans_left": t.loans_left,
        "lendable_until": iso(t.lendable_until) if t.lendable_until else None,
    }


def list_resources(call: Call) -> Answer:
    req = validate(LIST, call.params)
    found = holdings.select(holdings.titles(call.library, call.ctx.now), available=req.available,
                            since=req.start_at)
    shown, pages = holdings.page(found, req.page, req.per_page)
    body = {"resources": [resource(t, call.ctx.base_url) for t in shown]}
    headers = paging_headers(len(found), pages, req.per_page, req.page)
    return Answer(200, body, root="resources", listing="resources", headers=headers)


def get_resource(call: Call) -> Answer:
    found = holdings.title(call.library, call.path.get("resource_id", ""), call.ctx.now)
    if found is None:
        raise V1Error("medium_not_found")
    return Answer(200, resource(found, call.ctx.base_url), root="resource")
