"""The patron space's use cases: a patron signs in with their library, identifier and API key (seed
000: the key is the password), lists their v1 loans and history, downloads a loan's file, returns a
loan early (the v1 use case itself: patron_loans.return_loan) and reads a streaming loan online.

The reader never receives the EPUB whole: the hub serves it resource by resource, each under a URL
signed for the loan, the resource's path and a short expiry (links.sign_resource). A resource is
refused once the loan has ended, and an on-site loan's only from the collectivity's declared ranges."""

from __future__ import annotations

import hashlib
import mimetypes
import secrets
import zipfile
from datetime import datetime, timedelta
from io import BytesIO

from ..domain.accounts import Account, Role
from ..domain.holds import HoldState
from ..domain.ips import covers, parse_address
from ..domain.licences import Pool
from ..domain.loans import LoanState, LoanView
from ..domain.refusals import Reason, Refused
from ..domain.values import Record
from ..store import accounts as account_store
from ..store import ips as ip_store
from ..store import patron_sessions as sessions
from ..store import patrons as patron_store
from ..store import staff as staff_store
from ..store.patron_sessions import PatronSession as PatronSession  # the patron door's session type
from ..text import same_secret
from . import files, holdings, holds, patron_loans
from .api_keys import derive_patron_key
from .context import Ctx
from .links import sign_resource, verify_resource
from .staff import Attempt, check_throttle, fail, verify_password

MAX_FIELD = 64
RESOURCE_TTL = timedelta(minutes=10)  # a reader page's signed URLs; reopening the page signs anew
STREAMING = (Pool.ONSITE, Pool.OFFSITE)
TYPES = {".xhtml": "application/xhtml+xml", ".html": "text/html", ".htm": "text/html", ".xml": "application/xml",
         ".opf": "application/oebps-package+xml", ".ncx": "application/x-dtbncx+xml", ".css": "text/css",
         ".svg": "image/svg+xml", ".otf": "font/otf", ".ttf": "font/ttf", ".woff": "font/woff",
         ".woff2": "font/woff2"}


def _field(text: str) -> str:
    text = text.strip()
    return text if 0 < len(text) <= MAX_FIELD and text.isprintable() else ""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- signing in ---

def sign_in(ctx: Ctx, library: str, member_id: str, password: str, address: str) -> tuple[str, sessions.PatronSession]:
    """The patron's library (its GLN), identifier and password: their API key, as the console shows it,
    or the password the library set for them in its place.
    Failures count per patron and per address, as the console's (services.staff), and a patron the
    library never lent to has no account."""
    gln, member = _field(library), _field(member_id)
    attempt = Attempt(f"patron#{gln}#{member}", address)
    check_throttle(ctx, attempt)
    coll = account_store.get(gln) if gln else None
    generation, password_hash = staff_store.patron_credentials(gln, member) if coll and member else (0, None)
    if password_hash:  # the library set a password: it replaces the API key
        good = verify_password(password_hash, password[:500])
    else:
        expected = derive_patron_key(gln, member, generation) if coll and member else secrets.token_hex(16)
        good = same_secret(expected, password.strip()[:200])
    known = coll is not None and coll.role is Role.COLLECTIVITY and _known(gln, member)
    if not (good and known):
        raise fail(ctx, attempt, Reason.BAD_PATRON_CREDENTIALS)
    token = secrets.token_urlsafe(32)
    session = sessions.PatronSession(_digest(token), gln, member, secrets.token_urlsafe(24), generation, ctx.now,
                                     ctx.now)
    sessions.save(session)
    return token, session


def _known(gln: str, member: str) -> bool:
    return (patron_store.get(gln, member).version > 0
            or bool(patron_store.member_loans(gln, member, None, None, 0, 1)[0]))


def session_of(ctx: Ctx, token: str | None) -> sessions.PatronSession | None:
    if not token or len(token) > 100:
        return None
    s = sessions.get(_digest(token))
    if s is None:
        return None
    if not s.alive(ctx.now, staff_store.patron_key_generation(s.gln_coll, s.member_id)):
        sessions.delete(s.token_id)
        return None
    if (ctx.now - s.seen_at).total_seconds() > 60:
        sessions.touch(s.token_id, ctx.now)
    return s


def sign_out(token: str | None) -> None:
    if token and len(token) <= 100:
        sessions.delete(_digest(token))


# --- loans ---

def _coll(s: sessions.PatronSession) -> Account:
    coll = account_store.get(s.gln_coll)
    if coll is None:
        raise Refused(Reason.FORBIDDEN)
    return coll


class MyLoans(Record):
    active: list[LoanView]
    history: list[LoanView]
    titles: dict[str, str]

    def __init__(self, active: list[LoanView], history: list[LoanView], titles: dict[str, str]) -> None:
        self._init(active, history, titles)


def my_loans(ctx: Ctx, s: sessions.PatronSession, limit: int = 50) -> MyLoans:
    items, _ = patron_store.member_loans(s.gln_coll, s.member_id, None, None, 0, limit)
    views = [patron_loans.deliveries.view(i).at(ctx.now) for i in items]
    return MyLoans([v for v in views if v.loan.active(ctx.now)], [v for v in views if not v.loan.active(ctx.now)],
                   {v.loan.ean13: patron_loans.title_of(v.loan) for v in views})


def own_loan(s: sessions.PatronSession, loan_id: str) -> LoanView:
    """The patron's own v1 loan; another patron's is as unknown as a missing one."""
    found = patron_loans.own_loan(_coll(s), loan_id)
    if found.loan.extra.get("memberId") != s.member_id:
        raise patron_loans.loan_not_found()
    return found


def download(ctx: Ctx, s: sessions.PatronSession, loan_id: str) -> str:
    """The fulfilment link of a download loan (v1's fulfilment document's link; the download is recorded)."""
    if own_loan(s, loan_id).loan.pool in STREAMING:
        raise Refused(Reason.STREAMING_ONLY)
    _, link, _ = patron_loans.fulfil(ctx, _coll(s), loan_id)
    return link


def return_loan(ctx: Ctx, s: sessions.PatronSession, loan_id: str) -> LoanView:
    """Return the loan early: the v1 use case (place freed, getEndedLoans, the library's callback)."""
    own_loan(s, loan_id)
    return patron_loans.return_loan(ctx, _coll(s), loan_id)


# --- titles, borrowing and holds ---

class Way(Record):
    """One way to borrow a title (a pool: download, or reading online off-site or on-site), as its
    lendable licences offer it."""

    pool: Pool
    copies: int  # places of the pool on the licences that can lend
    copies_free: int  # free now (a place reserved for a hold is not free)
    waiting: int  # patrons in this pool's queue

    def __init__(self, pool: Pool, copies: int, copies_free: int, waiting: int) -> None:
        self._init(pool, copies, copies_free, waiting)


class TitlePage(Record):
    """A title as the patron sees it: whether they may borrow it now, or else join a queue."""

    ean13: str
    title: str
    ways: list[Way]
    loan: LoanView | None  # the patron's active loan of it
    hold: holds.HoldView | None  # the patron's open hold of it (one per title)

    def __init__(self, ean13: str, title: str, ways: list[Way], loan: LoanView | None,
                 hold: holds.HoldView | None) -> None:
        self._init(ean13, title, ways, loan, hold)

    def can_borrow(self, way: Way) -> bool:
        """A free place nobody waits for, or the place reserved for this patron (still in its window)."""
        if self.loan is not None:
            return False
        if self.hold is not None:
            return self.hold.hold.state is HoldState.RESERVED and self.hold.hold.pool is way.pool
        return way.copies_free > 0 and way.waiting == 0

    @property
    def holdable(self) -> list[Way]:
        """The ways whose copies are all out, when the patron neither borrows nor waits for the title."""
        if self.loan is not None or self.hold is not None:
            return []
        return [w for w in self.ways if w.copies > 0 and not self.can_borrow(w)]


TITLES_PER_PAGE = 50


def titles(ctx: Ctx, s: sessions.PatronSession, page: int = 1) -> tuple[list[holdings.Title], int]:
    """One page (from 1) of the library's catalogue (what it holds licences for), by title, and the
    number of pages."""
    found = sorted(holdings.titles(_coll(s), ctx.now), key=lambda t: (t.title.casefold(), t.ean13))
    return holdings.page(found, max(1, page), TITLES_PER_PAGE)


def title_page(ctx: Ctx, s: sessions.PatronSession, ean13: str) -> TitlePage:
    coll = _coll(s)
    found = holdings.title(coll, ean13, ctx.now)
    if found is None:
        raise Refused(Reason.MEDIUM_NOT_FOUND)
    mine = holds.open_of(coll.gln, s.member_id, ean13)
    view = holds.get_hold(ctx, coll, mine[0].hold_id) if mine else None
    loans = [v for v in my_loans(ctx, s).active if v.loan.ean13 == ean13]
    lendable = [lic for lic in found.licences if holdings.can_lend_from(lic, ctx.now)]
    ways = [Way(pool, sum(lic.sizes[pool] for lic in lendable), sum(max(0, lic.free[pool]) for lic in lendable),
                holds.queue_length(coll.gln, ean13, pool))
            for pool in Pool if any(lic.sizes[pool] > 0 for lic in lendable)]
    return TitlePage(ean13, found.title, ways, loans[0] if loans else None, view)


def pool_of(text: str) -> Pool:
    """A form's pool ("dl", "on", "off"); a download for anything else."""
    return Pool(text) if text in {p.value for p in Pool} else Pool.DOWNLOAD


def borrow(ctx: Ctx, s: sessions.PatronSession, ean13: str, pool: Pool = Pool.DOWNLOAD) -> str:
    """A loan of the title from `pool`, as the v1 door lends it (the patron's limits, their reservation's
    place when they hold one): the new loan's id. Refused as v1 refuses (all copies out, limits...)."""
    loan, _ = patron_loans.create(ctx, _coll(s), patron_loans.NewLoan(s.member_id, ean13, pool=pool))
    return loan.loan_id


class MyHolds(Record):
    open: list[holds.HoldView]
    titles: dict[str, str]

    def __init__(self, open: list[holds.HoldView], titles: dict[str, str]) -> None:
        self._init(open, titles)


def my_holds(ctx: Ctx, s: sessions.PatronSession) -> MyHolds:
    """The patron's holds still waiting or reserved (at most the library's `maxHolds`), with their place
    in the queue and expected wait."""
    mine = holds.open_holds(ctx, _coll(s).gln, s.member_id)
    return MyHolds(mine, {v.hold.ean13: holds.title_of(v.hold) for v in mine})


def place_hold(ctx: Ctx, s: sessions.PatronSession, ean13: str, email: str,
               pool: Pool = Pool.DOWNLOAD) -> holds.HoldView:
    """Join the title's queue for a place of `pool`; `email` (optional) is told when a place is reserved,
    then forgotten."""
    address = email.strip()
    if address and ("@" not in address or len(address) > 254 or not address.isprintable() or " " in address):
        raise Refused(Reason.INVALID_EMAIL)
    view, _ = holds.place_hold(ctx, _coll(s), holds.NewHold(s.member_id, ean13, email=address or None, pool=pool))
    return view


def cancel_hold(ctx: Ctx, s: sessions.PatronSession, hold_id: str) -> holds.HoldView:
    """Cancel the patron's own hold; another patron's is as unknown as a missing one."""
    coll = _coll(s)
    if holds.own_hold(coll, hold_id).member_id != s.member_id:
        raise holds.hold_not_found()
    return holds.cancel_hold(ctx, coll, hold_id)


# --- reading online ---

class Reading(Record):
    loan: LoanView
    title: str
    signed: dict[str, str]  # resource path in the EPUB -> its signed query
    expires: datetime

    def __init__(self, loan: LoanView, title: str, signed: dict[str, str], expires: datetime) -> None:
        self._init(loan, title, signed, expires)


def _check_place(gln: str, pool: Pool, address: str) -> None:
    """On-site streams are read from the library's declared addresses only."""
    if pool is Pool.ONSITE:
        ip = parse_address(address)
        if ip is None or not covers(ip_store.declared(gln), ip):
            raise Refused(Reason.NOT_ON_SITE)


def _book(ean13: str) -> zipfile.ZipFile:
    content = files.read_epub(ean13)
    if content is None:
        raise Refused(Reason.FILE_NOT_FOUND)
    return zipfile.ZipFile(BytesIO(content))


def open_reader(ctx: Ctx, s: sessions.PatronSession, loan_id: str, address: str) -> Reading:
    found = own_loan(s, loan_id)
    if found.loan.pool not in STREAMING:
        raise Refused(Reason.NOT_STREAMING)
    patron_loans.check_active(ctx, found.loan)
    _check_place(s.gln_coll, found.loan.pool, address)
    until = min(found.loan.end_date, ctx.now + RESOURCE_TTL)
    names = [n for n in _book(found.loan.ean13).namelist() if not n.endswith("/")]
    signed = {n: sign_resource(s.gln_coll, loan_id, n, until) for n in names}
    return Reading(found, patron_loans.title_of(found.loan), signed, until)


def resource(ctx: Ctx, gln: str, loan_id: str, path: str, exp: str, sig: str, address: str) -> tuple[bytes, str]:
    """One resource of a loan's book, for a URL signed by open_reader: (bytes, media type). Refused for a
    bad or expired signature (invalid_link), a loan that ended (loan_returned, loan_expired), an on-site
    loan away from the library (not_on_site), a path the book does not hold (not_found)."""
    if not verify_resource(gln, loan_id, path, exp, sig, ctx.now):
        raise Refused(Reason.INVALID_LINK)
    found = patron_loans.deliveries.get(gln, loan_id)
    if found is None:
        raise Refused(Reason.NOT_FOUND)
    loan = found.loan
    if loan.state is LoanState.RETURNED:
        raise Refused(Reason.LOAN_RETURNED)
    if not loan.active(ctx.now):
        raise Refused(Reason.LOAN_EXPIRED)
    _check_place(gln, loan.pool, address)
    book = _book(loan.ean13)
    try:
        content = book.read(path)
    except KeyError:
        raise Refused(Reason.NOT_FOUND) from None
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return content, TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
