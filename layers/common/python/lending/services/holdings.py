"""A library's catalogue: the titles it holds licences for (what harvesters and reading apps browse).

A title (resource) is an EAN-13 of which the collectivity holds at least one OK licence (order line);
the title's medium id is that EAN, the one `POST /v1/media/{ean13}/loans` lends. Another library's
licences never show.

- available: some licence can still lend a download: started, not over, accesses (NTA) left, a
  download pool. A title whose licences are all spent or over stays listed, unavailable, so a harvester
  learns to withdraw it (the Cantook family's `available=1` listing).
- copies: the download places of the licences that can lend; copies_free: those free right now.
- updated_at: the last time the title changed for the library: a licence bought, started, over or spent
  (its last loan), or the catalogue's notice changed. A harvest `start_at` compares with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.accounts import Account
from ..domain.dates import from_store, parse_iso
from ..domain.identifiers import is_ean13
from ..domain.licences import Licence, Pool
from ..domain.offers import Offer
from ..domain.values import Value
from ..store import holdings as holding_store
from ..store import licences as line_store
from ..store import loans as loan_store
from ..store import offers as offer_store


class Title(Value):
    ean13: str
    offer: Offer | None  # the catalogue's notice (None if the distributor's offer is gone)
    licences: tuple[Licence, ...]
    created_at: datetime  # the first licence bought
    updated_at: datetime
    available: bool
    copies: int
    copies_free: int
    loans_left: int  # accesses (NTA) left over the licences that can lend
    lendable_until: datetime | None  # the latest end among the licences that can lend

    def __init__(self, ean13: str, offer: Offer | None, licences: tuple[Licence, ...], created_at: datetime,
                 updated_at: datetime, available: bool, copies: int, copies_free: int, loans_left: int,
                 lendable_until: datetime | None) -> None:
        self._init(ean13, offer, licences, created_at, updated_at, available, copies, copies_free, loans_left,
                   lendable_until)

    @property
    def title(self) -> str:
        return self.offer.title if self.offer and self.offer.title else self.ean13


def can_lend_from(lic: Licence, now: datetime) -> bool:
    """The licence can lend (started, not over, accesses left), whatever its pools."""
    return lic.status == "OK" and lic.dmd_date <= now < lic.end_date and lic.nta > 0


def can_lend(lic: Licence, now: datetime) -> bool:
    return can_lend_from(lic, now) and lic.sizes[Pool.DOWNLOAD] > 0


def _title(ean13: str, licences: list[tuple[Licence, datetime]], offer: Offer | None, now: datetime) -> Title:
    lendable = [lic for lic, _ in licences if can_lend(lic, now)]
    moments = [created for _, created in licences]
    for lic, _ in licences:
        moments += [d for d in (lic.dmd_date, lic.end_date) if d <= now]
        if lic.nta <= 0:  # spent: the moment of its last loan
            moments += [loan.created_at for loan in loan_store.of_line(lic.order_line_id)]
    stamp = parse_iso(offer.updated_at) if offer and offer.updated_at else None
    if stamp is not None:
        moments.append(stamp)
    return Title(
        ean13=ean13, offer=offer, licences=tuple(lic for lic, _ in licences),
        created_at=min(created for _, created in licences), updated_at=max(moments), available=bool(lendable),
        copies=sum(lic.sizes[Pool.DOWNLOAD] for lic in lendable),
        copies_free=sum(max(0, lic.free[Pool.DOWNLOAD]) for lic in lendable),
        loans_left=sum(lic.nta for lic in lendable),
        lendable_until=max((lic.end_date for lic in lendable), default=None),
    )


def _held(items: list[dict[str, Any]], now: datetime) -> dict[str, list[tuple[Licence, datetime]]]:
    held: dict[str, list[tuple[Licence, datetime]]] = {}
    for item in items:
        if item.get("status") != "OK" or not line_store.is_licence(item):
            continue
        created = from_store(item.get("createdAt")) or from_store(item["dmdDate"])
        assert created is not None
        held.setdefault(item["ean13"], []).append((line_store.licence(item, now), created))
    return held


def _titles(held: dict[str, list[tuple[Licence, datetime]]], now: datetime) -> list[Title]:
    pairs = sorted({(lic.ean13, lic.gln_distributor) for found in held.values() for lic, _ in found})
    offers = offer_store.get_many(pairs) if pairs else {}
    out = []
    for ean13 in sorted(held):
        found = sorted(held[ean13], key=lambda x: x[1])
        # The notice of the distributor of the newest licence that still has an offer.
        offer = next((offers[(ean13, lic.gln_distributor)] for lic, _ in reversed(found)
                      if (ean13, lic.gln_distributor) in offers), None)
        out.append(_title(ean13, found, offer, now))
    return out


def titles(library: Account, now: datetime) -> list[Title]:
    """Every title the library holds a licence of, by EAN."""
    orders = line_store.orders_of_coll(library.gln)
    items = line_store.get_lines([i for o in orders for i in o["lineIds"]])
    return _titles(_held(list(items.values()), now), now)


def title(library: Account, ean13: str, now: datetime) -> Title | None:
    found = _titles(_held(holding_store.lines_of(library.gln, ean13), now), now) if is_ean13(ean13) else []
    return found[0] if found else None


def select(found: list[Title], *, available: bool = False, since: datetime | None = None) -> list[Title]:
    return [t for t in found if (not available or t.available) and (since is None or t.updated_at >= since)]


def page(found: list[Title], number: int, per_page: int) -> tuple[list[Title], int]:
    """One page (from 1) and the number of pages (0 when there is nothing)."""
    pages = -(-len(found) // per_page)
    start = (number - 1) * per_page
    return found[start:start + per_page], pages
