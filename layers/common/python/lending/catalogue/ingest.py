"""The one path by which offers enter the catalogue (the demo catalogue and every distributor sync).

Notices are taken in chunks: each chunk's stored offers are read in one BatchGetItem, the notices are
compared with them, and only the offers that really change are written (BatchWriteItem), stamped with
the time of the change (getOffers deltas and the update files read it). So a re-sync of the same file
writes nothing, and a retried sync never duplicates a change. Nothing is ever deleted: a removal
(ONIX NotificationType 05) marks the stored offer removed and keeps its terms; a removal of an offer
the hub never had is ignored. Each offer is one item, written whole or not at all.

The reader bounds every number it accepts, but DynamoDB may still refuse an item (one past its 400 KB, a
title of megabytes): then the chunk's offers are written one by one, so that only the refused ones are
left out, reported like an invalid record; every other fault (throttling, the network) is raised and the
sync retries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import DecimalException
from itertools import islice

from botocore.exceptions import ClientError

from ..domain.dates import iso
from ..domain.offers import Offer
from ..domain.values import replace
from ..store import offers as store
from .onix import Notice, Rejected, Removal

OnRefused = Callable[[Rejected], None]

CHUNK = 100  # one BatchGetItem


def _same(a: Offer, b: Offer) -> bool:
    return replace(a, updated_at="") == replace(b, updated_at="")


def apply_notices(notices: Iterable[Notice], now: datetime, on_refused: OnRefused | None = None
                  ) -> Iterator[Offer]:
    """Apply notices in order; yield each offer as written (the changed ones only). When the source
    fails part-way (a file broken off), the complete notices read before the fault are applied, then
    the fault is raised. Offers the table refuses go to `on_refused` (without it, the refusal is raised)."""
    stamp = iso(now)
    it = iter(notices)
    while True:
        chunk: list[Notice] = []
        fault: Exception | None = None
        try:
            chunk.extend(islice(it, CHUNK))
        except Exception as e:
            fault = e
        yield from _apply_chunk(chunk, stamp, on_refused)
        if fault is not None:
            raise fault
        if len(chunk) < CHUNK:
            return


def _apply_chunk(chunk: list[Notice], stamp: str, on_refused: OnRefused | None) -> Iterator[Offer]:
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
        yield from _save(list(changed.values()), on_refused)


def _save(offers: list[Offer], on_refused: OnRefused | None) -> list[Offer]:
    """The offers written; if the table refuses one, each is written alone and the refused are reported."""
    try:
        store.save_many(offers)
        return offers
    except Exception as e:
        if on_refused is None or not _refused(e):
            raise
    saved = []
    for offer in offers:  # puts are idempotent: those of the batch already written are written again
        try:
            store.save(offer)
        except Exception as e:
            if not _refused(e):
                raise
            on_refused(Rejected(offer.ean13, f"the table refused the offer: {_why(e)}"))
        else:
            saved.append(offer)
    return saved


def _refused(e: Exception) -> bool:
    """The item itself is refused, so retrying cannot help (unlike throttling or a network fault)."""
    if isinstance(e, ClientError):
        return bool(e.response.get("Error", {}).get("Code") == "ValidationException")
    return isinstance(e, DecimalException)  # boto3 refuses a number DynamoDB cannot hold before sending


def _why(e: Exception) -> str:
    if isinstance(e, ClientError):
        return str(e.response.get("Error", {}).get("Message") or e)
    return type(e).__name__


def apply(offers: Iterable[Notice], now: datetime) -> int:
    """Upsert offers (and removals); the number of offers that changed."""
    return sum(1 for _ in apply_notices(offers, now))
