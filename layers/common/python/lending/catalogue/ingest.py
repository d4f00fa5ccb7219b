"""The one path by which offers enter the catalogue (demo data, sync from distributors)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from ..domain.dates import iso
from ..domain.offers import Offer
from ..store import offers as store


def apply(offers: Iterable[Offer], now: datetime) -> int:
    """Upsert each offer, stamped with the time of the change (getOffers deltas read it)."""
    count = 0
    for offer in offers:
        store.save(replace(offer, updated_at=iso(now)))
        count += 1
    return count
