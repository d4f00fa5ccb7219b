"""The LCP door, one function for every /lcp route: decode, call services.lcp, encode.

Refusals answer Problem Details (RFC 7807) with the error types the LSD spec names, from one table
(`lsd/errors.py`)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from ..domain.dates import parse_iso
from ..domain.refusals import Reason, Refused
from ..observability import count, logger, observed
from ..services import lcp as uses
from ..services.context import Ctx, warm_up
from ..services.fulfillment import licence_answer
from ..web import base_url
from .errors import LSD_ERRORS, PROBLEM_TYPE, SERVER, problem

HINT_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Phrase secrète / Passphrase</title></head>
<body><h1>Phrase secrète de lecture / Reading passphrase</h1>
<p>Votre bibliothèque a choisi la phrase secrète qui ouvre vos livres empruntés. Si vous l'avez oubliée,
demandez-la à votre bibliothèque.</p>
<p>Your library set the passphrase that opens the books you borrow. If you forgot it, ask your library.</p>
</body></html>
"""

warm_up()  # the table's client, built once per container at init


def _json(status: int, body: dict[str, Any], content_type: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": content_type, "Cache-Control": "no-store"},
            "body": json.dumps(body, ensure_ascii=False)}


def _problem(refusal: Refused, interaction: str) -> dict[str, Any]:
    status, body = problem(refusal, interaction)
    return _json(status, body, PROBLEM_TYPE)


def route(event: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    key = str(event.get("routeKey", ""))
    path = event.get("pathParameters") or {}
    query = dict(parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True))
    licence_id = path.get("licence_id", "")
    interaction = key.rsplit("/", 1)[-1] if key.startswith(("POST", "PUT")) else "status"
    unknown = Refused(Reason.LICENCE_NOT_FOUND)
    try:
        if key == "GET /lcp/hint":
            return {"statusCode": 200, "headers": {"Content-Type": "text/html; charset=utf-8"}, "body": HINT_PAGE}
        if key == "GET /lcp/publications/{file}":
            found = uses.open_publication(path.get("file", "").removesuffix(".epub"))
            if found is None:
                return _problem(unknown, "licence")
            return {"statusCode": 302, "body": "",
                    "headers": {"Location": found.url or "", "Cache-Control": "no-store"}}
        if key == "GET /lcp/licences/{licence_id}":
            doc = uses.licence_document(ctx, licence_id)
            return licence_answer(doc) if doc else _problem(unknown, "licence")
        if key == "GET /lcp/status/{licence_id}":
            return _json(200, uses.status(ctx, licence_id), uses.STATUS_TYPE)
        device, name = query.get("id"), query.get("name")
        if key == "POST /lcp/status/{licence_id}/register":
            return _json(200, uses.register(ctx, licence_id, device, name), uses.STATUS_TYPE)
        if key == "PUT /lcp/status/{licence_id}/return":
            return _json(200, uses.return_loan(ctx, licence_id, device, name), uses.STATUS_TYPE)
        if key == "PUT /lcp/status/{licence_id}/renew":
            end = None
            if query.get("end"):
                end = parse_iso(query["end"])
                if end is None:
                    raise Refused(Reason.INVALID_PARAMETER,
                                  detail="The end must be an ISO 8601 date and time with a zone.")
            return _json(200, uses.renew(ctx, licence_id, end, device, name), uses.STATUS_TYPE)
    except Refused as r:
        return _problem(r, interaction)
    return _problem(unknown, "licence")


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = Ctx(base_url=base_url(event))  # the clock seam gives `now`
    try:
        answer = route(event, ctx)
    except Exception:
        logger.exception("lcp request failed", extra={"route": event.get("routeKey")})
        answer = _json(500, {"type": LSD_ERRORS + SERVER, "title": "Internal error.", "status": 500},
                       PROBLEM_TYPE)
    count(f"lcp.{answer['statusCode']}")
    return answer
