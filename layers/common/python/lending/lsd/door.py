"""The LCP door, one function for every /lcp route: decode, call services.lcp, encode.

Refusals answer Problem Details (RFC 7807) with the error types the LSD spec names, from one table
(`lsd/errors.py`)."""

from __future__ import annotations

import json
from typing import Any

from ..domain.dates import parse_iso
from ..domain.refusals import Reason, Refused
from ..observability import count
from ..services import lcp as uses
from ..services.context import Ctx, warm_up
from ..web import Answer, Door, Request
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


def _json(status: int, body: dict[str, Any], content_type: str) -> Answer:
    return Answer(status, json.dumps(body, ensure_ascii=False),
                  {"Content-Type": content_type, "Cache-Control": "no-store"})


def interaction_of(req: Request) -> str:
    """The LSD interaction a route is (register, return, renew), or `status`: it names a refusal's type."""
    return req.route.rsplit("/", 1)[-1] if req.route.startswith(("POST", "PUT")) else "status"


def _problem(req: Request, refusal: Refused, interaction: str | None = None) -> Answer:
    status, body = problem(refusal, interaction or interaction_of(req))
    return _json(status, body, PROBLEM_TYPE)


def _fault(req: Request, request_id: str) -> Answer:
    return _json(500, {"type": LSD_ERRORS + SERVER, "title": "Internal error.", "status": 500}, PROBLEM_TYPE)


def _counted(req: Request, answer: Answer) -> Answer:
    count(f"lcp.{answer.status}")
    return answer


# The LSD door: refusals through lsd/errors.py's one table, as Problem Details.
DOOR: Door[Answer] = Door("lcp", _fault, {Refused: _problem}, _counted)


def route(req: Request) -> Answer:
    key, path, query = req.route, req.path_params, req.query
    ctx = Ctx(base_url=req.base_url)  # the clock seam gives `now`
    licence_id = path.get("licence_id", "")
    unknown = Refused(Reason.LICENCE_NOT_FOUND)
    if key == "GET /lcp/hint":
        return Answer(200, HINT_PAGE, {"Content-Type": "text/html; charset=utf-8"})
    if key == "GET /lcp/publications/{file}":
        found = uses.open_publication(path.get("file", "").removesuffix(".epub"))
        if found is None:
            return _problem(req, unknown, "licence")
        return Answer(302, "", {"Location": found.url or "", "Cache-Control": "no-store"})
    if key == "GET /lcp/licences/{licence_id}":
        # The fulfillment door's answer (and its use cases, the signing ones among them) loads with the
        # first licence asked for: status documents, most of what reading apps ask, need neither.
        from ..downloads.door import licence_answer

        doc = uses.licence_document(ctx, licence_id)
        return licence_answer(doc) if doc else _problem(req, unknown, "licence")
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
    return _problem(req, unknown, "licence")


lambda_handler = DOOR.handler(route)
