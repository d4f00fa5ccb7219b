"""Holds: a patron's place in the queue for a title whose copies are all out.

One FIFO queue per title (EAN-13) per collectivity, ordered by ticket (a counter of the queue, taken in
the hold's own transaction, so the order of tickets is the order of commits). When a download place
frees (an early return by any door, an expiry, a new licence), the head of the queue gets it reserved
for a window (library setting, default 48 h): the place counts as taken (the licence's `free` is not
given back, its `held` counter goes up) until the patron borrows it (the reservation is consumed by the
loan), or the window passes (the reservation goes to the next in line, or the place is freed).

    WAITING --(a place frees)--> RESERVED --(the patron borrows)--> CLAIMED
       |                            |--(window passed)--> EXPIRED (the place to the next, or freed)
       +--(cancelled)--> CANCELLED  +--(cancelled)------> CANCELLED (likewise)

A hold waits for a place of one pool: a download (the v1 door's, the default) or a stream, on-site or
off-site (the patron space's "read online"). The tickets of a title are one sequence, and each freed
place goes to the first waiting hold of its own pool: a FIFO queue per title and pool.

Pure rules: no clock of its own (`now` is an argument), no storage."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .licences import Pool
from .refusals import Reason, Refused
from .values import Record, Value

DEFAULT_MAX_HOLDS = 5
DEFAULT_WINDOW_HOURS = 48
TICKET_DIGITS = 11  # hold id = EAN-13 + ticket: 24 characters, as the v1 loan ids



class HoldState(StrEnum):
    WAITING = "WAITING"
    RESERVED = "RESERVED"
    CLAIMED = "CLAIMED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


OPEN = (HoldState.WAITING, HoldState.RESERVED)


def _setting(settings: Mapping[str, Any], name: str, default: int, low: int) -> int:
    value = settings.get(name)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= low:
        return value
    return default


class HoldSettings(Value):
    """Account.settings of the collectivity: `maxHolds` (open holds per patron, 0: holds off) and
    `holdWindowHours` (how long a reserved place waits for its patron)."""

    max_holds: int
    window: timedelta

    def __init__(self, max_holds: int = DEFAULT_MAX_HOLDS,
                 window: timedelta = timedelta(hours=DEFAULT_WINDOW_HOURS)) -> None:
        self._init(max_holds, window)

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> HoldSettings:
        return cls(max_holds=_setting(settings, "maxHolds", DEFAULT_MAX_HOLDS, 0),
                   window=timedelta(hours=_setting(settings, "holdWindowHours", DEFAULT_WINDOW_HOURS, 1)))


def hold_id(ean13: str, ticket: int) -> str:
    return f"{ean13}{ticket:0{TICKET_DIGITS}d}"


def parse_hold_id(text: str) -> tuple[str, int] | None:
    """(ean13, ticket) of a hold id, None for anything that cannot be one."""
    if len(text) != 13 + TICKET_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return text[:13], int(text[13:])


class Hold(Record):
    gln_coll: str
    ean13: str
    ticket: int
    member_id: str
    placed_at: datetime
    state: HoldState
    order_line_id: str | None  # the licence whose place is reserved
    reserved_at: datetime | None
    expires_at: datetime | None  # end of the reservation window (v1 `hold_expires_at`)
    ended_at: datetime | None
    loan_id: str | None  # the loan that consumed the reservation
    email: str | None  # only while the patron may still need to be told; dropped once notified
    callback_url: str | None
    extra: dict[str, Any]
    pool: Pool  # the kind of place the patron waits for

    def __init__(self, gln_coll: str, ean13: str, ticket: int, member_id: str, placed_at: datetime,
                 state: HoldState = HoldState.WAITING, order_line_id: str | None = None,
                 reserved_at: datetime | None = None, expires_at: datetime | None = None,
                 ended_at: datetime | None = None, loan_id: str | None = None, email: str | None = None,
                 callback_url: str | None = None, extra: dict[str, Any] | None = None,
                 pool: Pool = Pool.DOWNLOAD) -> None:
        self._init(gln_coll, ean13, ticket, member_id, placed_at, state, order_line_id, reserved_at, expires_at,
                   ended_at, loan_id, email, callback_url, {} if extra is None else extra, pool)

    @property
    def hold_id(self) -> str:
        return hold_id(self.ean13, self.ticket)

    @property
    def open(self) -> bool:
        return self.state in OPEN

    def claimable(self, now: datetime) -> bool:
        return self.state is HoldState.RESERVED and self.expires_at is not None and self.expires_at > now


def check_new_hold(settings: HoldSettings, open_holds: int, on_loan: bool, available: bool) -> None:
    """May the patron join the queue? `open_holds`: their holds still waiting or reserved (any title);
    `on_loan`: they already borrow this title; `available`: a place is free now (they may borrow it)."""
    if on_loan:
        raise Refused(Reason.ALREADY_ON_LOAN)
    if available:
        raise Refused(Reason.COPIES_AVAILABLE)
    if open_holds >= settings.max_holds:
        raise Refused(Reason.HOLD_LIMIT)


def head(queue: Sequence[Hold], pool: Pool = Pool.DOWNLOAD) -> Hold | None:
    """The next patron to serve a place of `pool`: the waiting hold of that pool with the lowest ticket."""
    waiting = [h for h in queue if h.state is HoldState.WAITING and h.pool is pool]
    return min(waiting, key=lambda h: h.ticket) if waiting else None


def reservation_end(now: datetime, settings: HoldSettings) -> datetime:
    return (now + settings.window).replace(microsecond=0)


def reserve(hold: Hold, order_line_id: str, now: datetime, settings: HoldSettings) -> Hold:
    """The head of the queue gets a place of `order_line_id` until the window's end."""
    if hold.state is not HoldState.WAITING:
        raise ValueError(f"hold {hold.hold_id} is {hold.state}, not waiting")
    return Hold(**{**hold.__dict__, "state": HoldState.RESERVED, "order_line_id": order_line_id,
                   "reserved_at": now, "expires_at": reservation_end(now, settings)})


def position(queue: Sequence[Hold], hold: Hold) -> int:
    """1 for the head of its pool's queue; 0 once the hold is no longer waiting (reserved, or over)."""
    if hold.state is not HoldState.WAITING:
        return 0
    return 1 + sum(1 for h in queue if h.state is HoldState.WAITING and h.pool is hold.pool and h.ticket < hold.ticket)


def expected_at(place: int, loan_ends: Sequence[datetime], reserved_ends: Sequence[datetime],
                loan_days: int, now: datetime) -> datetime | None:
    """When the patron at queue `place` (1 = head) may expect a place, worst case: each place frees at
    its current loan's end (or its reservation's end), and every later turn of that place lasts a whole
    loan. None when the title has no place at all (its licences are spent: only a new one can serve)."""
    if place <= 0:
        return None
    ends = sorted([*loan_ends, *reserved_ends])
    if not ends:
        return None
    turn, slot = divmod(place - 1, len(ends))
    return max(now, ends[slot]) + timedelta(days=loan_days * turn)


def expected_wait_days(place: int, loan_ends: Sequence[datetime], reserved_ends: Sequence[datetime],
                       loan_days: int, now: datetime) -> int | None:
    when = expected_at(place, loan_ends, reserved_ends, loan_days, now)
    return None if when is None else max(0, math.ceil((when - now).total_seconds() / 86_400))
