"""What every HTTP door reads from an API Gateway (HTTP API, payload 2.0) event. Light on purpose:
imported by every function at cold start."""

from __future__ import annotations

import os
from typing import Any


def base_url(event: dict[str, Any]) -> str:
    """The hub's own address as the caller reached it (links in answers point back at it);
    PUBLIC_BASE_URL when the deployment sets one (a custom domain)."""
    configured = os.environ.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    host = headers.get("host") or event.get("requestContext", {}).get("domainName", "localhost")
    proto = headers.get("x-forwarded-proto", "https")
    return f"{proto}://{host}"
