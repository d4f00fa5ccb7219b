"""Readium LCP use cases: protecting a publication once, a licence per loan, and the licence status
document's interactions (register, return, renew) for reading apps.

A return through LSD ends the loan by the core's one early-return path (`lending.return_early`: place
freed, getEndedLoans, callbacks). Each interaction is idempotent per device, and races are settled by the
store's conditions, never by reading first."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.codes import Refused
from ..domain.dates import iso
from ..domain.loans import Loan, LoanState
from ..lcp import crypto, epub, renewal
from ..lcp import licence as lcpl
from ..lcp.status import Event, EventType, LsdStatus, device_ok, document, ended_event, status_of
from ..store import lcp as store
from ..store import licences as line_store
from ..store import loans as loan_store
from . import files, lending
from .aws_clients import client
from .context import Ctx
from .lcp_keys import vault
from .lcp_provider import provider_uri, signer

# Rights every licence grants (the catalogue's offers carry no print or copy terms yet).
PRINT_PAGES = 10
COPY_CHARACTERS = 2000
PASSPHRASE_MAX = 256
HINT_MAX = lcpl.HINT_MAX


class LsdRefused(Exception):
    """A status document interaction that cannot be done; `reason` is mapped once by the LSD door."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # unknown_licence | bad_device | loan_ended | returned_by_another | renew:*


# ---- publications ------------------------------------------------------------------------------------

def protect_publication(ean13: str, content: bytes, now: datetime) -> store.PublicationRecord:
    """Encrypt `ean13`'s EPUB with a fresh content key, once: a publication already protected keeps its
    key and file (licences already issued keep opening it)."""
    existing = store.publication(ean13)
    if existing is not None:
        return existing
    key = crypto.new_content_key()
    protected = epub.protect(content, key)
    object_key = f"lcp/{ean13}/{uuid.uuid4().hex}.epub"  # per key: a racing ingest never overwrites ours
    s3 = client("s3")
    s3.put_object(Bucket=files.bucket(), Key=object_key, Body=protected.content, ContentType=epub.MIMETYPE)
    rec = store.PublicationRecord(ean13, vault().wrap(key, ean13), object_key, len(protected.content),
                                  protected.sha256, iso(now))
    if store.put_publication(rec):
        return rec
    s3.delete_object(Bucket=files.bucket(), Key=object_key)  # another ingest won: its file and key stand
    won = store.publication(ean13)
    assert won is not None
    return won


def publication_url(ctx: Ctx, ean13: str) -> str:
    return f"{ctx.base_url}/lcp/publications/{ean13}.epub"


def open_publication(ean13: str) -> files.File | None:
    """The protected EPUB (useless without a licence, so served to anyone) as a short-lived S3 link."""
    rec = store.publication(ean13) if ean13.isdigit() and len(ean13) == 13 else None
    if rec is None:
        return None
    url = client("s3").generate_presigned_url("get_object", ExpiresIn=files.PRESIGN_SECONDS, Params={
        "Bucket": files.bucket(), "Key": rec.object_key, "ResponseContentType": epub.MIMETYPE,
        "ResponseContentDisposition": f'attachment; filename="{ean13}.epub"'})
    return files.File(f"{ean13}.epub", None, url)


# ---- licences ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Passphrase:
    """The reader's passphrase as the library gives it: used to derive the user key, never stored."""

    text: str
    hint: str = ""

    @classmethod
    def of(cls, text: object, hint: object = None) -> Passphrase | None:
        if not isinstance(text, str) or not 0 < len(text) <= PASSPHRASE_MAX:
            return None
        return cls(text, hint if isinstance(hint, str) else "")


PROTECTION = "LCP"  # kept in the loan's `extra["protection"]`: its link never serves the file in clear


def is_protected(ean13: str) -> bool:
    """The publication has its LCP file: loans of it can carry a licence."""
    return store.publication(ean13) is not None


def licence_url(ctx: Ctx, licence_id: str) -> str:
    return f"{ctx.base_url}/lcp/licences/{licence_id}"


def status_url(ctx: Ctx, licence_id: str) -> str:
    return f"{ctx.base_url}/lcp/status/{licence_id}"


def issue(ctx: Ctx, loan: Loan, passphrase: Passphrase) -> store.LicenceRecord | None:
    """The loan's licence, issued once (a retry, or a racing request, gets the same one); None when the
    publication has no protected file (the loan keeps its plain link)."""
    existing = store.licence_of_loan(loan.gln_coll, loan.loan_id)
    if existing is not None:
        return existing
    pub = store.publication(loan.ean13)
    if pub is None:
        return None
    content_key = vault().unwrap(pub.wrapped_key, loan.ean13)
    licence_id = str(uuid.uuid4())
    doc = lcpl.build(
        licence_id=licence_id, provider=provider_uri(ctx.base_url), issued=ctx.now, content_key=content_key,
        user_key=crypto.user_key(passphrase.text), hint=passphrase.hint, hint_url=f"{ctx.base_url}/lcp/hint",
        status_url=status_url(ctx, licence_id),
        publication=lcpl.Publication(publication_url(ctx, loan.ean13), pub.length, pub.sha256),
        rights=lcpl.Rights(loan.created_at, loan.end_date, PRINT_PAGES, COPY_CHARACTERS))
    signed = lcpl.sign(doc, signer())
    return store.put_licence(store.LicenceRecord(licence_id, loan.gln_coll, loan.loan_id, signed, ctx.now, ctx.now))


def licence_of(loan: Loan) -> store.LicenceRecord | None:
    return store.licence_of_loan(loan.gln_coll, loan.loan_id)


def licence_document(licence_id: str) -> dict[str, Any] | None:
    """The licence as it stands now (renewals included), for the status document's `license` link."""
    rec = store.licence(licence_id) if _plausible(licence_id) else None
    return rec.doc if rec else None


def _plausible(licence_id: str) -> bool:
    try:
        return str(uuid.UUID(licence_id)) == licence_id
    except ValueError:
        return False


# ---- status documents --------------------------------------------------------------------------------

def _load(licence_id: str) -> tuple[store.LicenceRecord, Loan]:
    rec = store.licence(licence_id) if _plausible(licence_id) else None
    loan = loan_store.get(rec.gln_coll, rec.loan_id) if rec else None
    if rec is None or loan is None:
        raise LsdRefused("unknown_licence")
    return rec, loan


def _max_end(loan: Loan) -> tuple[datetime, bool] | None:
    """(the latest end a renewal may give, whether the licence still lends) from the loan's order line."""
    item = line_store.get_line(loan.order_line_id)
    if item is None or not line_store.is_licence(item):
        return None
    lic = line_store.licence(item)
    return renewal.potential_end(loan.created_at, lic.max_loan_days, lic.end_date), lic.status == "OK"


def _document(ctx: Ctx, rec: store.LicenceRecord, loan: Loan) -> dict[str, Any]:
    if loan.state is LoanState.ACTIVE and loan.end_date <= ctx.now:
        lending.expire(ctx, loan)  # overdue: ended on the way, as every door does
        loan = loan_store.get(loan.gln_coll, loan.loan_id) or loan
    status = status_of(loan.state.value, rec.events)
    events = list(rec.events)
    extra = ended_event(status, loan.returned_at)
    if extra is not None:
        events.append(extra)
    limit = _max_end(loan) if status in (LsdStatus.READY, LsdStatus.ACTIVE) else None
    can_renew = bool(limit and limit[1] and limit[0] > loan.end_date)
    changed = [rec.updated, *(e.at for e in events)]
    if loan.returned_at:
        changed.append(loan.returned_at)
    if status is LsdStatus.EXPIRED:
        changed.append(min(loan.end_date, ctx.now))
    return document(licence_id=rec.licence_id, status=status, licence_updated=rec.updated,
                    status_updated=max(changed), licence_url=licence_url(ctx, rec.licence_id),
                    lsd_url=status_url(ctx, rec.licence_id), events=events,
                    potential_end=limit[0] if limit else None, can_renew=can_renew)


def status(ctx: Ctx, licence_id: str) -> dict[str, Any]:
    rec, loan = _load(licence_id)
    return _document(ctx, rec, loan)


def _device(device_id: str | None, name: str | None) -> tuple[str, str]:
    if not device_ok(device_id) or not device_ok(name):
        raise LsdRefused("bad_device")
    return str(device_id), str(name)


def register(ctx: Ctx, licence_id: str, device_id: str | None, name: str | None) -> dict[str, Any]:
    """A device says it holds the licence: recorded once per device (again: the same answer)."""
    dev, dev_name = _device(device_id, name)
    rec, loan = _load(licence_id)
    if not loan.active(ctx.now):
        raise LsdRefused("loan_ended")
    store.register(rec.licence_id, Event(EventType.REGISTER, dev, dev_name, ctx.now))
    rec, loan = _load(licence_id)
    return _document(ctx, rec, loan)


def give_back(ctx: Ctx, licence_id: str, device_id: str | None, name: str | None) -> dict[str, Any]:
    """The reader returns the book from the app: the loan ends by the one early-return path. The same
    device asking again gets the same answer; a second device, or a loan already ended, is refused."""
    dev, dev_name = _device(device_id, name)
    rec, loan = _load(licence_id)
    if rec.returned_by is not None:
        if rec.returned_by != dev:
            raise LsdRefused("returned_by_another")
        if loan.active(ctx.now):  # recorded, then interrupted before the loan ended: finish it
            _end(ctx, loan)
            rec, loan = _load(licence_id)
        return _document(ctx, rec, loan)
    if not loan.active(ctx.now):
        raise LsdRefused("loan_ended")
    # The device's return is recorded first (its condition admits one return only), then the loan ends:
    # if the loan ended meanwhile by another path, the status still reads from the loan's state.
    if not store.mark_returned(rec.licence_id, Event(EventType.RETURN, dev, dev_name, ctx.now)):
        return give_back(ctx, licence_id, device_id, name)  # a racing return recorded first: decide again
    _end(ctx, loan)
    rec, loan = _load(licence_id)
    return _document(ctx, rec, loan)


def _end(ctx: Ctx, loan: Loan) -> None:
    """The core's one early return; a loan ended meanwhile (by the library, or expired) stays as it is
    and the status document says which."""
    with contextlib.suppress(Refused):
        lending.return_early(ctx, loan)


def renew(ctx: Ctx, licence_id: str, end: datetime | None, device_id: str | None,
          name: str | None) -> dict[str, Any]:
    """A later end for an active loan (TEMPORARY rules of lcp.renewal, until the core's extendLoan):
    the loan and its licence move together; without `end`, the latest end allowed."""
    dev, dev_name = _device(device_id, name)
    rec, loan = _load(licence_id)
    limit = _max_end(loan)
    if limit is None:
        raise LsdRefused("renew:licence_cancelled")
    wanted = end or limit[0]
    item = line_store.get_line(loan.order_line_id)
    lic = line_store.licence(item) if item else None
    try:
        new_end = renewal.check(now=ctx.now, loan_active=loan.state is LoanState.ACTIVE and rec.returned_by is None,
                                current_end=loan.end_date, created_at=loan.created_at, new_end=wanted,
                                max_loan_days=lic.max_loan_days if lic else 0,
                                licence_end=lic.end_date if lic else ctx.now, licence_ok=limit[1])
    except renewal.RenewRefused as r:
        raise LsdRefused(f"renew:{r.reason}") from None
    doc = lcpl.sign(lcpl.renewed(rec.doc, new_end, ctx.now), signer())
    try:
        store.renew(rec, loan.end_date, new_end, doc, Event(EventType.RENEW, dev, dev_name, ctx.now), ctx.now)
    except store.EventRefused:
        raise LsdRefused("renew:loan_changed") from None
    rec, loan = _load(licence_id)
    return _document(ctx, rec, loan)
