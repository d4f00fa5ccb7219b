"""GET /fulfillment/{token}: a loan's signed, time-limited link serves its file (CONTRACT 3 link.url,
section 4) and records the download."""

from typing import Any

from lending.observability import logger
from lending.services import clock
from lending.services.context import Ctx
from lending.services.fulfillment import open_link
from lending.store import table

table.client()  # built once per container, at init


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return open_link((event.get("pathParameters") or {}).get("token", ""), Ctx(now=clock.now()))
