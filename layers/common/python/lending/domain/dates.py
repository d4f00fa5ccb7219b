"""ISO 8601 dates as PNB writes them: extended format with a zone in, UTC `Z` out."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
# The years a lending date may fall in. Far outside them a date is a typing error, and adding a licence's
# or a loan's days to it could leave what a datetime holds (an OverflowError, not an answer).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
YEARS = "years 1970 to 2999"


def in_range(value: datetime) -> datetime | None:
    return value if EARLIEST <= value < LATEST else None


def parse_iso(value: object) -> datetime | None:
    """An aware datetime, or None when the text is not ISO 8601 extended with a zone designator (or its
    year is out of range)."""
    if not isinstance(value, str) or not _ISO.match(value):
        return None
    try:
        return in_range(datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC))
    except (ValueError, OverflowError):  # not a real date; shifted to UTC past year 1 or 9999
        return None


def iso(value: datetime) -> str:
    """UTC with `Z`, to the second: what every answer carries and what the table stores (sortable)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_store(value: str | None) -> datetime | None:
    return None if value is None else datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
