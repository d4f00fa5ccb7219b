"""Library API v1 use cases: a patron's loans (create, list, fetch, return early) and courtesy loans.

A library only ever reaches its own v1 loans: each is stored under its collectivity's key, and a loan
of another origin (PNB, warehouse) is as unknown here as a missing one."""

from __future__ import annotations

import random
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from ..domain.accounts import Account
from ..domain.dates import iso
from ..domain.holds import Hold
from ..domain.identifiers import is_ean13
from ..domain.licence_choice import lending_order, none_left
from ..domain.licences import Licence, Pool
from ..domain.loans import LCP_LICENCE_TYPE, LCP_PROTECTION, WHILE_ACTIVE, Loan, LoanState, LoanView, fingerprint
from ..domain.patrons import Limits, Patron, admit, after_loan, check_email_owner, email_digest
from ..domain.refusals import Reason, Refused
from ..domain.values import Record
from ..store import deliveries
from ..store import holds as hold_store
from ..store import licences as line_store
from ..store import loans as loan_store
from ..store import patrons as patron_store
from . import holds, lending
from .context import Ctx
from .links import sign_loan_link, signing_key

ORIGIN = "v1"
LINK_TTL = timedelta(hours=1)  # the fulfillment document's link; the loan's own link lasts the loan
PATRON_ATTEMPTS = 8


def medium_not_found() -> Refused:
    return Refused(Reason.MEDIUM_NOT_FOUND)


def loan_not_found() -> Refused:
    return Refused(Reason.LOAN_NOT_FOUND)


def new_loan_id(now: datetime) -> str:
    """24 hex digits as the spec's ids, a valid PNB loanId: the second and the microsecond of creation
    (the lists' newest-first order within a second) then 44 random bits."""
    return f"{int(now.timestamp()):08x}{now.microsecond:05x}{secrets.token_hex(6)[:11]}"


def loan_link(ctx: Ctx, loan: Loan, until: datetime | None = None) -> str:
    """The signed link to the loan's file, valid until `until`; without it, the loan's own link, valid as
    long as the loan (a renewal carries it on)."""
    if until is not None:
        return sign_loan_link(ctx.base_url, loan.gln_coll, loan.loan_id, until)
    return sign_loan_link(ctx.base_url, loan.gln_coll, loan.loan_id, loan.created_at, follows_loan=True)


class NewLoan(Record):
    member_id: str
    ean13: str
    expires_at: datetime | None
    return_url: str | None
    email: str | None
    passphrase: str | None  # Readium LCP: given, the loan's file is its licence (never stored)
    passphrase_hint: str | None
    # The v1 door lends downloads; a streaming loan (on-site or off-site, read in the patron space's
    # reader) is the same use case from another pool.
    pool: Pool

    def __init__(self, member_id: str, ean13: str, expires_at: datetime | None = None, return_url: str | None = None,
                 email: str | None = None, passphrase: str | None = None, passphrase_hint: str | None = None,
                 pool: Pool = Pool.DOWNLOAD) -> None:
        self._init(member_id, ean13, expires_at, return_url, email, passphrase, passphrase_hint, pool)


def create(ctx: Ctx, coll: Account, req: NewLoan) -> tuple[Loan, bool]:
    """Lend `req.ean13` to the patron: (loan, True) when created, (their active loan of it, False) when
    they already have one. One loan per patron and medium however many requests race: every creation
    rewrites the patron's record under a version condition in the loan's own transaction. An email given
    is claimed for the patron in that same transaction; one another patron gave first is refused."""
    if not is_ean13(req.ean13):
        raise medium_not_found()
    limits = Limits.of(coll.settings)
    digest = email_digest(signing_key(), req.email) if req.email else None
    for attempt in range(PATRON_ATTEMPTS):
        if digest:
            check_email_owner(patron_store.email_owner(coll.gln, digest), req.member_id)
        patron = patron_store.get(coll.gln, req.member_id)
        current = _still_active(ctx, coll, patron)
        for loan in current.values():
            if loan.ean13 == req.ean13:
                return loan, False
        licences = line_store.licences_of(coll.gln, req.ean13, ctx.now)
        if not licences:
            raise medium_not_found()
        courtesy = admit(limits, patron, len(current), ctx.now)
        loan_id = new_loan_id(ctx.now)
        kept = {k: x.ean13 for k, x in current.items()}
        after = after_loan(patron, kept, loan_id, req.ean13, ctx.now, courtesy)
        # A place reserved for the patron's hold is theirs (and only theirs: it is out of `free`).
        _, believed = hold_store.patron_holds(coll.gln, req.member_id)
        reservation = holds.reservation_of(ctx, coll.gln, req.member_id, req.ean13, believed, req.pool)
        refusals: list[Refused] = []
        if reservation is not None:
            order = [x for x in licences if x.order_line_id == reservation.order_line_id]
        else:
            order, refusals = lending_order(licences, req.pool, ctx.now)
        try:
            made = _lend_first(ctx, coll, req, limits, order, refusals, loan_id, patron, after, digest, reservation)
        except loan_store.PatronMoved:  # the patron's record, the email or the hold moved meanwhile: again
            _backoff(attempt)
            continue
        if made is not None:
            if reservation is None:  # borrowed from a free place: a hold of it is no longer needed
                holds.close_after_loan(ctx, coll, req.member_id, req.ean13, believed)
            return made, True
        if patron_store.get(coll.gln, req.member_id).version != patron.version:
            continue  # a racing request of this patron may have taken the last place: it may be theirs
        raise none_left(refusals)
    raise Refused(Reason.BUSY)


def _still_active(ctx: Ctx, coll: Account, patron: Patron) -> dict[str, Loan]:
    """The patron's loans that really are active now (the loan records are the truth)."""
    loans = loan_store.get_many(coll.gln, list(patron.active)) if patron.active else []
    return {x.loan_id: x for x in loans if x.active(ctx.now)}


def _lend_first(ctx: Ctx, coll: Account, req: NewLoan, limits: Limits, order: list[Licence],
                refusals: list[Refused], loan_id: str, patron: Patron, after: Patron,
                email: str | None, reservation: Hold | None = None) -> Loan | None:
    """Lend from the first licence of `order` that still can when the transaction lands; with a
    `reservation`, from its place (the hold is consumed in the loan's transaction)."""
    wanted = req.expires_at or ctx.now + timedelta(days=limits.default_days)
    write = patron_store.PatronWrite(before=patron, after=after, email_digest=email)
    marks = _extra(req)
    if reservation is not None and reservation.expires_at:
        marks.update(holdId=reservation.hold_id, holdExpiresAt=iso(reservation.expires_at))
    for lic in order:
        request = lending.LoanRequest(
            coll=coll, order_line_id=lic.order_line_id, loan_id=loan_id, ean13=req.ean13, pool=req.pool,
            requested_end=min(wanted, ctx.now + timedelta(days=lic.max_loan_days)),
            fingerprint=fingerprint(ORIGIN, coll.gln, req.member_id, req.ean13, loan_id),
            callback_url=req.return_url, origin=ORIGIN, extra=marks, patron=write,
            replay=WHILE_ACTIVE, reservation=reservation)
        try:
            loan, _ = lending.lend(ctx, request, licence=lic)
            return loan
        except Refused as r:  # a race took its last place (or its last access): the next one
            refusals.append(r)
    return None


def _extra(req: NewLoan) -> dict[str, Any]:
    out: dict[str, Any] = {"memberId": req.member_id}
    if req.passphrase is None:  # LCP's code (and its crypto) only loaded for a loan that asks for it
        return out
    from . import lcp

    if lcp.Passphrase.of(req.passphrase) is not None and lcp.is_protected(req.ean13):
        out["protection"] = LCP_PROTECTION
    return out


def with_licence(ctx: Ctx, loan: Loan, req: NewLoan) -> None:
    """An LCP loan's licence, issued once (the patron's active loan asked for again finds it)."""
    if req.passphrase is None or loan.extra.get("protection") != LCP_PROTECTION:
        return
    from . import lcp

    passphrase = lcp.Passphrase.of(req.passphrase, req.passphrase_hint)
    if passphrase is not None:
        lcp.issue(ctx, loan, passphrase)


LICENCE_TYPE = LCP_LICENCE_TYPE  # what GET /v1/loans/{id} answers for an LCP loan


def licence_file(ctx: Ctx, loan: Loan) -> dict[str, Any] | None:
    """The loan's LCP licence document, when it has one (GET /v1/loans/{id} answers it), its end the loan's."""
    if loan.extra.get("protection") != LCP_PROTECTION:  # only a loan marked so ever has one (every door)
        return None
    from . import lcp

    found = lcp.licence_of(ctx, loan)
    return found.doc if found else None


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.005 * 2**attempt))


def list_loans(ctx: Ctx, coll: Account, member_id: str | None, start: datetime | None, end: datetime | None,
               page: int, per_page: int) -> tuple[list[LoanView], bool]:
    """One page of the library's (or one patron's) v1 loans, newest first, and whether more follow."""
    skip = (page - 1) * per_page
    if member_id:
        items, more = patron_store.member_loans(coll.gln, member_id, start, end, skip, per_page)
    else:
        items, more = patron_store.library_loans(coll.gln, start, end, skip, per_page)
    return [deliveries.view(i).at(ctx.now) for i in items], more


def own_loan(coll: Account, loan_id: str) -> LoanView:
    found = deliveries.get(coll.gln, loan_id) if 0 < len(loan_id) <= 64 else None
    if found is None or found.loan.origin != ORIGIN:
        raise loan_not_found()
    return found


def check_active(ctx: Ctx, loan: Loan) -> None:
    """403 with the spec's words for a loan that ended; an overdue one is expired on the way."""
    if loan.state is LoanState.RETURNED:
        raise Refused(Reason.LOAN_RETURNED)
    if loan.state is LoanState.ACTIVE and loan.end_date <= ctx.now:
        lending.expire(ctx, loan)
        loan.state = LoanState.EXPIRED
    if loan.state is not LoanState.ACTIVE:
        raise Refused(Reason.LOAN_EXPIRED)


def fulfil(ctx: Ctx, coll: Account, loan_id: str) -> tuple[LoanView, str, datetime]:
    """The fulfillment document of an active loan: the loan, a short-lived signed link to its file and
    that link's end. The download is recorded."""
    found = own_loan(coll, loan_id)
    check_active(ctx, found.loan)
    if deliveries.record_download(coll.gln, loan_id, ctx.now):
        found.downloads.append(iso(ctx.now))
    until = min(found.loan.end_date, ctx.now + LINK_TTL)
    return found, loan_link(ctx, found.loan, until), until


def return_loan(ctx: Ctx, coll: Account, loan_id: str) -> LoanView:
    """Early return by the library on the patron's behalf: place freed, listed by getEndedLoans, the
    return_url notified (the event is written with the return itself)."""
    found = own_loan(coll, loan_id)
    check_active(ctx, found.loan)
    try:
        lending.return_early(ctx, found.loan)
    except Refused:  # ended meanwhile by someone else: say how
        check_active(ctx, own_loan(coll, loan_id).loan)
        raise
    return found


def renew(ctx: Ctx, coll: Account, loan_id: str, expires_at: datetime) -> LoanView:
    """Renewal on the patron's behalf: the loan's new end is `expires_at` (services.renewals.renew: no
    access taken; refused past the offer's maximum loan days from the loan's start or the licence's end)."""
    from . import renewals

    found = own_loan(coll, loan_id)
    check_active(ctx, found.loan)
    try:
        found.loan = renewals.renew(ctx, found.loan, expires_at)
    except Refused as r:
        if r.reason is Reason.ALREADY_ENDED:  # ended meanwhile by someone else: say how
            check_active(ctx, own_loan(coll, loan_id).loan)
        raise
    return found


def grant_courtesy(coll: Account, member_id: str) -> int:
    """One loan past the patron's limits: the next creation that a limit would refuse uses it."""
    return patron_store.grant_courtesy(coll.gln, member_id)


def title_of(loan: Loan) -> str:
    from ..store import offers

    offer = offers.get(loan.ean13, loan.gln_distributor)
    return offer.title if offer and offer.title else loan.ean13


def notify(ctx: Ctx, loan: Loan, email: str) -> bool:
    """Email the patron the loan's link; the sending is recorded (the loan's `shippings`). False when
    SES refused it: the loan stands, and its empty `shippings` tells the library."""
    from ..observability import logger
    from . import mailer

    subject, text = mailer.loan_email(title_of(loan), loan_link(ctx, loan), loan.end_date)
    try:
        mailer.send(email, subject, text)
    except Exception as e:  # its message may carry the address: not logged (no personal data in logs)
        logger.warning("loan email not sent", extra={"loanId": loan.loan_id, "error": type(e).__name__})
        return False
    deliveries.record_shipping(loan.gln_coll, loan.loan_id, ctx.now)
    return True
