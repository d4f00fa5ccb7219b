"""GET /catalogue/onix/{token}: an ONIX update file named in a getOffers answer (302 to S3)."""

from typing import Any

from lending.catalogue.updates import open_link
from lending.services.context import Ctx
from lending.web import Answer, Door, Request, json_answer


def _fault(req: Request, request_id: str) -> Answer:  # in the shape of the link's own refusal
    return json_answer(500, {"errors": ["Internal error."]}, {"X-Request-Id": request_id})


def serve(req: Request) -> dict[str, Any]:
    return open_link(req.path_params.get("token", ""), Ctx().now)


lambda_handler = Door("catalogue", _fault).handler(serve)
