"""What every use case gets from its door: the time, and the hub's public address for links."""

from __future__ import annotations

import os
from datetime import datetime

from .. import clock
from ..domain.values import Value


class Ctx(Value):
    """A request's context (frozen; not a dataclass: domain/values.py)."""

    now: datetime  # the seam, read once per request
    base_url: str
    source_ip: str | None  # the caller's address as API Gateway saw it (sign-in throttling)

    def __init__(self, now: datetime | None = None, base_url: str | None = None,
                 source_ip: str | None = None) -> None:
        self._init(clock.now() if now is None else now,
                   os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:3000") if base_url is None else base_url,
                   source_ip)


def warm_up() -> None:
    """Build the AWS clients a request will need once per container, at init (cold start, not the
    first request); doors and functions call this rather than reach into the store."""
    from ..store import table

    table.client()
