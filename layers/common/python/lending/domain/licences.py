"""A licence is an OK order line: three pools of simultaneous use, accesses left (NTA), a window.

The decision functions here are the single source of truth for every door: PNB loanBook and
consultBook, the library API v1 and the warehouse lending URL all lend through `check_loan`."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from .codes import Status
from .offers import LicenceTerms
from .refusals import Reason, Refused
from .values import Record, Value


class Pool(StrEnum):
    DOWNLOAD = "dl"
    ONSITE = "on"
    OFFSITE = "off"


class AccessMedium(StrEnum):
    DOWNLOAD = "DOWNLOAD"
    STREAMING = "STREAMING"


class Localization(StrEnum):
    IN_SITU = "IN_SITU"
    EX_SITU = "EX_SITU"


def pool_for(medium: AccessMedium, localization: Localization) -> Pool:
    """CONTRACT 3: DOWNLOAD uses the download pool; STREAMING the on-site or off-site one."""
    if medium is AccessMedium.DOWNLOAD:
        return Pool.DOWNLOAD
    return Pool.ONSITE if localization is Localization.IN_SITU else Pool.OFFSITE


class Seat(Value):
    """A loan as its licence line counts it (docs/cost.md): the line holds its loans, not a count of them.
    A seat whose end has passed no longer takes a place; the line's next write drops it."""

    pool: Pool
    end: datetime
    created: datetime
    mark: str  # the head of the loan's request fingerprint: a replay recognises its own seat

    def __init__(self, pool: Pool, end: datetime, created: datetime, mark: str) -> None:
        self._init(pool, end, created, mark)

    def live(self, now: datetime) -> bool:
        return self.end > now


def lapsed(seats: dict[str, Seat], now: datetime) -> dict[str, Seat]:
    """The seats whose loan has reached its end: places free again, though still written on the line."""
    return {k: s for k, s in seats.items() if not s.live(now)}


def live_free(stored: dict[Pool, int], seats: dict[str, Seat], now: datetime) -> dict[Pool, int]:
    """Free places at `now`: the line's stored count (its size less every seat written and every place
    reserved for a hold) plus the seats that have lapsed. The one rule every reader counts with."""
    out = dict(stored)
    for seat in lapsed(seats, now).values():
        out[seat.pool] = out.get(seat.pool, 0) + 1
    return out


class Licence(Record):
    order_line_id: str
    gln_coll: str
    gln_reseller: str
    order_id: str
    ean13: str
    gln_distributor: str
    status: str  # OK | CANCELLED
    sizes: dict[Pool, int]
    free: dict[Pool, int]
    nta_total: int
    nta: int
    dmd_date: datetime
    end_date: datetime  # end of the licence window: dmdDate + licence days
    max_loan_days: int
    begin_date: datetime | None
    lending_token: str | None
    held: int  # places reserved for holds (taken from `free`, each keeping one access of `nta`)
    held_streams: dict[Pool, int]  # of `held`, those of the streaming pools
    seats: dict[str, Seat]  # the loans the line counts, lapsed ones included
    # The title's hold queue may have a waiting hold (written with a hold, cleared by the expiry job once
    # none waits): a loan freeing a lapsed seat's place reads the queue first only then.
    queued: bool

    def __init__(self, order_line_id: str, gln_coll: str, gln_reseller: str, order_id: str, ean13: str,
                 gln_distributor: str, status: str, sizes: dict[Pool, int], free: dict[Pool, int], nta_total: int,
                 nta: int, dmd_date: datetime, end_date: datetime, max_loan_days: int,
                 begin_date: datetime | None = None, lending_token: str | None = None, held: int = 0,
                 held_streams: dict[Pool, int] | None = None, seats: dict[str, Seat] | None = None,
                 queued: bool = False) -> None:
        self._init(order_line_id, gln_coll, gln_reseller, order_id, ean13, gln_distributor, status, sizes, free,
                   nta_total, nta, dmd_date, end_date, max_loan_days, begin_date, lending_token, held,
                   {} if held_streams is None else held_streams, {} if seats is None else seats, queued)

    def held_in(self, pool: Pool) -> int:
        """Places of `pool` reserved for holds (out of its `free`)."""
        if pool is Pool.DOWNLOAD:
            return self.held - sum(self.held_streams.values())
        return self.held_streams.get(pool, 0)

    @classmethod
    def new(
        cls,
        *,
        order_line_id: str,
        gln_coll: str,
        gln_reseller: str,
        order_id: str,
        ean13: str,
        gln_distributor: str,
        terms: LicenceTerms,
        dmd_date: datetime,
        lending_token: str | None = None,
    ) -> Licence:
        sizes = {
            Pool.DOWNLOAD: terms.downloads,
            Pool.ONSITE: terms.onsite_streams,
            Pool.OFFSITE: terms.offsite_streams,
        }
        return cls(
            order_line_id=order_line_id,
            gln_coll=gln_coll,
            gln_reseller=gln_reseller,
            order_id=order_id,
            ean13=ean13,
            gln_distributor=gln_distributor,
            status=Status.OK.value,
            sizes=sizes,
            free=dict(sizes),
            nta_total=terms.loans,
            nta=terms.loans,
            dmd_date=dmd_date,
            end_date=dmd_date + timedelta(days=terms.licence_days),
            max_loan_days=terms.max_loan_days,
            lending_token=lending_token,
        )

    def expired(self, now: datetime) -> bool:
        return now >= self.end_date

    def end_offer_date(self, now: datetime) -> datetime | None:
        """getOrders/getLoanStatus `endOfferDate`: set once the licence is over."""
        return self.end_date if self.expired(now) else None

    def nus1(self, now: datetime) -> int:
        """Downloads free now (0 once the licence can lend no more)."""
        return 0 if self._spent(now) else self.free[Pool.DOWNLOAD]

    def nus2(self, now: datetime) -> int:
        """On-site plus off-site streams free now."""
        return 0 if self._spent(now) else self.free[Pool.ONSITE] + self.free[Pool.OFFSITE]

    def _spent(self, now: datetime) -> bool:
        return self.status != Status.OK or self.expired(now) or self.nta <= 0

    def unused(self) -> bool:
        return self.begin_date is None and self.nta == self.nta_total


def loan_end(licence: Licence, now: datetime, requested_end: datetime) -> datetime:
    """Validate the requested end of a loan; the end is never past the licence's own end."""
    if requested_end <= now:
        raise Refused(Reason.INVALID_END)
    if requested_end - now > timedelta(days=licence.max_loan_days):
        raise Refused(Reason.OVER_MAX_DURATION)
    return min(requested_end, licence.end_date)


def check_loan(licence: Licence, pool: Pool, now: datetime) -> None:
    """Can this licence lend one place of `pool` now? Raises the precise refusal if not.

    Order matters: "nothing left" (cancelled, expired, NTA spent) before "busy" (pool full)."""
    found = loan_refusals(licence, pool, now)
    if found:
        raise found[0]


def loan_refusals(licence: Licence, pool: Pool, now: datetime) -> list[Refused]:
    """Every reason this licence cannot lend one place of `pool` now, most fundamental first
    (`check_loan` raises the first; the warehouse door lists them all, as its spec asks)."""
    out: list[Refused] = []
    if licence.status != Status.OK or now < licence.dmd_date or licence.sizes[pool] == 0:
        out.append(Refused(Reason.CANNOT_BE_LOANED))
    if licence.expired(now):
        out.append(Refused(Reason.LICENCE_EXPIRED))
    if licence.nta - licence.held <= 0:  # the accesses left are kept for reserved holds
        out.append(Refused(Reason.NTA_EXHAUSTED))
    if licence.free[pool] <= 0:
        out.append(Refused(Reason.POOL_FULL, pool=pool))
    return out
