"""GET /fulfillment/{token}: a loan's signed, time-limited link (CONTRACT 3 link.url, section 4)."""

from typing import Any

from lending.observability import logger
from lending.services.fulfillment import open_link


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return open_link((event.get("pathParameters") or {}).get("token", ""))
