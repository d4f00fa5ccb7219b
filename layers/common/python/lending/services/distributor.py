"""The distributor's use cases: its offers (created and edited in the console), their EPUBs, the sales
points of a publication.

An offer written in the console takes the ONIX path, not a shortcut: the form becomes an ONIX 3.0
message, which the catalogue sync reads (catalogue/onix.py: the check digit, the code lists, the price
and licence rules), applies (catalogue/ingest.py: only a real change is written, stamped) and files in
an update file (getOffers, getOffersForDistributor and the FTP files read those), under the same
per-distributor lease as a feed's sync. The distributor's feed cursor is left where it was. The message
itself is kept in the bucket (`onix/console/<gln>/...`), as a feed's files are.

Every use case takes the signed-in staff member and works on their organisation's offers only: another
distributor's EAN is as unknown as a missing one."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, Any

from ..domain.accounts import Account, Role
from ..domain.codes import Refused, Status
from ..domain.offers import AVAILABLE_CODES, UNAVAILABLE_MESSAGES, Offer, model_terms
from ..domain.staff import Staff
from ..store import catalogue as feeds
from ..store import licences as line_store
from ..store import loans as loan_store
from ..store import offers as offer_store
from . import auth, files
from .context import Ctx

AVAILABILITIES = sorted(AVAILABLE_CODES | set(UNAVAILABLE_MESSAGES))
CURRENCIES = ("EUR", "CAD", "CHF", "USD", "GBP")


def refused(reason: str, message: str = "", status: Status = Status.INVALID_ARGUMENTS) -> Refused:
    return Refused(status, message or reason, reason=reason)


def organisation(staff: Staff) -> Account | None:
    """The distributor a staff member works for; None for a library's staff."""
    acc = auth.account(staff.gln_coll)
    return acc if acc is not None and acc.role is Role.DISTRIBUTOR else None


def _gln(staff: Staff) -> str:
    if organisation(staff) is None:
        raise refused("forbidden", status=Status.ACCES_DENIED)
    return staff.gln_coll


# --- offers ---

def offers(staff: Staff) -> list[Offer]:
    return offer_store.of_distributor(_gln(staff))


def offer(staff: Staff, ean13: str) -> Offer:
    found = offer_store.get(ean13, _gln(staff)) if ean13.isascii() and ean13.isdigit() else None
    if found is None:
        raise refused("not_found", status=Status.NOT_FOUND)
    return found


def _int(form: Mapping[str, str], name: str, default: int | None = None) -> int:
    raw = (form.get(name) or "").strip()
    if not raw and default is not None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise refused("offer_invalid", f"{name}: a whole number is expected")
    return int(raw)


def _cents(form: Mapping[str, str], name: str) -> int:
    raw = (form.get(name) or "").strip().replace(",", ".")
    whole, _, frac = raw.partition(".")
    if not whole.isascii() or not whole.isdigit() or len(whole) > 8 or len(frac) > 2 or (frac and not frac.isdigit()):
        raise refused("offer_invalid", f"{name}: an amount such as 12.50 is expected")
    return int(whole) * 100 + int((frac + "00")[:2])


def offer_of_form(gln: str, form: Mapping[str, str], ean13: str | None = None) -> Offer:
    """The offer a form states (the EAN is the page's when editing). Checks the form's own shape; the
    rules of the catalogue are the ONIX reader's (see publish)."""
    from stdnum import ean  # the console only: stdnum's imports would weigh on the lending functions

    ean_text = (ean13 or form.get("ean13") or "").strip().replace("-", "").replace(" ", "")
    if not ean.is_valid(ean_text) or len(ean_text) != 13:
        raise refused("ean_invalid", f"EAN {ean_text!r}: 13 digits with a valid check digit are expected")
    title = (form.get("title") or "").strip()
    if not title or len(title) > 500:
        raise refused("offer_invalid", "title: from 1 to 500 characters")
    availability = form.get("availability") or "20"
    if availability not in AVAILABILITIES:
        raise refused("offer_invalid", "availability: a code of ONIX list 65")
    currency = (form.get("currency") or "EUR").strip().upper()
    if currency not in CURRENCIES:
        raise refused("offer_invalid", "currency: " + ", ".join(CURRENCIES))
    price_ttc = _cents(form, "price")
    tax_rate = _int(form, "tax_rate", 550)  # hundredths of a percent: 5.5 % (French e-books)
    if tax_rate > 99_999:
        raise refused("offer_invalid", "tax_rate: at most 99999 (999.99 %)")
    price_ht = round(price_ttc * 10_000 / (10_000 + tax_rate))
    try:
        terms = model_terms(form.get("model") or "loans", _int(form, "loans", 1), _int(form, "downloads", 1),
                            _int(form, "onsite_streams", 0), _int(form, "offsite_streams", 0),
                            _int(form, "licence_days", 3650), _int(form, "max_loan_days", 21))
    except ValueError as e:
        raise refused("offer_invalid", str(e)) from None
    return Offer(ean13=ean_text, gln_distributor=gln, title=title, terms=terms, price_ttc=price_ttc,
                 price_ht=price_ht, currency=currency, tax_rate=tax_rate, availability=availability,
                 publisher=(form.get("publisher") or "").strip()[:200])


class _OneMessage:
    """A connector holding one ONIX message: the sync reads it and leaves the feed's cursor alone."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self.data = name, data

    def pending(self, position: str | None, now: datetime) -> Any:
        from ..catalogue.connectors import Batch, Source

        @contextlib.contextmanager
        def opened() -> Iterator[IO[bytes]]:
            yield io.BytesIO(self.data)

        return Batch([Source(self.name, opened, None)], position)


def publish(ctx: Ctx, staff: Staff, new: Offer, creating: bool) -> Offer:
    """Write an offer through the ONIX path (module docstring). Refused: the record's rejection reason
    (in the ONIX reader's words), an EAN already offered when creating, a sync running just now."""
    from ..catalogue import onix, sync

    gln = _gln(staff)
    old = offer_store.get(new.ean13, gln)
    if creating and old is not None:
        raise refused("offer_exists", f"EAN {new.ean13} is already offered: edit it")
    if old is not None:  # what the form does not show stays as the feed said
        new = replace(new, contributors=old.contributors, formats=old.formats, publisher=new.publisher or old.publisher)
    out = io.BytesIO()
    onix.write(out, [new], gln, organisation(staff).name or "Distributor console", ctx.now)  # type: ignore[union-attr]
    data = out.getvalue()
    name = f"{ctx.now:%Y%m%dT%H%M%S}Z-{new.ean13}.xml"
    files.client("s3").put_object(Bucket=files.bucket(), Key=f"onix/console/{gln}/{name}", Body=data,
                                  ContentType="application/xml")
    feed = next((f for f in feeds.feeds() if f.gln_distributor == gln),
                feeds.Feed(gln_distributor=gln, kind="console", enabled=False))
    report = sync.sync_feed(feed, ctx.now, connector=_OneMessage(name, data), s3=files.client("s3"))
    if report.busy:
        raise refused("sync_busy", "a catalogue sync of this distributor is running: try again in a minute",
                      Status.ACCES_DENIED)
    if report.rejected:
        raise refused("offer_rejected", report.rejected[0].reason)
    if report.error or report.held:
        raise RuntimeError(f"console offer not applied: {report.error or report.held}")
    stored = offer_store.get(new.ean13, gln)
    assert stored is not None
    return stored


def upload_epub(staff: Staff, ean13: str, content: bytes) -> None:
    offer(staff, ean13)  # the distributor's own offer, or not found
    try:
        files.ingest_epub(ean13, content)
    except ValueError:
        raise refused("epub_invalid", "not an EPUB file (a zip with its mimetype first)") from None


def has_epub(ean13: str) -> bool:
    s3 = files.client("s3")
    try:
        s3.head_object(Bucket=files.bucket(), Key=files.epub_key(ean13))
    except Exception:
        return False
    return True


# --- sales points ---

@dataclass
class Sale:
    order_line_id: str
    order_id: str
    gln_reseller: str
    reseller: str
    gln_coll: str
    collectivity: str
    ordered: str
    status: str
    licences: int
    loans_used: int
    loans_left: int
    loans_total: int
    active_loans: int
    ends: str

    def as_json(self) -> dict[str, Any]:
        return {"orderLineId": self.order_line_id, "orderId": self.order_id, "glnReseller": self.gln_reseller,
                "resellerName": self.reseller, "glnColl": self.gln_coll, "collName": self.collectivity,
                "orderDate": self.ordered, "status": self.status, "licences": self.licences,
                "loansUsed": self.loans_used, "loansLeft": self.loans_left, "loansTotal": self.loans_total,
                "activeLoans": self.active_loans, "endDate": self.ends}


def _name(gln: str) -> str:
    acc = auth.account(gln)
    return acc.name if acc is not None else ""


def sales(ctx: Ctx, gln_distributor: str, ean13: str) -> list[Sale]:
    """Which resellers sold `ean13` to which collectivities: one row per licence (order line)."""
    rows = []
    for item in line_store.sales_of(gln_distributor, ean13):
        lic = line_store.licence(item)
        active = sum(1 for loan in loan_store.of_line(lic.order_line_id) if loan.active(ctx.now))
        rows.append(Sale(lic.order_line_id, lic.order_id, lic.gln_reseller, _name(lic.gln_reseller), lic.gln_coll,
                         _name(lic.gln_coll), str(item.get("createdAt") or item.get("dmdDate") or ""), lic.status,
                         1, lic.nta_total - lic.nta, lic.nta, lic.nta_total, active, str(item.get("endDate") or "")))
    return rows


def sales_of_staff(ctx: Ctx, staff: Staff, ean13: str) -> tuple[Offer, list[Sale]]:
    found = offer(staff, ean13)
    return found, sales(ctx, found.gln_distributor, ean13)


def sales_json(ctx: Ctx, distributor: Account, ean13: str) -> dict[str, Any]:
    """GET /distributor/sales/{ean13}: the sales points of one of the distributor's offers."""
    found = offer_store.get(ean13, distributor.gln) if ean13.isascii() and ean13.isdigit() else None
    if found is None:
        raise Refused(Status.NOT_FOUND, f"The EAN13 {ean13} does not exist for Distributor GLN {distributor.gln}")
    rows = sales(ctx, distributor.gln, ean13)
    return {"ean13": ean13, "glnDistributor": distributor.gln, "title": found.title,
            "licences": sum(r.licences for r in rows if r.status == "OK"),
            "loansUsed": sum(r.loans_used for r in rows),
            "loansLeft": sum(r.loans_left for r in rows if r.status == "OK"),
            "salesPoints": [r.as_json() for r in rows]}
