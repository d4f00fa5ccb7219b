"""The LCP door, one function for every /lcp route: decode, call services.lcp, encode.

Refusals answer Problem Details (RFC 7807) with the error types the LSD spec names, from one table."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from ..domain.dates import parse_iso
from ..lcp.licence import STATUS_TYPE
from ..observability import count, logger, observed
from ..services import clock
from ..services import lcp as uses
from ..services.context import Ctx
from ..services.fulfillment import licence_answer
from ..store import table
from ..web import base_url

LSD_ERRORS = "http://readium.org/license-status-document/error/"
# reason -> (HTTP status, LSD error type, title)
REFUSALS: dict[str, tuple[int, str, str]] = {
    "unknown_licence": (404, "server", "This licence does not exist."),
    "bad_device": (400, "server", "The device id and name are required (at most 255 printable characters)."),
    "bad_end": (400, "renew", "The end must be an ISO 8601 date and time with a zone."),
    "loan_ended": (400, "registration", "The loan has ended."),
    "returned_by_another": (400, "return", "The publication was already returned from another device."),
    "renew:loan_ended": (400, "renew", "The loan has ended."),
    "renew:licence_cancelled": (403, "renew", "The library's licence no longer lends this publication."),
    "renew:not_later": (400, "renew", "The new end must come after the current end."),
    "renew:over_max_duration": (403, "renew", "The loan would last longer than the publisher allows."),
    "renew:past_licence_end": (403, "renew", "The loan would end after the library's licence."),
    "renew:loan_changed": (409, "renew", "The loan changed meanwhile (returned, expired or renewed): try again."),
}
HINT_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Phrase secrète / Passphrase</title></head>
<body><h1>Phrase secrète de lecture / Reading passphrase</h1>
<p>Votre bibliothèque a choisi la phrase secrète qui ouvre vos livres empruntés. Si vous l'avez oubliée,
demandez-la à votre bibliothèque.</p>
<p>Your library set the passphrase that opens the books you borrow. If you forgot it, ask your library.</p>
</body></html>
"""

table.client()  # built once per container, at init


def _json(status: int, body: dict[str, Any], content_type: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": content_type, "Cache-Control": "no-store"},
            "body": json.dumps(body, ensure_ascii=False)}


def problem(reason: str) -> dict[str, Any]:
    status, kind, title = REFUSALS[reason]
    return _json(status, {"type": LSD_ERRORS + kind, "title": title, "status": status},
                 "application/problem+json")


def route(event: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    key = str(event.get("routeKey", ""))
    path = event.get("pathParameters") or {}
    query = dict(parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True))
    licence_id = path.get("licence_id", "")
    try:
        if key == "GET /lcp/hint":
            return {"statusCode": 200, "headers": {"Content-Type": "text/html; charset=utf-8"}, "body": HINT_PAGE}
        if key == "GET /lcp/publications/{file}":
            found = uses.open_publication(path.get("file", "").removesuffix(".epub"))
            if found is None:
                return problem("unknown_licence")
            return {"statusCode": 302, "body": "",
                    "headers": {"Location": found.url or "", "Cache-Control": "no-store"}}
        if key == "GET /lcp/licences/{licence_id}":
            doc = uses.licence_document(licence_id)
            return licence_answer(doc) if doc else problem("unknown_licence")
        if key == "GET /lcp/status/{licence_id}":
            return _json(200, uses.status(ctx, licence_id), STATUS_TYPE)
        device, name = query.get("id"), query.get("name")
        if key == "POST /lcp/status/{licence_id}/register":
            return _json(200, uses.register(ctx, licence_id, device, name), STATUS_TYPE)
        if key == "PUT /lcp/status/{licence_id}/return":
            return _json(200, uses.give_back(ctx, licence_id, device, name), STATUS_TYPE)
        if key == "PUT /lcp/status/{licence_id}/renew":
            end = None
            if query.get("end"):
                end = parse_iso(query["end"])
                if end is None:
                    return problem("bad_end")
            return _json(200, uses.renew(ctx, licence_id, end, device, name), STATUS_TYPE)
    except uses.LsdRefused as r:
        return problem(r.reason)
    return problem("unknown_licence")


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = Ctx(now=clock.now(), base_url=base_url(event))
    try:
        answer = route(event, ctx)
    except Exception:
        logger.exception("lcp request failed", extra={"route": event.get("routeKey")})
        answer = _json(500, {"type": LSD_ERRORS + "server", "title": "Internal error.", "status": 500},
                       "application/problem+json")
    count(f"lcp.{answer['statusCode']}")
    return answer
