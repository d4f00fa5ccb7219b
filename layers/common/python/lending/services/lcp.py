"""Readium LCP use cases: protecting a publication once, a licence per loan, and the licence status
document's interactions (register, return, renew) for reading apps.

A return through LSD ends the loan by the core's one early-return path (`lending.return_early`: place
freed, getEndedLoans, callbacks); a renewal through LSD is the core's one renewal (`renewals.renew`, as
PNB extendLoan and v1 PUT). Each interaction is idempotent per device, and races are settled by the
store's conditions, never by reading first.

A licence follows its loan: whichever door renewed the loan, the licence served (and the status
document's `updated.license`) carry the loan's end, re-signed when first read after the renewal."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime
from typing import Any

from ..aws import client
from ..domain.dates import iso
from ..domain.licences import Licence
from ..domain.loans import LCP_HINT_MAX, LCP_PASSPHRASE_MAX, LCP_PROTECTION, Loan, LoanState
from ..domain.refusals import Reason, Refused
from ..domain.renewals import ended, latest_end
from ..domain.values import Value
from ..lcp.status import (
    LICENCE_TYPE,
    STATUS_TYPE,
    Event,
    EventType,
    LsdStatus,
    device_ok,
    document,
    ended_event,
    status_of,
)
from ..store import lcp as store
from ..store import licences as line_store
from ..store import loans as loan_store
from . import files, lending, renewals
from .clock import now as clock_now
from .context import Ctx

# The cryptography (lcp.crypto, lcp.licence, lcp.epub, lcp_keys, lcp_provider) is imported by the use cases
# that encrypt or sign, not here: status documents and their interactions need none of it, nor does a
# door that only asks `is_protected` (docs/cost.md, cold start).
MIMETYPE = "application/epub+zip"  # lcp.epub's, for the publication's link

# Rights every licence grants (the catalogue's offers carry no print or copy terms yet).
PRINT_PAGES = 10
COPY_CHARACTERS = 2000
PASSPHRASE_MAX = LCP_PASSPHRASE_MAX
HINT_MAX = LCP_HINT_MAX
__all__ = ["LICENCE_TYPE", "STATUS_TYPE"]  # the media types, for the doors that answer licences


# ---- publications ------------------------------------------------------------------------------------

def protect_publication(ean13: str, content: bytes, now: datetime) -> store.PublicationRecord:
    """Encrypt `ean13`'s EPUB with a fresh content key, once: a publication already protected keeps its
    key and file (licences already issued keep opening it)."""
    existing = store.publication(ean13)
    if existing is not None:
        return existing
    from ..lcp import crypto, epub
    from .lcp_keys import vault

    key = crypto.new_content_key()
    protected = epub.protect(content, key)
    object_key = f"lcp/{ean13}/{uuid.uuid4().hex}.epub"  # per key: a racing ingest never overwrites ours
    s3 = client("s3")
    s3.put_object(Bucket=files.bucket(), Key=object_key, Body=protected.content, ContentType=MIMETYPE)
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
        "Bucket": files.bucket(), "Key": rec.object_key, "ResponseContentType": MIMETYPE,
        "ResponseContentDisposition": f'attachment; filename="{ean13}.epub"'})
    return files.File(f"{ean13}.epub", None, url)


# ---- licences ----------------------------------------------------------------------------------------

class Passphrase(Value):
    """The reader's passphrase as the library gives it: used to derive the user key, never stored."""

    text: str
    hint: str

    def __init__(self, text: str, hint: str = "") -> None:
        self._init(text, hint)

    @classmethod
    def of(cls, text: object, hint: object = None) -> Passphrase | None:
        if not isinstance(text, str) or not 0 < len(text) <= PASSPHRASE_MAX:
            return None
        return cls(text, hint if isinstance(hint, str) else "")


PROTECTION = LCP_PROTECTION  # kept in the loan's `extra["protection"]`: its link never serves the file in clear


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
    from ..lcp import crypto
    from ..lcp import licence as lcpl
    from .lcp_keys import vault
    from .lcp_provider import provider_uri, signer

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


def licence_of(ctx: Ctx, loan: Loan) -> store.LicenceRecord | None:
    """The loan's licence as it stands now: its end the loan's (renewed by any door)."""
    rec = store.licence_of_loan(loan.gln_coll, loan.loan_id)
    return _following(ctx, rec, loan) if rec else None


def licence_document(ctx: Ctx, licence_id: str) -> dict[str, Any] | None:
    """The licence as it stands now (renewals included), for the status document's `license` link."""
    rec = store.licence(licence_id) if _plausible(licence_id) else None
    loan = loan_store.get(rec.gln_coll, rec.loan_id) if rec else None
    return _following(ctx, rec, loan).doc if rec and loan else None


def _following(ctx: Ctx, rec: store.LicenceRecord, loan: Loan) -> store.LicenceRecord:
    """`rec` with the loan's end: a running loan renewed since the licence was signed (extendLoan, v1 PUT,
    LSD renew) gets its licence re-signed with the new end, stored so the next read finds it. Ends only
    move later, so the store keeps the latest of racing writers."""
    end = iso(loan.end_date)
    if loan.state is not LoanState.ACTIVE or rec.doc.get("rights", {}).get("end") == end:
        return rec
    from ..lcp import licence as lcpl
    from .lcp_provider import signer

    doc = lcpl.sign(lcpl.renewed(rec.doc, loan.end_date, ctx.now), signer())
    if not store.follow(rec.licence_id, doc, end, ctx.now):  # a later end was stored meanwhile
        return store.licence(rec.licence_id) or rec
    rec.doc, rec.updated = doc, ctx.now
    return rec


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
        raise Refused(Reason.LICENCE_NOT_FOUND)
    return rec, loan


def _licence(loan: Loan) -> Licence | None:
    """The library's licence the loan was made on (None: its order line is gone or is not a licence)."""
    item = line_store.get_line(loan.order_line_id)
    return line_store.licence(item, clock_now()) if item is not None and line_store.is_licence(item) else None


def _document(ctx: Ctx, rec: store.LicenceRecord, loan: Loan) -> dict[str, Any]:
    if loan.state is LoanState.ACTIVE and loan.end_date <= ctx.now:
        lending.expire(ctx, loan)  # overdue: ended on the way, as every door does
        loan = loan_store.get(loan.gln_coll, loan.loan_id) or loan
    rec = _following(ctx, rec, loan)
    status = status_of(loan.state.value, rec.events)
    events = list(rec.events)
    extra = ended_event(status, loan.returned_at)
    if extra is not None:
        events.append(extra)
    lic = _licence(loan) if status in (LsdStatus.READY, LsdStatus.ACTIVE) else None
    limit = latest_end(loan, lic) if lic else None
    can_renew = bool(lic and lic.status == "OK" and limit and limit > loan.end_date)
    changed = [rec.updated, *(e.at for e in events)]
    if loan.returned_at:
        changed.append(loan.returned_at)
    if status is LsdStatus.EXPIRED:
        changed.append(min(loan.end_date, ctx.now))
    return document(licence_id=rec.licence_id, status=status, licence_updated=rec.updated,
                    status_updated=max(changed), licence_url=licence_url(ctx, rec.licence_id),
                    lsd_url=status_url(ctx, rec.licence_id), events=events,
                    potential_end=limit, can_renew=can_renew)


def status(ctx: Ctx, licence_id: str) -> dict[str, Any]:
    rec, loan = _load(licence_id)
    return _document(ctx, rec, loan)


def _device(device_id: str | None, name: str | None) -> tuple[str, str]:
    if not device_ok(device_id) or not device_ok(name):
        raise Refused(Reason.INVALID_DEVICE)
    return str(device_id), str(name)


def register(ctx: Ctx, licence_id: str, device_id: str | None, name: str | None) -> dict[str, Any]:
    """A device says it holds the licence: recorded once per device (again: the same answer)."""
    dev, dev_name = _device(device_id, name)
    rec, loan = _load(licence_id)
    if not loan.active(ctx.now):
        raise ended(loan)
    store.register(rec.licence_id, Event(EventType.REGISTER, dev, dev_name, ctx.now))
    rec, loan = _load(licence_id)
    return _document(ctx, rec, loan)


def return_loan(ctx: Ctx, licence_id: str, device_id: str | None, name: str | None) -> dict[str, Any]:
    """The reader returns the book from the app: the loan ends by the one early-return path. The same
    device asking again gets the same answer; a second device, or a loan already ended, is refused."""
    dev, dev_name = _device(device_id, name)
    rec, loan = _load(licence_id)
    if rec.returned_by is not None:
        if rec.returned_by != dev:
            raise Refused(Reason.RETURNED_BY_ANOTHER_DEVICE)
        if loan.active(ctx.now):  # recorded, then interrupted before the loan ended: finish it
            _end(ctx, loan)
            rec, loan = _load(licence_id)
        return _document(ctx, rec, loan)
    if not loan.active(ctx.now):
        raise ended(loan)
    # The device's return is recorded first (its condition admits one return only), then the loan ends:
    # if the loan ended meanwhile by another path, the status still reads from the loan's state.
    if not store.mark_returned(rec.licence_id, Event(EventType.RETURN, dev, dev_name, ctx.now)):
        return return_loan(ctx, licence_id, device_id, name)  # a racing return recorded first: decide again
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
    """A later end for an active loan, by the core's one renewal (its rules and refusals: ALREADY_ENDED,
    CANNOT_BE_LOANED, END_NOT_LATER, RENEWAL_TOO_LONG, LICENCE_ENDS_FIRST); without `end`, the
    `potential_rights` end (the latest allowed). The licence follows the loan's new end."""
    dev, dev_name = _device(device_id, name)
    rec, loan = _load(licence_id)
    if rec.returned_by is not None:  # given back from a device: over, even if its loan's end was interrupted
        raise ended(loan)
    wanted = end
    if wanted is None:
        lic = _licence(loan)
        if lic is None:
            raise Refused(Reason.CANNOT_BE_LOANED)
        wanted = latest_end(loan, lic)
    loan = renewals.renew(ctx, loan, wanted)
    store.add_event(rec.licence_id, Event(EventType.RENEW, dev, dev_name, ctx.now))
    rec, loan = _load(licence_id)
    return _document(ctx, rec, loan)
