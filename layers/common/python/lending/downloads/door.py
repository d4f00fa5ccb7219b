"""GET /fulfillment/{token} (a loan's file: CONTRACT 3 link.url, section 4) and GET /catalogue/onix/{token}
(an ONIX update file named in a getOffers answer): the link's signature is the only credential."""

from __future__ import annotations

import json
from typing import Any

from ..catalogue import updates
from ..domain.loans import LCP_LICENCE_TYPE
from ..observability import count
from ..services import clock, fulfillment
from ..services.context import Ctx, warm_up
from ..services.files import EPUB_TYPE
from ..services.fulfillment import Refusal
from ..web import Answer, Door, Handler, Request, json_answer

# A refused link, in v1's error shape (what the links' readers know): status, message.
REFUSALS: dict[Refusal, tuple[int, str]] = {
    Refusal.INVALID_LINK: (403, "This link is invalid or has expired."),
    Refusal.LOAN_NOT_FOUND: (404, "Loan not found."),
    Refusal.LOAN_EXPIRED: (403, "The loan has expired."),
    Refusal.LOAN_RETURNED: (403, "This loan's availability period has expired."),
    Refusal.FILE_NOT_FOUND: (404, "The file of this loan is not available."),
}


def licence_answer(doc: dict[str, Any]) -> Answer:
    """A licence file (`.lcpl`): what the fulfillment link and the LSD `license` link answer."""
    return Answer(200, json.dumps(doc, ensure_ascii=False),
                  {"Content-Type": LCP_LICENCE_TYPE, "Content-Disposition": 'attachment; filename="loan.lcpl"',
                   "Cache-Control": "private, no-store"})


def _fulfillment_fault(req: Request, request_id: str) -> Answer:  # v1's error shape, as the links' readers know
    return json_answer(500, {"errors": ["internal_error"], "messages": ["Internal error."]},
                       {"X-Request-Id": request_id})


def _onix_fault(req: Request, request_id: str) -> Answer:  # the shape of the link's own refusal
    return json_answer(500, {"errors": ["Internal error."]}, {"X-Request-Id": request_id})


def _delivered(found: fulfillment.Delivery | Refusal) -> Answer:
    if isinstance(found, Refusal):
        status, message = REFUSALS[found]
        return json_answer(status, {"errors": [found.value], "messages": [message]})
    if found.licence is not None:
        return licence_answer(found.licence)
    if found.content is None:  # too large for a Lambda answer: a short-lived S3 link
        return Answer(302, "", {"Location": found.url or "", "Cache-Control": "no-store"})
    return Answer(200, found.content, {"Content-Type": EPUB_TYPE,
                                       "Content-Disposition": f'attachment; filename="{found.name}"',
                                       "Cache-Control": "private, no-store"})


def loan_file(req: Request) -> Answer:
    answer = _delivered(fulfillment.open_link(req.path_params.get("token", ""), Ctx(now=clock.now())))
    count(f"fulfillment.{answer.status}")
    return answer


def onix_file(req: Request) -> Answer:
    url = updates.open_link(req.path_params.get("token", ""), Ctx().now)
    if url is None:
        return json_answer(403, {"errors": ["This link is invalid or has expired."]})
    return Answer(302, "", {"Location": url, "Cache-Control": "no-store"})


def fulfillment_handler() -> Handler:
    warm_up()  # clients built once per container, at init
    return Door[Answer]("fulfillment", _fulfillment_fault).handler(loan_file)


def onix_file_handler() -> Handler:
    return Door[Answer]("onix file", _onix_fault).handler(onix_file)
