"""GET /catalogue/onix/{token}: an ONIX update file named in a getOffers answer (302 to S3)."""

from typing import Any

from lending.catalogue.updates import open_link
from lending.observability import observed
from lending.services.context import Ctx


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return open_link((event.get("pathParameters") or {}).get("token", ""), Ctx().now)
