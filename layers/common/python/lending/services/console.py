"""The library console's use cases. Every one takes the signed-in staff member and works inside their
collectivity only: a patron, loan or licence of another collectivity is as unknown as a missing one.
Returns and courtesy loans are the very use cases of the library API v1 (services.patron_loans), so
a return from the console frees the place, shows in getEndedLoans and sends the callback."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..domain.accounts import Account
from ..domain.codes import Status
from ..domain.licences import Pool
from ..domain.loans import Loan, LoanState, LoanView
from ..domain.patrons import Limits, Patron, email_digest
from ..domain.refusals import Reason, Refused
from ..domain.staff import Staff, check_password
from ..domain.values import Record, Value
from ..store import accounts as account_store
from ..store import holds as hold_store
from ..store import licences as line_store
from ..store import loans as loan_store
from ..store import offers as offer_store
from ..store import patrons as patron_store
from ..store import settings as settings_store
from ..store import staff as staff_store
from .api_keys import derive_patron_key
from .context import Ctx
from .links import signing_key

if TYPE_CHECKING:
    from . import holds as hold_cases

# The use cases of a few pages only (a patron's record, holds, addresses, returns) are imported by those
# pages: the console's cold start loads what signing in and the dashboard need (docs/cost.md).

MAX_MEMBER_ID = 64
LIMIT_FIELDS = ("maxActiveLoans", "maxLoansPerDay", "maxLoansPerMonth", "defaultLoanDays")
NEARLY_SPENT = 3  # a licence with this many loans left or fewer is "nearly spent"
ENDING_DAYS = 30  # a licence ending within this many days is "ending"


def not_found() -> Refused:
    return Refused(Reason.NOT_FOUND)


def forbidden() -> Refused:
    return Refused(Reason.FORBIDDEN)


def collectivity(staff: Staff) -> Account:
    coll = account_store.get(staff.gln_coll)
    if coll is None:
        raise forbidden()
    return coll


def _admin(staff: Staff) -> None:
    if not staff.admin:
        raise forbidden()


def audit(ctx: Ctx, staff: Staff, action: str, target: str, detail: str = "") -> None:
    staff_store.audit(staff.gln_coll, ctx.now, staff.email, action, target, detail)


# --- licences and dashboard ---

class LicenceRow(Record):
    order_line_id: str
    ean13: str
    title: str
    nta: int
    nta_total: int
    downloads_free: int
    streams_free: int
    begin: datetime | None
    end: datetime
    status: str
    loan_url: str | None
    active_loans: int

    def __init__(self, order_line_id: str, ean13: str, title: str, nta: int, nta_total: int, downloads_free: int,
                 streams_free: int, begin: datetime | None, end: datetime, status: str, loan_url: str | None,
                 active_loans: int = 0) -> None:
        self._init(order_line_id, ean13, title, nta, nta_total, downloads_free, streams_free, begin, end, status,
                   loan_url, active_loans)


def licences(ctx: Ctx, staff: Staff) -> list[LicenceRow]:
    """The collectivity's licences (the getOrders view), ending soonest first."""
    orders = line_store.orders_of_coll(staff.gln_coll)
    items = line_store.get_lines([i for o in orders for i in o["lineIds"]])
    titles: dict[tuple[str, str], str] = {}
    rows = []
    for item in items.values():
        if item.get("glnColl") != staff.gln_coll or not line_store.is_licence(item):
            continue
        lic = line_store.licence(item, ctx.now)
        key = (lic.ean13, lic.gln_distributor)
        if key not in titles:
            offer = offer_store.get(*key)
            titles[key] = offer.title if offer and offer.title else lic.ean13
        token = item.get("lendingToken")
        url = (f"{ctx.base_url}/warehouse/licences/{lic.order_line_id}/{token}/loans"
               if token and lic.status == Status.OK else None)
        rows.append(LicenceRow(lic.order_line_id, lic.ean13, titles[key], lic.nta, lic.nta_total, lic.nus1(ctx.now),
                               lic.nus2(ctx.now), lic.begin_date, lic.end_date, lic.status, url,
                               sum(lic.sizes[p] - lic.free[p] for p in Pool)))
    return sorted(rows, key=lambda r: (r.end, r.order_line_id))


class Dashboard(Record):
    active_loans: int
    licences: int
    nearly_spent: list[LicenceRow]
    ending: list[LicenceRow]
    per_day: list[tuple[str, int]]  # this month, day by day

    def __init__(self, active_loans: int, licences: int, nearly_spent: list[LicenceRow], ending: list[LicenceRow],
                 per_day: list[tuple[str, int]] | None = None) -> None:
        self._init(active_loans, licences, nearly_spent, ending, [] if per_day is None else per_day)


def dashboard(ctx: Ctx, staff: Staff) -> Dashboard:
    rows = licences(ctx, staff)
    live = [r for r in rows if r.status == Status.OK and r.end > ctx.now]
    month_start = ctx.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    days: Counter[str] = Counter()
    for r in live:
        for loan in loan_store.of_line(r.order_line_id):
            if loan.created_at >= month_start:
                days[loan.created_at.strftime("%Y-%m-%d")] += 1
    per_day, day = [], month_start
    while day <= ctx.now:
        key = day.strftime("%Y-%m-%d")
        per_day.append((key, days[key]))
        day += timedelta(days=1)
    return Dashboard(active_loans=sum(r.active_loans for r in live), licences=len(live),
                     nearly_spent=[r for r in live if r.nta <= NEARLY_SPENT],
                     ending=[r for r in live if r.end - ctx.now <= timedelta(days=ENDING_DAYS)], per_day=per_day)


# --- patrons ---

def _member(member_id: str) -> str:
    member_id = member_id.strip()
    if not 0 < len(member_id) <= MAX_MEMBER_ID or not member_id.isprintable():
        raise not_found()
    return member_id


def find_patron(staff: Staff, query: str) -> str | None:
    """A patron by identifier, or by the email they gave (kept only as a keyed digest: exact match)."""
    query = query.strip()
    if not query:
        return None
    if "@" in query:
        owner = patron_store.email_owner(staff.gln_coll, email_digest(signing_key(), query))
        if owner is not None:
            return owner
    try:  # an identifier (which may hold an @ too)
        member = _member(query)
    except Refused:
        return None
    return member if _known(staff.gln_coll, member) else None


def _known(gln_coll: str, member: str) -> bool:
    """Has the patron ever been seen by the collectivity: a patron record (v1 loans and limits), a loan of
    any door, or a hold (a patron who only waits for a title has no loan yet, and no patron record)."""
    return (patron_store.get(gln_coll, member).version > 0
            or bool(patron_store.member_loans(gln_coll, member, None, None, 0, 1)[0])
            or hold_store.patron_holds(gln_coll, member)[0] > 0)


class PatronRecord(Record):
    patron: Patron
    limits: Limits
    active: list[LoanView]
    history: list[LoanView]
    titles: dict[str, str]
    more: bool
    holds: list[hold_cases.HoldView]  # open: waiting or reserved

    def __init__(self, patron: Patron, limits: Limits, active: list[LoanView], history: list[LoanView],
                 titles: dict[str, str], more: bool, holds: list[hold_cases.HoldView] | None = None) -> None:
        self._init(patron, limits, active, history, titles, more, [] if holds is None else holds)


def patron(ctx: Ctx, staff: Staff, member_id: str, history: int = 50) -> PatronRecord:
    member = _member(member_id)
    record = patron_store.get(staff.gln_coll, member)
    items, more = patron_store.member_loans(staff.gln_coll, member, None, None, 0, history)
    if record.version == 0 and not items and hold_store.patron_holds(staff.gln_coll, member)[0] == 0:
        raise not_found()  # never seen (as find_patron's _known: a patron with holds only is found)
    from ..store import deliveries
    from . import holds as hold_cases

    views = [deliveries.view(i).at(ctx.now) for i in items]
    active = [v for v in views if v.loan.active(ctx.now)]
    ended = [v for v in views if not v.loan.active(ctx.now)]
    titles = {v.loan.ean13: _title(v.loan) for v in views}
    holds = hold_cases.open_holds(ctx, staff.gln_coll, member)
    titles.update({v.hold.ean13: hold_cases.title_of(v.hold) for v in holds if v.hold.ean13 not in titles})
    return PatronRecord(record, Limits.of(collectivity(staff).settings), active, ended, titles, more, holds)


def _title(loan: Loan) -> str:
    offer = offer_store.get(loan.ean13, loan.gln_distributor)
    return offer.title if offer and offer.title else loan.ean13


def patron_api_key(staff: Staff, member_id: str) -> str:
    """The patron's API key (their password in the patron space): derived from the hub's key, the
    collectivity, the patron and a generation, so it is never stored and regenerating it (a new
    generation) voids the old one."""
    member = _member(member_id)
    generation = staff_store.patron_key_generation(staff.gln_coll, member)
    return derive_patron_key(staff.gln_coll, member, generation)


def regenerate_patron_api_key(ctx: Ctx, staff: Staff, member_id: str) -> str:
    member = _member(member_id)
    patron(ctx, staff, member)  # an unknown patron gets no key
    generation = staff_store.next_patron_key_generation(staff.gln_coll, member)
    audit(ctx, staff, "patron.api_key", member)
    return derive_patron_key(staff.gln_coll, member, generation)


def set_patron_password(ctx: Ctx, staff: Staff, member_id: str, password: str) -> None:
    """A patron space password of the library's choosing, in place of the API key from now on (the
    staff password policy; open patron sessions end)."""
    from .staff import hash_password

    member = _member(member_id)
    patron(ctx, staff, member)
    check_password(password, member)
    staff_store.set_patron_password(staff.gln_coll, member, hash_password(password))
    audit(ctx, staff, "patron.password", member)


def return_loan(ctx: Ctx, staff: Staff, member_id: str, loan_id: str) -> LoanView:
    """Return the patron's loan on their behalf: the library API v1 early return itself."""
    member = _member(member_id)
    coll = collectivity(staff)
    from . import patron_loans

    found = patron_loans.own_loan(coll, loan_id)
    if found.loan.extra.get("memberId") != member:
        raise not_found()
    view = patron_loans.return_loan(ctx, coll, loan_id)
    audit(ctx, staff, "loan.return", member, f"{loan_id} {view.loan.ean13}")
    return view


def grant_courtesy(ctx: Ctx, staff: Staff, member_id: str) -> int:
    member = _member(member_id)
    patron(ctx, staff, member)
    from . import patron_loans

    granted = patron_loans.grant_courtesy(collectivity(staff), member)
    audit(ctx, staff, "patron.courtesy", member, str(granted))
    return granted


# --- holds ---

class TitleHolds(Record):
    ean13: str
    title: str
    holds: list[hold_cases.HoldView]  # queue order (ticket)

    def __init__(self, ean13: str, title: str, holds: list[hold_cases.HoldView]) -> None:
        self._init(ean13, title, holds)


def holds(ctx: Ctx, staff: Staff, page: int = 1, per_page: int = 50) -> tuple[list[TitleHolds], bool]:
    """One page of the collectivity's holds (newest placed first, services.holds.list_holds), shown per
    title in queue order; and whether older ones follow."""
    from . import holds as hold_cases

    views, more = hold_cases.list_holds(ctx, collectivity(staff), None, max(1, page), per_page)
    per_title: dict[str, list[hold_cases.HoldView]] = {}
    for v in views:
        per_title.setdefault(v.hold.ean13, []).append(v)
    out = [TitleHolds(ean13, hold_cases.title_of(found[0].hold), sorted(found, key=lambda v: v.hold.ticket))
           for ean13, found in per_title.items()]
    return sorted(out, key=lambda x: (x.title.casefold(), x.ean13)), more


def cancel_hold(ctx: Ctx, staff: Staff, hold_id: str) -> hold_cases.HoldView:
    """Cancel a patron's hold for them: a waiting one leaves the queue, a reserved place goes to the next."""
    from . import holds as hold_cases

    view = hold_cases.cancel_hold(ctx, collectivity(staff), hold_id[:64])
    audit(ctx, staff, "hold.cancel", view.hold.member_id, f"{view.hold.hold_id} {view.hold.ean13}")
    return view


# --- settings (network admin) ---

class Settings(Record):
    limits: dict[str, int | None]
    ips: list[str]
    has_callback_secret: bool

    def __init__(self, limits: dict[str, int | None], ips: list[str], has_callback_secret: bool) -> None:
        self._init(limits, ips, has_callback_secret)


def settings(staff: Staff) -> Settings:
    _admin(staff)
    coll = collectivity(staff)
    limits = Limits.of(coll.settings)
    from . import ips

    return Settings({"maxActiveLoans": limits.max_active, "maxLoansPerDay": limits.per_day,
                     "maxLoansPerMonth": limits.per_month, "defaultLoanDays": limits.default_days},
                    ips.declared(staff.gln_coll), bool(coll.callback_secret))


def set_limits(ctx: Ctx, staff: Staff, values: dict[str, str]) -> dict[str, int]:
    """v1 limits (empty: no limit) and the default loan length (days, 1 to 365)."""
    _admin(staff)
    out: dict[str, int] = {}
    for name in LIMIT_FIELDS:
        text = values.get(name, "").strip()
        if not text and name != "defaultLoanDays":
            continue
        if not (text.isascii() and text.isdigit() and len(text) <= 6):
            raise Refused(Reason.INVALID_LIMIT, name=name)
        number = int(text)
        if name == "defaultLoanDays" and not 1 <= number <= 365:
            raise Refused(Reason.INVALID_LIMIT, name=name)
        out[name] = number
    coll = collectivity(staff)
    kept = {k: v for k, v in coll.settings.items() if k not in LIMIT_FIELDS}
    settings_store.set_settings(staff.gln_coll, {**kept, **out})
    _forget_cached_accounts()
    audit(ctx, staff, "settings.limits", staff.gln_coll, " ".join(f"{k}={v}" for k, v in sorted(out.items())))
    return out


def declare_ips(ctx: Ctx, staff: Staff, entries: list[str]) -> list[str]:
    _admin(staff)
    entries = [e.strip() for e in entries if e.strip()]
    if not entries:
        raise Refused(Reason.NO_IP_ENTRY)
    from . import ips

    already = ips.declare(collectivity(staff), ips.DeclareIps(entries)).already
    audit(ctx, staff, "settings.ips", staff.gln_coll, " ".join(entries))
    return already


def rotate_api_key(ctx: Ctx, staff: Staff) -> str:
    """A new v1 API key, shown once; the previous one stops working."""
    _admin(staff)
    key = "v1_" + secrets.token_urlsafe(30)
    settings_store.rotate_api_key(staff.gln_coll, key)
    _forget_cached_accounts()
    audit(ctx, staff, "settings.api_key", staff.gln_coll)
    return key


def rotate_callback_secret(ctx: Ctx, staff: Staff) -> str:
    """A new HMAC key for the early-return callbacks, shown once (the library system needs it)."""
    _admin(staff)
    secret = secrets.token_urlsafe(32)
    settings_store.set_callback_secret(staff.gln_coll, secret)
    _forget_cached_accounts()
    audit(ctx, staff, "settings.callback_secret", staff.gln_coll)
    return secret


def _forget_cached_accounts() -> None:
    """This container's short caches of accounts see the change at once; other warm containers within
    their cache time (a minute)."""
    from . import api_keys, auth

    api_keys.forget()
    auth.forget()


class AuditEntry(Value):
    at: str
    actor: str
    action: str
    target: str
    detail: str

    def __init__(self, at: str, actor: str, action: str, target: str, detail: str = "") -> None:
        self._init(at, actor, action, target, detail)


def audit_log(staff: Staff) -> list[AuditEntry]:
    """The collectivity's staff actions, newest first (the network admin's page)."""
    _admin(staff)
    return [AuditEntry(str(i["at"]), str(i["actor"]), str(i["action"]), str(i["target"]), str(i.get("detail") or ""))
            for i in staff_store.audit_log(staff.gln_coll)]


def loan_state(view: LoanView) -> str:
    return view.loan.state.value.lower() if view.loan.state is not LoanState.ACTIVE else "active"
