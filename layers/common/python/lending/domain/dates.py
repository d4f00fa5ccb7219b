"""ISO 8601 dates as PNB writes them: extended format with a zone in, UTC `Z` out."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")


def parse_iso(value: object) -> datetime | None:
    """An aware datetime, or None when the text is not ISO 8601 extended with a zone designator."""
    if not isinstance(value, str) or not _ISO.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def iso(value: datetime) -> str:
    """UTC with `Z`, to the second: what every answer carries and what the table stores (sortable)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_store(value: str | None) -> datetime | None:
    return None if value is None else datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
