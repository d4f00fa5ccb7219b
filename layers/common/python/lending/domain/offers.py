"""Offers of the catalogue: licence terms, availability (ONIX list 65) and price."""

from __future__ import annotations

from .limits import MAX_PRICE_CENTS as MAX_PRICE_CENTS  # written in domain/limits.py: the doors read them there
from .limits import MAX_TAX_RATE as MAX_TAX_RATE
from .limits import REMOVED as REMOVED
from .refusals import Reason, Refused
from .values import Value

# ONIX code list 65 (ProductAvailability): the codes the PNB spec names (its door words each).
UNAVAILABLE_CODES = frozenset({"01", "10", "30", "40", "45", "46"})
AVAILABLE_CODES = frozenset({"20", "21", "22", "23"})


# Beyond these a term is a feed's typing error: days past them would carry a licence's end out of the
# calendar, counts past them out of what the table's numbers hold.
MAX_DAYS = 36_600
MAX_COUNT = 10**9


class LicenceTerms(Value):
    """What one copy of an offer grants: accesses in total, places per pool, how long."""

    loans: int  # NTA: accesses over the licence's life
    downloads: int  # simultaneous downloads
    onsite_streams: int
    offsite_streams: int
    licence_days: int
    max_loan_days: int

    def __init__(self, loans: int, downloads: int, onsite_streams: int, offsite_streams: int, licence_days: int,
                 max_loan_days: int) -> None:
        self._init(loans, downloads, onsite_streams, offsite_streams, licence_days, max_loan_days)
        self._check()

    def _check(self) -> None:
        for name in ("loans", "downloads", "onsite_streams", "offsite_streams"):
            if not 0 <= getattr(self, name) <= MAX_COUNT:
                raise ValueError(f"{name} must be from 0 to {MAX_COUNT}")
        if not (0 < self.licence_days <= MAX_DAYS and 0 < self.max_loan_days <= MAX_DAYS):
            raise ValueError(f"licence_days and max_loan_days must be from 1 to {MAX_DAYS}")


class Offer(Value):
    ean13: str
    gln_distributor: str
    title: str
    terms: LicenceTerms
    price_ttc: int  # cents
    price_ht: int  # cents
    currency: str
    tax_rate: int | None  # 20% = 2000, as the spec writes it
    availability: str
    removed: bool
    publisher: str
    contributors: tuple[str, ...]
    formats: tuple[str, ...]
    updated_at: str

    def __init__(self, ean13: str, gln_distributor: str, title: str, terms: LicenceTerms, price_ttc: int, price_ht: int,
                 currency: str = "EUR", tax_rate: int | None = None, availability: str = "20", removed: bool = False,
                 publisher: str = "", contributors: tuple[str, ...] = (), formats: tuple[str, ...] = ("epub",),
                 updated_at: str = "") -> None:
        self._init(ean13, gln_distributor, title, terms, price_ttc, price_ht, currency, tax_rate, availability, removed,
                   publisher, contributors, formats, updated_at)

    @property
    def available(self) -> bool:
        return not self.removed and self.availability in AVAILABLE_CODES

    def unavailability(self) -> str | None:
        """Why this offer cannot be sold now: REMOVED or its availability code (one of
        UNAVAILABLE_CODES), None if it can. A code the spec does not name is refused outright:
        PRODUCT_CANNOT_BE_SOLD, as sendOrder does."""
        if self.removed:
            return REMOVED
        if self.availability in AVAILABLE_CODES:
            return None
        if self.availability not in UNAVAILABLE_CODES:
            raise Refused(Reason.CANNOT_BE_SOLD)
        return self.availability


def check_price(offer: Offer, unit_price: int, unit_price_ht: int, currency: str) -> None:
    """Price rules of sendOrder and checkAvailability.

    HT above TTC is malformed input (INVALID_ARGUMENTS). Otherwise the price must be the offer's own:
    e-book prices to libraries are set by the publisher (French fixed book price law), so a reseller
    price other than the offer's, or another currency, is INVALID_PRICE."""
    if unit_price_ht > unit_price:
        raise Refused(Reason.PRICE_HT_ABOVE_TTC)
    if currency != offer.currency or unit_price != offer.price_ttc:
        raise Refused(Reason.INVALID_PRICE)


# --- the licence models publishers use (distributor console) --------------------------------------------
# PNB counts every licence's loans, days and places, so each model is a way of filling the same terms:
# - loans per licence: so many loans within so many days (the usual "30 loans over 10 years");
# - time-limited: as many loans as wanted within the licence's days (loans at the hub's ceiling);
# - perpetual within limits: so many loans, with no end (licence days at the hub's ceiling).
# The model is read back from the terms, so ONIX offers show theirs too; nothing more is stored.
LICENCE_MODELS = ("loans", "time_limited", "perpetual")


def model_terms(model: str, loans: int, downloads: int, onsite: int, offsite: int, licence_days: int,
                max_loan_days: int) -> LicenceTerms:
    """The terms of `model` from a form's numbers (ValueError with the rule broken)."""
    if model not in LICENCE_MODELS:
        raise ValueError("unknown licence model")
    if model == "time_limited":
        loans = MAX_COUNT
    elif model == "perpetual":
        licence_days = MAX_DAYS
    if loans < 1:
        raise ValueError("loans must be at least 1")
    if downloads + onsite + offsite < 1:
        raise ValueError("a licence needs at least one download or stream place")
    terms = LicenceTerms(loans, downloads, onsite, offsite, licence_days, max_loan_days)
    if max_loan_days > licence_days:
        raise ValueError("max_loan_days cannot exceed licence_days")
    return terms


def model_of(terms: LicenceTerms) -> str:
    if terms.licence_days >= MAX_DAYS:
        return "perpetual"
    if terms.loans >= MAX_COUNT:
        return "time_limited"
    return "loans"
