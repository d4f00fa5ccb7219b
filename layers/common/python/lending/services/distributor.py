"""The distributor's use cases: its offers (created and edited in the console), their EPUBs, the sales
points of a publication.

An offer written in the console takes the ONIX path (catalogue/console_offers.py: an adapter beside the
feeds, which the console calls as it would a use case), not a shortcut: the form becomes an ONIX 3.0
message, which the catalogue sync reads (catalogue/onix.py: the check digit, the code lists, the price
and licence rules), applies (catalogue/ingest.py: only a real change is written, stamped) and files in
an update file (getOffers, getOffersForDistributor and the FTP files read those), under the same
per-distributor lease as a feed's sync. The distributor's feed cursor is left where it was. The message
itself is kept in the bucket (`onix/console/<gln>/...`), as a feed's files are.

Every use case takes the signed-in staff member and works on their organisation's offers only: another
distributor's EAN is as unknown as a missing one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.accounts import Account, Role
from ..domain.offers import AVAILABLE_CODES, UNAVAILABLE_CODES, Offer, model_terms
from ..domain.refusals import Reason, Refused
from ..domain.staff import Staff
from ..domain.values import Record
from ..store import licences as line_store
from ..store import loans as loan_store
from ..store import offers as offer_store
from . import auth, files
from .context import Ctx

AVAILABILITIES = sorted(AVAILABLE_CODES | UNAVAILABLE_CODES)
CURRENCIES = ("EUR", "CAD", "CHF", "USD", "GBP")


def organisation(staff: Staff) -> Account | None:
    """The distributor a staff member works for; None for a library's staff."""
    acc = auth.account(staff.gln_coll)
    return acc if acc is not None and acc.role is Role.DISTRIBUTOR else None


def organisation_role(staff: Staff) -> str:
    """Which console a staff member gets: "distributor", "reseller", else "library" (a collectivity's)."""
    acc = auth.account(staff.gln_coll)
    if acc is not None and acc.role in (Role.DISTRIBUTOR, Role.RESELLER):
        return acc.role.value
    return "library"


def own_gln(staff: Staff) -> str:
    if organisation(staff) is None:
        raise Refused(Reason.FORBIDDEN)
    return staff.gln_coll


# --- offers ---

def offers(staff: Staff) -> list[Offer]:
    return offer_store.of_distributor(own_gln(staff))


def offer(staff: Staff, ean13: str) -> Offer:
    found = offer_store.get(ean13, own_gln(staff)) if ean13.isascii() and ean13.isdigit() else None
    if found is None:
        raise Refused(Reason.NOT_FOUND)
    return found


def _int(form: Mapping[str, str], name: str, default: int | None = None) -> int:
    raw = (form.get(name) or "").strip()
    if not raw and default is not None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise Refused(Reason.OFFER_INVALID, detail=f"{name}: a whole number is expected")
    return int(raw)


def _cents(form: Mapping[str, str], name: str) -> int:
    raw = (form.get(name) or "").strip().replace(",", ".")
    whole, _, frac = raw.partition(".")
    if not whole.isascii() or not whole.isdigit() or len(whole) > 8 or len(frac) > 2 or (frac and not frac.isdigit()):
        raise Refused(Reason.OFFER_INVALID, detail=f"{name}: an amount such as 12.50 is expected")
    return int(whole) * 100 + int((frac + "00")[:2])


def offer_of_form(gln: str, form: Mapping[str, str], ean13: str | None = None) -> Offer:
    """The offer a form states (the EAN is the page's when editing). Checks the form's own shape; the
    rules of the catalogue are the ONIX reader's (see publish)."""
    from stdnum import ean  # the console only: stdnum's imports would weigh on the lending functions

    ean_text = (ean13 or form.get("ean13") or "").strip().replace("-", "").replace(" ", "")
    if not ean.is_valid(ean_text) or len(ean_text) != 13:
        raise Refused(Reason.EAN_INVALID, ean13=ean_text)
    title = (form.get("title") or "").strip()
    if not title or len(title) > 500:
        raise Refused(Reason.OFFER_INVALID, detail="title: from 1 to 500 characters")
    availability = form.get("availability") or "20"
    if availability not in AVAILABILITIES:
        raise Refused(Reason.OFFER_INVALID, detail="availability: a code of ONIX list 65")
    currency = (form.get("currency") or "EUR").strip().upper()
    if currency not in CURRENCIES:
        raise Refused(Reason.OFFER_INVALID, detail="currency: " + ", ".join(CURRENCIES))
    price_ttc = _cents(form, "price")
    tax_rate = _int(form, "tax_rate", 550)  # hundredths of a percent: 5.5 % (French e-books)
    if tax_rate > 99_999:
        raise Refused(Reason.OFFER_INVALID, detail="tax_rate: at most 99999 (999.99 %)")
    price_ht = round(price_ttc * 10_000 / (10_000 + tax_rate))
    try:
        terms = model_terms(form.get("model") or "loans", _int(form, "loans", 1), _int(form, "downloads", 1),
                            _int(form, "onsite_streams", 0), _int(form, "offsite_streams", 0),
                            _int(form, "licence_days", 3650), _int(form, "max_loan_days", 21))
    except ValueError as e:
        raise Refused(Reason.OFFER_INVALID, detail=str(e)) from None
    return Offer(ean13=ean_text, gln_distributor=gln, title=title, terms=terms, price_ttc=price_ttc,
                 price_ht=price_ht, currency=currency, tax_rate=tax_rate, availability=availability,
                 publisher=(form.get("publisher") or "").strip()[:200])


def upload_epub(staff: Staff, ean13: str, content: bytes) -> None:
    offer(staff, ean13)  # the distributor's own offer, or not found
    try:
        files.ingest_epub(ean13, content)
    except ValueError:
        raise Refused(Reason.EPUB_INVALID) from None


def has_epub(ean13: str) -> bool:
    s3 = files.client("s3")
    try:
        s3.head_object(Bucket=files.bucket(), Key=files.epub_key(ean13))
    except Exception:
        return False
    return True


# --- sales points ---

class Sale(Record):
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

    def __init__(self, order_line_id: str, order_id: str, gln_reseller: str, reseller: str, gln_coll: str,
                 collectivity: str, ordered: str, status: str, licences: int, loans_used: int, loans_left: int,
                 loans_total: int, active_loans: int, ends: str) -> None:
        self._init(order_line_id, order_id, gln_reseller, reseller, gln_coll, collectivity, ordered, status, licences,
                   loans_used, loans_left, loans_total, active_loans, ends)

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
        lic = line_store.licence(item, ctx.now)
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
        raise Refused(Reason.UNKNOWN_OFFER, ean13=ean13, gln_distributor=distributor.gln)
    rows = sales(ctx, distributor.gln, ean13)
    return {"ean13": ean13, "glnDistributor": distributor.gln, "title": found.title,
            "licences": sum(r.licences for r in rows if r.status == "OK"),
            "loansUsed": sum(r.loans_used for r in rows),
            "loansLeft": sum(r.loans_left for r in rows if r.status == "OK"),
            "salesPoints": [r.as_json() for r in rows]}
