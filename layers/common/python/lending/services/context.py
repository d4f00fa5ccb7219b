"""What every use case gets from its door: the time, and the hub's public address for links."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

from .. import clock


@dataclass(frozen=True)
class Ctx:
    now: datetime = field(default_factory=clock.now)  # the seam, read once per request
    base_url: str = field(default_factory=lambda: os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:3000"))
    source_ip: str | None = None  # the caller's address as API Gateway saw it (sign-in throttling)


def warm_up() -> None:
    """Build the AWS clients a request will need once per container, at init (cold start, not the
    first request); doors and functions call this rather than reach into the store."""
    from ..store import table

    table.client()
