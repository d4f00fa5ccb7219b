"""ONIX 3.0 (reference tags) read as a stream and written incrementally.

Reading: lxml iterparse over the byte stream, one <Product> at a time; each product is mapped, then
cleared and unlinked from the tree, so memory stays bounded whatever the file size. Entities are not
resolved and nothing is fetched from the network (no DTD, no XXE, no billion laughs). A product is
first made flat (`walk`: the elements the mapping reads, with their parents and texts), by the C
extension `_onixwalk` (layers/common/src/onixwalk.c, compiled by `make`/`make build`) when it imports,
else by `flatten`, its definition in Python; then one mapping reads that (docs/catalogue-parse.md).

What a product gives (anything else in the record is ignored):
- identifier: ProductIdentifier with ProductIDType 15 (ISBN-13) or 03 (GTIN-13), 13 digits with a valid
  check digit; when both are given they must agree.
- NotificationType 01-04: the offer as stated; 05: the offer is removed (Offer.removed, never deleted).
- title (TitleType 01: TitleText, or TitlePrefix + TitleWithoutPrefix), contributors (in SequenceNumber
  order: PersonName, else NamesBeforeKey + KeyNames, else CorporateName), publisher (PublishingRole 01,
  else the first), formats (ProductFormDetail, list 175: E101 -> "epub", E107 -> "pdf", ...).
- supply: the SupplyDetail whose Supplier GLN (SupplierIDType 06) is the feed's distributor, else the
  first one without a supplier GLN; a product supplied under another GLN is rejected.
  ProductAvailability (list 65) as is.
- price: the first Price with a tax-inclusive PriceType (02, 04, 07, 09, 12, 14, 17, 22, 24, 27, 34, 42)
  is the TTC price; HT is its Tax/TaxableAmount, else a tax-exclusive Price (01, 03, 05, ...) in the same
  currency, else TTC / (1 + TaxRatePercent). Tax rate: TaxRatePercent as hundredths (5.5 -> 550, as the
  PNB spec writes taxRate). Currency: CurrencyCode, else the header's DefaultCurrencyCode. Amounts are
  plain decimal currency units ("24.00": ASCII digits, an optional point) turned into cents, at most
  10 000 000.00; a tax rate is at most 999.99 %: the bounds of the hub's own requests. A fraction of a
  cent (or of a hundredth of a percent) is invalid.

Licence terms (LicenceTerms) from <EpubUsageConstraint> (EpubUsageType list 145, EpubUsageStatus list
146, EpubUsageLimit = Quantity + EpubUsageUnit list 147). ONIX has no access-mode qualifier on usage
constraints, so the hub reads each PNB pool from the usage type whose ONIX definition matches it:

| LicenceTerms    | EpubUsageType                  | status | EpubUsageUnit                 | if absent     |
| --------------- | ------------------------------ | ------ | ----------------------------- | ------------- |
| loans (NTA)     | 06 Lend                        | 02     | 10 Times                      | invalid       |
| max_loan_days   | 06 Lend                        | 02     | 09 Days (13 Weeks x 7)        | invalid       |
| licence_days    | 07 Time-limited license        | 02     | 09 Days (13 Weeks x 7)        | invalid       |
| downloads       | 09 Multi-user license          | 02     | 07 Concurrent users           | 1 (03 too)    |
| onsite_streams  | 10 Preview on premises         | 02     | 07 Concurrent users           | 0 (03 too)    |
| offsite_streams | 01 Preview                     | 02     | 07 Concurrent users           | 0 (03 too)    |

"Preview on premises" is ONIX's reading of the whole book only while inside the library (PNB on-site
streaming, IN_SITU); "Preview" without a place is reading online anywhere (off-site streaming, EX_SITU);
a Preview limited only by a percentage (a retail preview) grants no lending stream. Lend prohibited or
unlimited, an unlimited time-limited licence and unlimited concurrent users are rejected: a PNB
licence always counts its loans, its days and its places. The same table is what `write` produces.
<EpubLicense> (the licence's name and link) is informative only and is not mapped.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Any

from lxml import etree

from ..domain.identifiers import is_ean13
from ..domain.offers import MAX_PRICE_CENTS, MAX_TAX_RATE, LicenceTerms, Offer
from ..text import text_problem

NS = "http://ns.editeur.org/onix/3.0/reference"
_Q = "{" + NS + "}"

UPDATE_TYPES = frozenset({"01", "02", "03", "04"})
REMOVAL = "05"
INCLUSIVE_PRICE_TYPES = ("02", "04", "07", "09", "12", "14", "17", "22", "24", "27", "34", "42")
EXCLUSIVE_PRICE_TYPES = ("01", "03", "05", "06", "08", "11", "13", "15", "21", "23", "25", "31", "32", "33",
                         "41")
FORMATS = {"E101": "epub", "E107": "pdf", "E108": "pdf", "E105": "html", "E113": "xhtml", "E112": "txt",
           "E116": "kindle", "E127": "mobi"}
FORMAT_CODES = {"epub": "E101", "pdf": "E107", "html": "E105", "xhtml": "E113", "txt": "E112",
                "kindle": "E116", "mobi": "E127"}

# Usage types and units (lists 145, 147) the hub reads; see the module docstring.
LEND, TIME_LIMITED, MULTI_USER, PREVIEW_ON_PREMISES, PREVIEW = "06", "07", "09", "10", "01"
UNLIMITED, LIMITED, PROHIBITED = "01", "02", "03"
UNIT_CONCURRENT_USERS, UNIT_DAYS, UNIT_TIMES, UNIT_WEEKS = "07", "09", "10", "13"


class OnixError(Exception):
    """The file itself cannot be read as ONIX 3.0 (not well-formed, not an ONIXMessage, wrong release)."""


class _Bad(Exception):
    """One record is invalid: it is reported and skipped, never applied in part."""


@dataclass(frozen=True)
class Removal:
    """NotificationType 05: the offer is marked removed (its stored terms and price are kept)."""

    ean13: str
    gln_distributor: str


@dataclass(frozen=True)
class Rejected:
    """An invalid record: its identifier (EAN, else RecordReference, else its position) and why."""

    identifier: str
    reason: str


Notice = Offer | Removal


_NAMES_KEPT = 4096


class _Names(dict[Any, str]):
    """Local names of tags ("{ns}Price" and "Price" -> "Price"), computed once per distinct tag: the
    reader looks up every element's name, and a dict hit is the cheapest way to do it."""

    def __missing__(self, tag: Any) -> str:
        name = tag[tag.rfind("}") + 1:] if isinstance(tag, str) else ""  # "" for processing instructions
        if len(self) < _NAMES_KEPT:  # ONIX has a few hundred tags; a hostile feed may invent millions
            self[tag] = name
        return name


_N = _Names()


def _local(tag: Any) -> str:
    return _N[tag]


def _text(el: Any) -> str:
    return (el.text or "").strip()


def _leaves(el: Any) -> dict[str, str]:
    """The simple children of a composite by local name (the last of each), text stripped."""
    n = _N
    return {n[c.tag]: (c.text or "").strip() for c in el}


# ONIX writes amounts as plain decimals. Decimal() alone would also take NaN, sNaN, Infinity, exponents
# ("1E+999999"), signs, "1_000" and other scripts' digits, then fail or overflow in the arithmetic.
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_HUNDREDTH = Decimal("0.01")


# The usual shape ("24", "24.5", "24.50"), read as integers: a price and a tax rate per record, where
# Decimal costs a few microseconds. Anything else, or above the bound, takes the exact path below.
_SHORT_DECIMAL = re.compile(r"([0-9]{1,9})(?:\.([0-9]{0,2}))?")
_short_numbers: dict[str, int] = {}  # such amounts already read (a feed repeats its prices and rates)


def _hundredths(value: str, what: str, high: int, unit: str) -> int:
    """A plain decimal as a whole number of hundredths (24.5 -> 2450), from 0 to `high`: bounded, every
    number of an accepted record can be stored and ordered."""
    number = _short_numbers.get(value)
    if number is None:
        short = _SHORT_DECIMAL.fullmatch(value)
        if short:
            whole, fraction = short.groups()
            number = int(whole) * 100 + (int(fraction.ljust(2, "0")) if fraction else 0)
            _keep(_short_numbers, value, number, 0)  # at most 13 characters: the pattern's
    if number is not None and number <= high:
        return number
    if not _PLAIN_DECIMAL.fullmatch(value):
        raise _Bad(f"{what} {value!r} is not a number (ASCII digits and an optional decimal point)")
    amount = Decimal(value)  # exact: construction never rounds
    limit = Decimal(high) / 100
    if amount > limit:
        raise _Bad(f"{what} {value!r} is above {limit}")
    whole = amount.quantize(_HUNDREDTH)  # at most 10 digits under the bound, so exact but for the fraction
    if whole != amount:
        raise _Bad(f"{what} {value!r} is not {unit}")
    return int(whole * 100)


def _cents(value: str, what: str) -> int:
    return _hundredths(value, what, MAX_PRICE_CENTS, "an amount in cents")


def _rate(value: str) -> int:
    return _hundredths(value, "TaxRatePercent", MAX_TAX_RATE, "a percentage in hundredths")  # 5.5 -> 550


_MAX_DIGITS = 18
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _whole(value: str) -> int | None:
    """ASCII digits as a number, else None: str.isdigit() alone also takes "²", which int() refuses.
    Longer numbers are capped (every bound checked on them is far lower): int() is never given more
    digits than it converts."""
    if not (value.isascii() and value.isdigit()):
        return None
    if len(value) <= _MAX_DIGITS:
        return int(value)
    digits = value.lstrip("0")
    return int(digits or "0") if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


def _quantity(value: str) -> int:
    number = _whole(value)
    if number is None:
        raise _Bad(f"EpubUsageLimit Quantity {value!r} is not a whole number")
    return number


@dataclass
class _Defaults:
    currency: str | None = None
    price_type: str | None = None


_POOLS = {MULTI_USER: "downloads", PREVIEW_ON_PREMISES: "onsite_streams", PREVIEW: "offsite_streams"}


def _terms(constraints: list[list[str]]) -> LicenceTerms:
    """From each EpubUsageConstraint read as [type, status, quantity, unit, quantity, unit, ...]."""
    found: dict[str, int] = {}
    pools = _POOLS
    for constraint in constraints:
        usage, status, limits = constraint[0], constraint[1], zip(constraint[2::2], constraint[3::2], strict=True)
        if usage == LEND:
            if status != LIMITED:
                raise _Bad(f"EpubUsageType 06 (Lend) must be limited (EpubUsageStatus 02), "
                           f"got {status or 'none'}")
            for qty, unit in limits:
                if unit == UNIT_TIMES:
                    found["loans"] = _quantity(qty)
                elif unit in (UNIT_DAYS, UNIT_WEEKS):
                    found["max_loan_days"] = _quantity(qty) * (7 if unit == UNIT_WEEKS else 1)
        elif usage == TIME_LIMITED:
            if status != LIMITED:
                raise _Bad("EpubUsageType 07 (Time-limited license) must be limited (EpubUsageStatus 02)")
            for qty, unit in limits:
                if unit in (UNIT_DAYS, UNIT_WEEKS):
                    found["licence_days"] = _quantity(qty) * (7 if unit == UNIT_WEEKS else 1)
        elif usage in pools:
            name = pools[usage]
            if usage == MULTI_USER and status == UNLIMITED:
                raise _Bad("EpubUsageType 09 (Multi-user license) with unlimited concurrent users "
                           "is not supported")
            if status == PROHIBITED:
                found[name] = 1 if usage == MULTI_USER else 0
            for qty, unit in limits:
                if unit == UNIT_CONCURRENT_USERS and status == LIMITED:
                    found[name] = _quantity(qty)
    if "loans" not in found or "max_loan_days" not in found or "licence_days" not in found:
        missing = [label for key, label in (("loans", "06 Lend limit in 10 Times"),
                                            ("max_loan_days", "06 Lend limit in 09 Days"),
                                            ("licence_days", "07 Time-limited license limit in 09 Days"))
                   if key not in found]
        raise _Bad("missing licence terms: EpubUsageConstraint " + ", ".join(missing))
    try:
        return LicenceTerms(loans=found["loans"], downloads=found.get("downloads", 1),
                            onsite_streams=found.get("onsite_streams", 0),
                            offsite_streams=found.get("offsite_streams", 0),
                            licence_days=found["licence_days"], max_loan_days=found["max_loan_days"])
    except ValueError as e:
        raise _Bad(f"licence terms: {e}") from None


# Licence terms already read, by the constraints they were read from: a feed states the same few licence
# models record after record. Only terms read without error are kept (a _Bad raises every time), and
# LicenceTerms is immutable, so sharing one is safe. Bounded: at most _KEPT of them, each from at most
# _KEY_TEXT characters of leaves (a hostile feed's long or many values are read, never kept).
_KEPT = 4096
_KEY_TEXT = 64
_terms_read: dict[tuple[Any, ...], LicenceTerms] = {}


def _keep(kept: dict[Any, Any], key: Any, value: Any, text: int) -> None:
    if text <= _KEY_TEXT:
        if len(kept) >= _KEPT:
            kept.clear()
        kept[key] = value


def _known_terms(constraints: list[list[str]]) -> LicenceTerms:
    key = tuple(map(tuple, constraints))
    terms = _terms_read.get(key)
    if terms is None:
        terms = _terms(constraints)
        _keep(_terms_read, key, terms, sum(len(text) for constraint in constraints for text in constraint))
    return terms


@dataclass
class _Price:
    type: str
    amount: int
    currency: str | None
    tax_rate: int | None
    taxable: int | None


def _price(raw: dict[str, str], defaults: _Defaults) -> _Price | None:
    price_type = raw.get("PriceType") or defaults.price_type
    amount = raw.get("PriceAmount")
    if not price_type or amount is None:
        return None  # a coded price or one without a type cannot be a PNB price
    rate, taxable = raw.get("TaxRatePercent"), raw.get("TaxableAmount")
    return _Price(price_type, _cents(amount, "PriceAmount"), raw.get("CurrencyCode") or defaults.currency,
                  _rate(rate) if rate else None,
                  _cents(taxable, "TaxableAmount") if taxable else None)


def _prices(prices: list[_Price]) -> tuple[int, int, str, int | None]:
    """(TTC, HT, currency, tax rate) from the prices of the chosen supply."""
    ttc = next((p for p in prices if p.type in INCLUSIVE_PRICE_TYPES), None)
    if ttc is None:
        raise _Bad("no Price with a tax-inclusive PriceType (02, 04, ...)")
    if not ttc.currency:
        raise _Bad("Price has no CurrencyCode")
    if not _CURRENCY.match(ttc.currency):  # ONIX list 96 codes, as orders must name them ([A-Z]{3})
        raise _Bad(f"CurrencyCode {ttc.currency[:8]!r} is not an ISO 4217 code")
    ht = ttc.taxable
    if ht is None:
        excl = next((p for p in prices if p.type in EXCLUSIVE_PRICE_TYPES and p.currency == ttc.currency),
                    None)
        ht = excl.amount if excl else None
    if ht is None and ttc.tax_rate is not None:
        ht = int((Decimal(ttc.amount) * 10000 / (10000 + ttc.tax_rate)).quantize(Decimal(1), ROUND_HALF_UP))
    if ht is None:
        raise _Bad("no price excluding tax (Tax/TaxableAmount, a tax-exclusive Price or TaxRatePercent)")
    if ht > ttc.amount:
        raise _Bad("price excluding tax is above the price including tax")
    return ttc.amount, ht, ttc.currency, ttc.tax_rate


# Prices already read, by what they were read from (the supply's price leaves and the header's defaults,
# the leaves' names being the reader's own strings): as _terms_read, bounded, only what read without error.
_prices_read: dict[tuple[Any, ...], tuple[int, int, str, int | None]] = {}


def _known_prices(raw: list[dict[str, str]], defaults: _Defaults) -> tuple[int, int, str, int | None]:
    key = (defaults.currency, defaults.price_type, *[tuple(r.items()) for r in raw])
    prices = _prices_read.get(key)
    if prices is None:
        prices = _prices([x for x in (_price(r, defaults) for r in raw) if x])
        _keep(_prices_read, key, prices, len(defaults.currency or "") + len(defaults.price_type or "")
              + sum(len(v) for r in raw for v in r.values()))
    return prices


def _identifier(ids: dict[str, str]) -> str:
    isbn, gtin = ids.get("15"), ids.get("03")
    if isbn and gtin and isbn != gtin:
        raise _Bad(f"ProductIdentifier 15 ({isbn}) and 03 ({gtin}) differ")
    ean = isbn or gtin
    if not ean:
        raise _Bad("no ProductIdentifier of type 15 (ISBN-13) or 03 (GTIN-13)")
    if not is_ean13(ean):
        raise _Bad(f"ProductIdentifier {ean!r} is not 13 digits with a valid check digit")
    return ean


# The elements the reader looks at (any other element of a product is passed over), numbered so that
# one lookup per element gives both "wanted?" and which branch: a few integer comparisons instead of a
# chain of string ones. Codes 1-39 are listed by the walk; DescriptiveDetail (40) only ever appears as
# a parent, the rules asking whether a Contributor, TitleDetail or ProductFormDetail is its child.
_WANTED = ("Quantity", "EpubUsageUnit", "EpubUsageLimit", "EpubUsageType", "EpubUsageStatus",
           "EpubUsageConstraint", "IDValue", "ProductIdentifier", "ProductIDType",
           "PriceType", "PriceAmount", "CurrencyCode", "TaxRatePercent", "TaxableAmount", "Tax", "Price",
           "SupplyDetail", "SupplierIdentifier", "SupplierIDType", "ProductAvailability",
           "PersonName", "NamesBeforeKey", "KeyNames", "CorporateName", "PersonNameInverted", "SequenceNumber",
           "Contributor", "TitleText", "TitlePrefix", "TitleWithoutPrefix", "TitleElement", "TitleType",
           "TitleDetail", "PublishingRole", "PublisherName", "Publisher", "ProductFormDetail",
           "NotificationType", "RecordReference")
_LISTED = len(_WANTED)  # codes 1.._LISTED are listed by the walk
_DESCRIPTIVE_DETAIL = _LISTED + 1
_NAME_OF = ("", *_WANTED, "DescriptiveDetail")  # code -> local name; 0: not wanted
_CODE_OF_NAME = {name: code for code, name in enumerate(_NAME_OF) if code}
# The listed elements the mapping reads the text of (the others are composites: their text is "").
_COMPOSITES = frozenset({"EpubUsageLimit", "EpubUsageConstraint", "ProductIdentifier", "Tax", "Price",
                         "SupplyDetail", "SupplierIdentifier", "Contributor", "TitleElement", "TitleDetail",
                         "Publisher", "DescriptiveDetail"})
_LEAF = bytes(0 < code <= _LISTED and name not in _COMPOSITES for code, name in enumerate(_NAME_OF))


# Tag ("{ns}Price" or "Price") -> the code of its local name, 0 for any other; bounded as _Names. A plain
# dict, not a subclass with __missing__: the interpreter's specialised lookup of an exact dict saves
# ~2 us a record (one lookup per element); a tag not yet seen goes through _code.
_C: dict[Any, int] = {}


def _code(tag: Any) -> int:
    code = _CODE_OF_NAME.get(_N[tag], 0)
    if len(_C) < _NAMES_KEPT:
        _C[tag] = code
    return code


# The flat form of a product, what the mapping reads: [root, entry, ...], root = (0, None, ""), then
# each element of the product whose local name (in any namespace, or none) has a listed code, in
# document order, as (code, parent, text): text is the element's `(el.text or "").strip()` for a leaf
# code, "" for a composite; parent is the parent's entry, or, when the parent is not listed, an entry
# made for it when its first listed child is met and shared by its later ones, never itself listed:
# (its code: 0 or _DESCRIPTIVE_DETAIL, its own parent's entry if one exists at that moment else None, "").
# The rules compare parents by identity (`parent is supply_el`) as they compared lxml elements.
Entry = tuple[int, Any, str]


def flatten(p: Any) -> list[Entry]:
    """The flat form of one <Product> from lxml's proxies: the definition, and the reader's walk when
    the compiled one (layers/common/src/onixwalk.c, identical output) is not importable."""
    if not isinstance(p, etree._Element) or not isinstance(p.tag, str):
        raise TypeError(f"flatten() takes an lxml element, not {type(p).__name__}")
    codes = _C
    leaf = _LEAF
    root: Entry = (0, None, "")
    flat = [root]
    made: dict[Any, Entry] = {p: root}  # element -> its entry (its proxy kept alive, so `is` holds)
    elements = p.iter()
    next(elements)  # p itself
    for el in elements:
        try:
            code = codes[el.tag]
        except KeyError:
            code = _code(el.tag)
        if not code or code > _LISTED:
            continue
        parent = el.getparent()
        up = made.get(parent)
        if up is None:
            tag = parent.tag
            up = made[parent] = (codes[tag] if tag in codes else _code(tag), made.get(parent.getparent()), "")
        made[el] = entry = (code, up, (el.text or "").strip() if leaf[code] else "")
        flat.append(entry)
    return flat


def _compiled_walk() -> Callable[[Any], list[Entry]] | None:
    """The extension's walk, set up with this module's table; None when it is not built here."""
    try:
        from . import _onixwalk  # type: ignore[attr-defined]  # built by `make`, git-ignored
    except ImportError:
        return None
    _onixwalk.setup(etree._Element, _NAME_OF, _LEAF, _LISTED)
    walk: Callable[[Any], list[Entry]] = _onixwalk.walk
    # It reads lxml's element struct as the headers it was compiled with lay it out: a build made for
    # another lxml must not be used (make cext compiles again when lxml's headers change).
    probe = etree.fromstring(_PROBE)
    return walk if walk(probe) == flatten(probe) else None


_PROBE = (f'<Product xmlns="{NS}"><RecordReference> r </RecordReference><DescriptiveDetail><TitleDetail>'
          "<TitleType>01</TitleType></TitleDetail></DescriptiveDetail></Product>")

walk: Callable[[Any], list[Entry]] = _compiled_walk() or flatten
COMPILED = walk is not flatten


def _product(flat: list[Entry], gln: str, defaults: _Defaults, found: dict[str, str]) -> Notice:
    """Map one <Product>, given as its flat form; `found` receives what identifies it, for the report
    if it is rejected.

    One pass over the wanted elements in document order. Composites that also occur elsewhere in a
    product (ProductIdentifier in RelatedProduct, TitleDetail and Contributor in Collection or
    ContentItem, ...) are taken only where they belong: each leaf is kept only if its parent is the
    composite being read."""
    named = _NAME_OF
    notification = ""
    ids: dict[str, str] = {}
    pid_el: Any = None
    pid_type = ""
    title: str | None = None
    title_el: Any = None
    title_element_el: Any = None
    title_parts: dict[str, str] = {}
    contributors: list[tuple[int, int, dict[str, str]]] = []
    contributor_el: Any = None
    publishers: list[dict[str, str]] = []
    publisher_el: Any = None
    formats: list[str] = []
    constraints: list[list[str]] = []  # [type, status, quantity, unit, quantity, unit, ...] each
    constraint_el: Any = None
    constraint: list[str] = []
    limit_el: Any = None
    limit_of: list[str] = []  # the constraint that limit_el's values go to, at limit_at and after
    limit_at = 0
    supplies: list[dict[str, Any]] = []
    supply: dict[str, Any] = {}
    supply_el: Any = None
    supplier_el: Any = None
    supplier_type = ""
    price_el: Any = None
    price: dict[str, str] = {}
    tax_el: Any = None
    entries = iter(flat)
    p = next(entries)
    for el in entries:
        code, parent, text = el
        if code <= 9:  # licence terms, identifiers
            if code <= 2:  # Quantity, EpubUsageUnit
                if limit_el is not None and parent is limit_el:
                    limit_of[limit_at + code - 1] = text
            elif code == 3:  # EpubUsageLimit
                if constraint_el is not None and parent is constraint_el:
                    limit_el, limit_of, limit_at = el, constraint, len(constraint)
                    constraint += ("", "")
            elif code <= 5:  # EpubUsageType, EpubUsageStatus
                if constraint_el is not None and parent is constraint_el:
                    constraint[code - 4] = text
            elif code == 6:  # EpubUsageConstraint
                constraint_el, constraint = el, ["", ""]
                constraints.append(constraint)
            elif code == 7:  # IDValue
                if pid_el is not None and parent is pid_el:
                    if pid_type in ("15", "03"):
                        value = text
                        ids.setdefault(pid_type, value)
                        found.setdefault("ean", value)
                elif supplier_el is not None and parent is supplier_el and supplier_type == "06":
                    supply["gln"] = text
            elif code == 8:  # ProductIdentifier
                pid_el, pid_type = (el, "") if parent is p else (None, "")
            elif pid_el is not None and parent is pid_el:  # ProductIDType
                pid_type = text
        elif code <= 20:  # supply and price
            if code <= 12:  # PriceType, PriceAmount, CurrencyCode
                if price_el is not None and parent is price_el:
                    price[named[code]] = text
            elif code <= 14:  # TaxRatePercent, TaxableAmount
                if tax_el is not None and parent is tax_el:
                    price[named[code]] = text
            elif code == 15:  # Tax
                first_tax = price_el is not None and parent is price_el and "tax" not in price
                tax_el = el if first_tax else None
                if tax_el is not None:
                    price["tax"] = "1"
            elif code == 16:  # Price
                if supply_el is not None and parent is supply_el:
                    price_el, price = el, {}
                    supply["prices"].append(price)
                else:
                    price_el = None
            elif code == 17:  # SupplyDetail
                supply_el, supply = el, {"gln": None, "availability": "", "prices": []}
                supplies.append(supply)
            elif code == 18:  # SupplierIdentifier
                supplier_el = el if supply_el is not None and parent[1] is supply_el else None
                supplier_type = ""
            elif code == 19:  # SupplierIDType
                if supplier_el is not None and parent is supplier_el:
                    supplier_type = text
            elif supply_el is not None and parent is supply_el:  # ProductAvailability
                supply["availability"] = text
        elif code <= 27:  # contributors
            if code <= 26:  # the name parts, SequenceNumber
                if contributor_el is not None and parent is contributor_el:
                    contributors[-1][2][named[code]] = text
            elif parent[0] == _DESCRIPTIVE_DETAIL:  # Contributor
                contributor_el = el
                contributors.append((0, len(contributors), {}))
            else:
                contributor_el = None
        elif code <= 33:  # title
            if code <= 30:  # TitleText, TitlePrefix, TitleWithoutPrefix
                if title_element_el is not None and parent is title_element_el:
                    title_parts[named[code]] = text
            elif code == 31:  # TitleElement
                if title_el is not None and parent is title_el:
                    if title is None and title_parts:  # title = title or _title(...), without the call
                        title = _title(title_parts)
                    title_element_el, title_parts = el, {}
            elif code == 32:  # TitleType
                if title_el is not None and parent is title_el and text != "01":
                    title_el = None
            else:  # TitleDetail
                if title is None and title_parts:
                    title = _title(title_parts)
                title_element_el, title_parts = None, {}
                title_el = el if title is None and parent[0] == _DESCRIPTIVE_DETAIL else None
        elif code <= 35:  # PublishingRole, PublisherName
            if publisher_el is not None and parent is publisher_el:
                publishers[-1][named[code]] = text
        elif code == 36:  # Publisher
            publisher_el = el
            publishers.append({})
        elif code == 37:  # ProductFormDetail
            if parent[0] == _DESCRIPTIVE_DETAIL:
                code_text = text
                formats.append(FORMATS.get(code_text, code_text.lower()))
        elif code == 38:  # NotificationType
            notification = text
        else:  # RecordReference
            found.setdefault("ref", text)
    title = title or _title(title_parts)
    ean = _identifier(ids)
    found["ean"] = ean
    if notification == REMOVAL:
        return Removal(ean, gln)
    if notification not in UPDATE_TYPES:
        raise _Bad(f"NotificationType {notification or 'missing'} is not 01-05")
    if not title:
        raise _Bad("no title (TitleDetail with TitleType 01)")
    chosen = _supply(supplies, gln)
    availability = chosen["availability"]
    if len(availability) != 2 or not (availability.isascii() and availability.isdigit()):
        raise _Bad("no ProductAvailability (list 65)")
    ttc, ht, currency, tax_rate = _known_prices(chosen["prices"], defaults)
    publisher = next((x.get("PublisherName", "") for x in publishers if x.get("PublishingRole") == "01"),
                     publishers[0].get("PublisherName", "") if publishers else "")
    names = []
    for _, order, parts in contributors:
        seq = _whole(parts.get("SequenceNumber", ""))
        names.append((1 << 30 if seq is None else seq, order, _contributor(parts)))
    contributor_names = [x for _, _, x in sorted(names) if x]
    # The doors' own text check (what XML 1.0 lets through, DEL too), once over them all ("\n" is no
    # problem) and field by field only to name the first faulty one.
    if text_problem("\n".join((title, publisher, *contributor_names))):
        for what, value in (("title", title), ("PublisherName", publisher),
                            *(("Contributor", x) for x in contributor_names)):
            problem = text_problem(value)
            if problem:
                raise _Bad(f"{what} is invalid: {problem}")
    return Offer(ean13=ean, gln_distributor=gln, title=title, terms=_known_terms(constraints), price_ttc=ttc,
                 price_ht=ht, currency=currency, tax_rate=tax_rate, availability=availability, removed=False,
                 publisher=publisher, contributors=tuple(contributor_names),
                 formats=tuple(dict.fromkeys(formats)))


def _title(parts: dict[str, str]) -> str | None:
    if parts.get("TitleText"):
        return parts["TitleText"]
    without = parts.get("TitleWithoutPrefix", "")
    return f"{parts.get('TitlePrefix', '')} {without}".strip() if without else None


def _contributor(parts: dict[str, str]) -> str:
    if parts.get("PersonName"):
        return parts["PersonName"]
    joined = " ".join(x for x in (parts.get("NamesBeforeKey", ""), parts.get("KeyNames", "")) if x)
    return joined or parts.get("CorporateName", "") or parts.get("PersonNameInverted", "")


def _supply(supplies: list[dict[str, Any]], gln: str) -> dict[str, Any]:
    if not supplies:
        raise _Bad("no ProductSupply/SupplyDetail")
    for s in supplies:
        if s["gln"] == gln:
            return s
    anonymous = next((s for s in supplies if s["gln"] is None), None)
    if anonymous is not None:
        return anonymous
    others = ", ".join(s["gln"] for s in supplies)
    raise _Bad(f"supplied by {others}, not by this feed's distributor {gln}")


_PRODUCT_TAGS = frozenset((f"{_Q}Product", "Product"))
_HEADER_TAGS = frozenset((f"{_Q}Header", "Header"))


def read(source: str | IO[bytes], gln_distributor: str,
         on_rejected: Callable[[Rejected], None] | None = None) -> Iterator[Notice]:
    """Every valid notice of an ONIX 3.0 file, in file order; invalid records go to `on_rejected`.

    Raises OnixError when the file itself is not ONIX 3.0 (the notices before the fault were yielded)."""
    defaults = _Defaults()
    position = 0
    events = etree.iterparse(source, events=("start", "end"),
                             tag=(f"{_Q}ONIXMessage", "ONIXMessage", f"{_Q}Header", "Header", f"{_Q}Product",
                                  "Product"),
                             resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
    root_seen = False
    try:
        for event, el in events:
            if event == "start":
                if not root_seen:
                    if _local(el.tag) != "ONIXMessage" or el.getparent() is not None:
                        raise OnixError(f"not an ONIX 3.0 message (root <{_local(el.tag)}>)")
                    release = el.get("release", "")
                    if not release.startswith("3."):
                        raise OnixError(f"ONIX release {release or 'missing'} is not 3.0")
                    root_seen = True
                continue
            tag = el.tag  # one of the six the parser stops at
            if tag in _PRODUCT_TAGS:
                position += 1
                found: dict[str, str] = {}
                try:
                    notice = _product(walk(el), gln_distributor, defaults, found)
                except _Bad as bad:
                    _reject(on_rejected, found, position, str(bad))
                except (etree.XMLSyntaxError, MemoryError):
                    raise  # the file's fault (it holds the feed) or the process's, not this record's
                except Exception as e:  # a reader bug costs its record, not the file and every file after it
                    _reject(on_rejected, found, position, f"record not readable ({type(e).__name__}: {e})")
                else:
                    yield notice
                forget(el)
            elif tag in _HEADER_TAGS:
                leaves = _leaves(el)
                defaults.currency = leaves.get("DefaultCurrencyCode") or None
                defaults.price_type = leaves.get("DefaultPriceType") or None
                forget(el)
        if not root_seen:
            raise OnixError("not an ONIX 3.0 message (no ONIXMessage root; short tags are not read)")
    except etree.XMLSyntaxError as e:
        raise OnixError(f"not well-formed XML: {e}") from None


def _reject(on_rejected: Callable[[Rejected], None] | None, found: dict[str, str], position: int,
            reason: str) -> None:
    if on_rejected:
        on_rejected(Rejected(found.get("ean") or found.get("ref") or f"record {position}", reason))


def forget(el: Any) -> None:
    """Free a processed element and the siblings before it: memory stays bounded by one product."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


# --- writing -----------------------------------------------------------------------------------------

def _el(parent: Any, name: str, text: str | None = None) -> Any:
    child = etree.SubElement(parent, _Q + name)
    if text is not None:
        child.text = text
    return child


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _constraint(parent: Any, usage: str, limits: list[tuple[int, str]], prohibited: bool = False) -> None:
    c = _el(parent, "EpubUsageConstraint")
    _el(c, "EpubUsageType", usage)
    _el(c, "EpubUsageStatus", PROHIBITED if prohibited else LIMITED)
    for qty, unit in limits if not prohibited else []:
        lim = _el(c, "EpubUsageLimit")
        _el(lim, "Quantity", str(qty))
        _el(lim, "EpubUsageUnit", unit)


def product_element(offer: Offer) -> Any:
    """One offer as an ONIX 3.0 <Product> (NotificationType 05 when removed, 03 otherwise)."""
    p = etree.Element(_Q + "Product", nsmap={None: NS})
    _el(p, "RecordReference", f"lending-hub.{offer.gln_distributor}.{offer.ean13}")
    _el(p, "NotificationType", REMOVAL if offer.removed else "03")
    for kind in ("03", "15") if offer.ean13.startswith(("978", "979")) else ("03",):
        ident = _el(p, "ProductIdentifier")
        _el(ident, "ProductIDType", kind)
        _el(ident, "IDValue", offer.ean13)
    d = _el(p, "DescriptiveDetail")
    _el(d, "ProductComposition", "00")
    _el(d, "ProductForm", "ED")
    for fmt in offer.formats:
        code = FORMAT_CODES.get(fmt, fmt.upper() if len(fmt) == 4 else None)
        if code:
            _el(d, "ProductFormDetail", code)
    t = offer.terms
    _constraint(d, PREVIEW, [(t.offsite_streams, UNIT_CONCURRENT_USERS)], prohibited=t.offsite_streams == 0)
    _constraint(d, LEND, [(t.loans, UNIT_TIMES), (t.max_loan_days, UNIT_DAYS)])
    _constraint(d, TIME_LIMITED, [(t.licence_days, UNIT_DAYS)])
    _constraint(d, MULTI_USER, [(t.downloads, UNIT_CONCURRENT_USERS)])
    _constraint(d, PREVIEW_ON_PREMISES, [(t.onsite_streams, UNIT_CONCURRENT_USERS)],
                prohibited=t.onsite_streams == 0)
    title = _el(d, "TitleDetail")
    _el(title, "TitleType", "01")
    element = _el(title, "TitleElement")
    _el(element, "TitleElementLevel", "01")
    _el(element, "TitleText", offer.title)
    for i, name in enumerate(offer.contributors, 1):
        c = _el(d, "Contributor")
        _el(c, "SequenceNumber", str(i))
        _el(c, "ContributorRole", "A01")
        _el(c, "PersonName", name)
    if offer.publisher:
        pub = _el(_el(p, "PublishingDetail"), "Publisher")
        _el(pub, "PublishingRole", "01")
        _el(pub, "PublisherName", offer.publisher)
    s = _el(_el(p, "ProductSupply"), "SupplyDetail")
    supplier = _el(s, "Supplier")
    _el(supplier, "SupplierRole", "03")
    sid = _el(supplier, "SupplierIdentifier")
    _el(sid, "SupplierIDType", "06")
    _el(sid, "IDValue", offer.gln_distributor)
    _el(s, "ProductAvailability", offer.availability)
    price = _el(s, "Price")
    _el(price, "PriceType", "04")
    _el(price, "PriceAmount", _amount(offer.price_ttc))
    tax = _el(price, "Tax")
    _el(tax, "TaxType", "01")
    if offer.tax_rate is not None:
        _el(tax, "TaxRatePercent", str(Decimal(offer.tax_rate) / 100))
    _el(tax, "TaxableAmount", _amount(offer.price_ht))
    _el(tax, "TaxAmount", _amount(offer.price_ttc - offer.price_ht))
    _el(price, "CurrencyCode", offer.currency)
    return p


def _header(sender_gln: str | None, sender_name: str, sent: datetime) -> Any:
    h = etree.Element(_Q + "Header", nsmap={None: NS})
    sender = _el(h, "Sender")
    if sender_gln:
        sid = _el(sender, "SenderIdentifier")
        _el(sid, "SenderIDType", "06")
        _el(sid, "IDValue", sender_gln)
    _el(sender, "SenderName", sender_name)
    _el(h, "SentDateTime", sent.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))
    return h


class Writer:
    """An ONIX 3.0 message written product by product to a binary file (memory: one product)."""

    def __init__(self, out: IO[bytes], sender_gln: str | None, sender_name: str, sent: datetime) -> None:
        self._stack = contextlib.ExitStack()
        self._xf = self._stack.enter_context(etree.xmlfile(out, encoding="utf-8"))
        self._xf.write_declaration()
        self._stack.enter_context(self._xf.element(_Q + "ONIXMessage", {"release": "3.0"}, nsmap={None: NS}))
        self._xf.write(_header(sender_gln, sender_name, sent))
        self.count = 0

    def add(self, offer: Offer) -> None:
        self._xf.write(product_element(offer))
        self.count += 1

    def add_element(self, product: Any) -> None:
        """A <Product> element as it is (copying a message)."""
        self._xf.write(product)
        self.count += 1

    def close(self) -> None:
        self._stack.close()


def write(out: IO[bytes], offers: Iterable[Offer], sender_gln: str | None, sender_name: str,
          sent: datetime) -> int:
    writer = Writer(out, sender_gln, sender_name, sent)
    try:
        for offer in offers:
            writer.add(offer)
    finally:
        writer.close()
    return writer.count
