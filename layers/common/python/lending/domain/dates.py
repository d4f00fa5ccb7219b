"""ISO 8601 dates as PNB clients write them, UTC `Z` out.

In: extended format with `Z` or `+hh:mm` (the spec), a basic offset `+hhmm` (PHP's DateTime::ISO8601, what
PMB sends) or no zone at all, read as the time in France (what Dilicom's clients send as `sinceDate`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# as text: `re` compiles a pattern at its first use (and caches it), not at every cold start
_ISO = r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(Z|[+-]\d{2}:?\d{2})?$"
PNB_ZONE = "Europe/Paris"  # the zone of a time written without one
# The years a lending date may fall in. Far outside them a date is a typing error, and adding a licence's
# or a loan's days to it could leave what a datetime holds (an OverflowError, not an answer).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
YEARS = "years 1970 to 2999"


def in_range(value: datetime) -> datetime | None:
    return value if EARLIEST <= value < LATEST else None


def parse_iso(value: object, naive_zone: str | None = None) -> datetime | None:
    """An aware datetime, or None when the text is not one of the forms above (or its year is out of
    range). A time without a zone is read in `naive_zone`, refused without one."""
    m = re.match(_ISO, value) if isinstance(value, str) else None
    if m is None:
        return None
    local, zone = m.groups()
    try:
        if zone is None:
            if naive_zone is None:
                return None
            from zoneinfo import ZoneInfo  # only when needed: not on every cold start

            parsed = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(naive_zone))
        else:
            offset = "+00:00" if zone == "Z" else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
            parsed = datetime.fromisoformat(local + offset)
        return in_range(parsed.astimezone(UTC))
    except (ValueError, OverflowError):  # not a real date; shifted to UTC past year 1 or 9999
        return None


def iso(value: datetime) -> str:
    """UTC with `Z`, to the second: what every answer carries and what the table stores (sortable)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_store(value: str | None) -> datetime | None:
    return None if value is None else datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
