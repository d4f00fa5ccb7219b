"""The one path by which offers enter the catalogue (the demo catalogue and every distributor sync).

Notices are taken in chunks: each chunk's stored offers are read in one BatchGetItem, the notices are
compared with them, and only the offers that really change are written (BatchWriteItem), stamped with
the time of the change (getOffers deltas and the update files read it). So a re-sync of the same file
writes nothing, and a retried sync never duplicates a change. Nothing is ever deleted: a removal
(ONIX NotificationType 05) marks the stored offer removed and keeps its terms; a removal of an offer
the hub never had is ignored. Each offer is one item, written whole or not at all."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from itertools import islice

from ..domain.dates import iso
from ..domain.offers import Offer
from ..store import offers as store
from .onix import Notice, Removal

CHUNK = 100  # one BatchGetItem


def _same(a: Offer, b: Offer) -> bool:
    return replace(a, updated_at="") == replace(b, updated_at="")


def apply_notices(notices: Iterable[Notice], now: datetime) -> Iterator[Offer]:
    """Apply notices in order; yield each offer as written (the changed ones only). When the source
    fails part-way (a file broken off), the complete notices read before the fault are applied, then
    the fault is raised."""
    stamp = iso(now)
    it = iter(notices)
    while True:
        chunk: list[Notice] = []
        fault: Exception | None = None
        try:
            chunk.extend(islice(it, CHUNK))
        except Exception as e:
            fault = e
        yield from _apply_chunk(chunk, stamp)
        if fault is not None:
            raise fault
        if len(chunk) < CHUNK:
            return


def _apply_chunk(chunk: list[Notice], stamp: str) -> Iterator[Offer]:
    if not chunk:
        return
    keys = list(dict.fromkeys((n.ean13, n.gln_distributor) for n in chunk))
    current: dict[tuple[str, str], Offer] = store.get_many(keys)
    changed: dict[tuple[str, str], Offer] = {}
    for notice in chunk:
        key = (notice.ean13, notice.gln_distributor)
        old = current.get(key)
        if isinstance(notice, Removal):
            if old is None or old.removed:
                continue
            new = replace(old, removed=True)
        else:
            new = notice
        if old is not None and _same(old, new):
            continue
        new = replace(new, updated_at=stamp)
        current[key] = changed[key] = new
    if changed:
        store.save_many(changed.values())
        yield from changed.values()


def apply(offers: Iterable[Notice], now: datetime) -> int:
    """Upsert offers (and removals); the number of offers that changed."""
    return sum(1 for _ in apply_notices(offers, now))
