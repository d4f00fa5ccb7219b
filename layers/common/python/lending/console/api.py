"""GET /distributor/sales/{ean13}: the sales points of one of the distributor's offers, as JSON.

Credentials: HTTP Basic with the distributor's GLN and its PNB password (`curl -u GLN:password`), or
PNB-style, POST with a JSON body {"glnDistributor", "passwordDistributor"} (the same pair endLoan takes).
Answers: 200 with the figures; 401 (with a Basic challenge) for missing or wrong credentials; 403 for an
account that is not a distributor; 404 for an EAN the distributor does not offer; never another's sales."""

from __future__ import annotations

import json
from typing import Any

from ..domain.accounts import Role
from ..domain.refusals import Reason, Refused
from ..services import auth, clock
from ..services import distributor as uses
from ..services.context import Ctx
from ..web import Answer, BadBody, Request
from .app import words
from .i18n import translator

PREFIX = "/distributor/sales/"
# This door's HTTP statuses (400 for any other reason); the words are the console's, in English.
STATUS: dict[Reason, int] = {
    Reason.BAD_CREDENTIALS: 401, Reason.TOO_MANY_SIGNINS: 401, Reason.NOT_AUTHORIZED: 403,
    Reason.FORBIDDEN: 403, Reason.UNKNOWN_OFFER: 404, Reason.NOT_FOUND: 404,
}


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(body),
                  {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})})


def _credentials(req: Request) -> tuple[str, str] | None:
    if req.basic is not None:
        return None if req.basic == ("", "") else req.basic  # a Basic header that cannot be read: none given
    try:
        body = req.body()
        data = json.loads(body) if body else None
    except (BadBody, ValueError, RecursionError):
        return None
    if isinstance(data, dict) and isinstance(data.get("glnDistributor"), str):
        return data["glnDistributor"], str(data.get("passwordDistributor") or "")
    return None


def handle(req: Request) -> Answer:
    ean13 = req.path[len(PREFIX):] if req.path.startswith(PREFIX) else ""
    challenge = {"WWW-Authenticate": 'Basic realm="distributor", charset="UTF-8"'}
    creds = _credentials(req)
    if creds is None:
        return _answer(401, {"errors": ["Credentials are required: HTTP Basic GLN:password."]}, challenge)
    try:
        account = auth.authenticate(creds[0], creds[1], (Role.DISTRIBUTOR,))
        return _answer(200, uses.sales_json(Ctx(now=clock.now(), base_url=req.base_url), account, ean13))
    except Refused as r:
        status = STATUS.get(r.reason, 400)
        return _answer(status, {"errors": [words(translator("en"), r)]}, challenge if status == 401 else None)
