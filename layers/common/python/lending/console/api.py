"""GET /distributor/sales/{ean13}: the sales points of one of the distributor's offers, as JSON.

Credentials: HTTP Basic with the distributor's GLN and its PNB password (`curl -u GLN:password`), or
PNB-style, POST with a JSON body {"glnDistributor", "passwordDistributor"} (the same pair endLoan takes).
Answers: 200 with the figures; 401 (with a Basic challenge) for missing or wrong credentials; 403 for an
account that is not a distributor; 404 for an EAN the distributor does not offer; never another's sales."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ..domain.accounts import Role
from ..domain.refusals import Reason, Refused
from ..services import auth, clock
from ..services import distributor as uses
from ..services.context import Ctx
from ..web import base_url
from .app import words
from .i18n import translator

PREFIX = "/distributor/sales/"
# This door's HTTP statuses (400 for any other reason); the words are the console's, in English.
STATUS: dict[Reason, int] = {
    Reason.BAD_CREDENTIALS: 401, Reason.TOO_MANY_SIGNINS: 401, Reason.NOT_AUTHORIZED: 403,
    Reason.FORBIDDEN: 403, Reason.UNKNOWN_OFFER: 404, Reason.NOT_FOUND: 404,
}


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "body": json.dumps(body),
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})}}


def _credentials(event: dict[str, Any]) -> tuple[str, str] | None:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            gln, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return (gln, password) if sep else None
    body = event.get("body") or ""
    try:
        data = json.loads(base64.b64decode(body) if event.get("isBase64Encoded") else body) if body else None
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and isinstance(data.get("glnDistributor"), str):
        return data["glnDistributor"], str(data.get("passwordDistributor") or "")
    return None


def handle(event: dict[str, Any]) -> dict[str, Any]:
    path = str(event.get("rawPath") or "")
    ean13 = path[len(PREFIX):] if path.startswith(PREFIX) else ""
    challenge = {"WWW-Authenticate": 'Basic realm="distributor", charset="UTF-8"'}
    creds = _credentials(event)
    if creds is None:
        return _answer(401, {"errors": ["Credentials are required: HTTP Basic GLN:password."]}, challenge)
    try:
        account = auth.authenticate(creds[0], creds[1], (Role.DISTRIBUTOR,))
        return _answer(200, uses.sales_json(Ctx(now=clock.now(), base_url=base_url(event)), account, ean13))
    except Refused as r:
        status = STATUS.get(r.reason, 400)
        return _answer(status, {"errors": [words(translator("en"), r)]}, challenge if status == 401 else None)
