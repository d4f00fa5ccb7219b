"""The offer/order files of an account, in the XML shape PMB's scheduled task `sync_pnb` reads.

PMB (admin/planificateur/sync_pnb/sync_pnb.class.php) turns each file into an array with
`json_decode(json_encode(simplexml_load_string(...)))` and reads, from the root element:

- `offer` (one or many): `notice` is a string holding an ONIX 3.0 message; PMB loads it again with
  simplexml (`Product/ProductIdentifier`, `Product/DescriptiveDetail/TitleDetail/TitleElement/TitleText`)
  and cuts the text from the literal `<Product>` to `</Product>` for its ONIX import, so the notice's
  Product carries no attribute (its namespace is declared on ONIXMessage). `orderLine` (one or many):
  `orderId`, `orderLineId`, `orderDate` (the licence's start: PMB adds `offerValidity` to it),
  `usage/loanTerms/{nbLoans, loanMaxDuration/{value,unit}, loanNbSimultaneousUsers,
  consultNbSimultaneousUsersInSitu, consultNbSimultaneousUsersExSitu}` and
  `usage/collRights/offerValidity/{value,unit}` (units DAY, MONTH, YEAR, HOUR).
- `offerLoanList/offerLine[]/line/loanIdList/loanId`: the loans running now. PMB deletes from its own
  database every loan (not made today) missing from this list, so each file lists every running loan
  of the collectivity, one offerLine per loan. PMB iterates `offerLine` as a list, which its XML-to-array
  conversion only gives when the element repeats: a single running loan is written twice (the same id
  marked twice is harmless). With no running loan the list is left out, and PMB keeps its loans as they
  are (its getLoanStatus pass still ends them).

Extra elements (ean13, glnDistributor, glnColl, glnReseller, orderIdColl, endDate) are for readers other
than PMB; PMB ignores them.

Names: `full_pnb_<gln>_<YYYYMMDD>.xml` and `diffusion_pnb_<gln>_<YYYYMMDD>_<HHMMSS>.xml` (UTC). PMB lists
`full_pnb*` and `diffusion_pnb*`, sorts each list by name and takes the date from the fourth
`_`-separated part: within one account's folder, name order is time order.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import IO

from lxml import etree

from ..catalogue import onix
from ..domain.dates import iso
from ..domain.licences import Licence, Pool
from ..domain.offers import LicenceTerms, Offer
from ..domain.values import Value

FULL_PREFIX = "full_pnb"
UPDATE_PREFIX = "diffusion_pnb"
ROOT = "pnbOffers"
SENDER = "Lending hub"


def full_name(gln: str, day: date) -> str:
    return f"{FULL_PREFIX}_{gln}_{day:%Y%m%d}.xml"


def update_name(gln: str, at: datetime) -> str:
    return f"{UPDATE_PREFIX}_{gln}_{at.astimezone(UTC):%Y%m%d_%H%M%S}.xml"


def name_day(name: str) -> str:
    """The day PMB reads from a file name: the first 8 characters of its fourth `_`-separated part."""
    parts = name.split("_")
    return parts[3][:8] if len(parts) > 3 else ""


class Holding(Value):
    """An order line as the files show it: the licence and the collectivity's own order reference."""

    licence: Licence
    order_id_coll: str | None

    def __init__(self, licence: Licence, order_id_coll: str | None = None) -> None:
        self._init(licence, order_id_coll)


def licence_days(lic: Licence) -> int:
    return max(1, (lic.end_date - lic.dmd_date).days)


def _notice_offer(lic: Licence, offer: Offer | None) -> Offer:
    """The catalogue's offer; a line whose offer the catalogue no longer has gets a notice built from the
    line itself (its identifier and terms), so that PMB still finds a Product to import."""
    if offer is not None:
        return offer
    terms = LicenceTerms(loans=lic.nta_total, downloads=lic.sizes[Pool.DOWNLOAD],
                         onsite_streams=lic.sizes[Pool.ONSITE], offsite_streams=lic.sizes[Pool.OFFSITE],
                         licence_days=licence_days(lic), max_loan_days=lic.max_loan_days)
    return Offer(ean13=lic.ean13, gln_distributor=lic.gln_distributor, title="", terms=terms, price_ttc=0,
                 price_ht=0)


def notice(offer: Offer, sent: datetime) -> str:
    """One offer as an ONIX 3.0 message (Header + Product), the namespace declared once on its root."""
    root = etree.Element(onix._Q + "ONIXMessage", {"release": "3.0"}, nsmap={None: onix.NS})
    root.append(onix._header(None, SENDER, sent))
    root.append(onix.product_element(offer))
    etree.cleanup_namespaces(root)
    return str(etree.tostring(root, encoding="unicode"))


def _text(parent: etree._Element, name: str, value: object) -> etree._Element:
    el = etree.SubElement(parent, name)
    el.text = str(value)
    return el


def _duration(parent: etree._Element, name: str, days: int) -> None:
    el = etree.SubElement(parent, name)
    _text(el, "value", days)
    _text(el, "unit", "DAY")


def order_line(h: Holding) -> etree._Element:
    lic = h.licence
    el = etree.Element("orderLine")
    _text(el, "orderId", lic.order_id)
    _text(el, "orderLineId", lic.order_line_id)
    _text(el, "orderDate", iso(lic.dmd_date))
    _text(el, "endDate", iso(lic.end_date))
    if h.order_id_coll:
        _text(el, "orderIdColl", h.order_id_coll)
    _text(el, "glnColl", lic.gln_coll)
    _text(el, "glnReseller", lic.gln_reseller)
    usage = etree.SubElement(el, "usage")
    terms = etree.SubElement(usage, "loanTerms")
    _text(terms, "nbLoans", lic.nta_total)
    _duration(terms, "loanMaxDuration", lic.max_loan_days)
    _text(terms, "loanNbSimultaneousUsers", lic.sizes[Pool.DOWNLOAD])
    _text(terms, "consultNbSimultaneousUsersInSitu", lic.sizes[Pool.ONSITE])
    _text(terms, "consultNbSimultaneousUsersExSitu", lic.sizes[Pool.OFFSITE])
    rights = etree.SubElement(usage, "collRights")
    _duration(rights, "offerValidity", licence_days(lic))
    return el


def offer_element(holdings: list[Holding], offer: Offer | None, sent: datetime) -> etree._Element:
    first = holdings[0].licence
    el = etree.Element("offer")
    _text(el, "ean13", first.ean13)
    _text(el, "glnDistributor", first.gln_distributor)
    text = notice(_notice_offer(first, offer), sent)
    n = etree.SubElement(el, "notice")
    try:
        n.text = etree.CDATA(text)
    except ValueError:  # "]]>" inside the notice: plain (escaped) text reads the same
        n.text = text
    for h in holdings:
        el.append(order_line(h))
    return el


def loan_list(loans: Iterable[tuple[str, str]]) -> etree._Element | None:
    """offerLoanList of the running loans ((orderLineId, loanId) pairs); None when there is none."""
    pairs = sorted(set(loans))
    if not pairs:
        return None
    el = etree.Element("offerLoanList")
    for line_id, loan_id in pairs * (2 if len(pairs) == 1 else 1):
        line = etree.SubElement(etree.SubElement(el, "offerLine"), "line")
        _text(line, "orderLineId", line_id)
        _text(etree.SubElement(line, "loanIdList"), "loanId", loan_id)
    return el


def write(out: IO[bytes], *, kind: str, gln: str, generated_at: datetime, holdings: Iterable[Holding],
          offers: dict[tuple[str, str], Offer], loans: Iterable[tuple[str, str]] | None,
          since: datetime | None = None) -> int:
    """Write one file (kind "full" or "update") to `out`, offer by offer; returns the number of lines.

    `loans` None: no offerLoanList (a reseller's file: loans are the collectivities' business)."""
    grouped: dict[tuple[str, str], list[Holding]] = defaultdict(list)
    for h in holdings:
        grouped[(h.licence.ean13, h.licence.gln_distributor)].append(h)
    attrs = {"kind": kind, "gln": gln, "generatedAt": iso(generated_at)}
    if since is not None:
        attrs["since"] = iso(since)
    count = 0
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(ROOT, attrs):
            for pair in sorted(grouped):
                lines = sorted(grouped[pair], key=lambda h: (h.licence.dmd_date, h.licence.order_line_id))
                xf.write(offer_element(lines, offers.get(pair), generated_at))
                count += len(lines)
            listed = loan_list(loans) if loans is not None else None
            if listed is not None:
                xf.write(listed)
    return count


def document(**kw: object) -> bytes:
    """`write` into memory (tests, small files)."""
    buf = io.BytesIO()
    write(buf, **kw)  # type: ignore[arg-type]
    return buf.getvalue()
