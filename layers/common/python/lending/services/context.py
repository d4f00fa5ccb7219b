"""What every use case gets from its door: the time, and the hub's public address for links."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Ctx:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    base_url: str = field(default_factory=lambda: os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:3000"))
    source_ip: str | None = None  # the caller's address as API Gateway saw it (sign-in throttling)
