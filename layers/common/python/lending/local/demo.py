"""The demo data of CONTRACT section 2, loaded by `make run` and by the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from ..catalogue import ingest
from ..domain.accounts import Account, Role, hash_secret
from ..domain.offers import LicenceTerms, Offer
from ..store import accounts

RESELLER, RESELLER_PASSWORD = "3012345000017", "resellerDemo2026"
RESELLER2, RESELLER2_PASSWORD = "3012345000024", "resellerTwo2026"
COLL, COLL_PASSWORD, COLL_API_KEY, COLL_CALLBACK_SECRET = "3012345000031", "collDemo2026", "v1DemoKey2026", \
    "cbDemoSecret2026"
LIBRARY = "3012345000048"
COLL2, COLL2_PASSWORD, COLL2_API_KEY = "3012345000055", "collTwo2026", "v1TwoKey2026"
CONTRACTOR = "3012345000062"
DISTRIBUTOR, DISTRIBUTOR_PASSWORD = "3010999000018", "distribDemo2026"
DISTRIBUTOR2, DISTRIBUTOR2_PASSWORD = "3010999000025", "distribTwo2026"
UNKNOWN_EAN = "9791000000077"

V1_SETTINGS = {"maxActiveLoans": 5, "maxLoansPerDay": 3, "maxLoansPerMonth": 10, "defaultLoanDays": 21}

# ean13, distributor, availability, TTC, HT, loans, downloads, on-site, off-site, licence days, max loan days
CATALOGUE = [
    ("9791000000015", DISTRIBUTOR, "20", 2400, 2275, 30, 2, 1, 1, 3650, 60, "Le Chant des rivieres"),
    ("9791000000022", DISTRIBUTOR, "20", 1500, 1422, 10, 1, 0, 0, 730, 21, "Petite histoire du pret"),
    ("9791000000039", DISTRIBUTOR, "20", 900, 853, 3, 5, 1, 1, 365, 14, "Nouvelles du quartier"),
    ("9791000000046", DISTRIBUTOR, "40", 1200, 1137, 10, 1, 0, 0, 365, 21, "Epuise"),
    ("9791000000053", DISTRIBUTOR2, "20", 3000, 2844, 50, 3, 2, 0, 1825, 30, "Atlas des bibliotheques"),
]


@cache
def _hashed(secret: str) -> str:
    """Hash each demo secret once per process (the tests load the demo data many times)."""
    return hash_secret(secret)


def accounts_list() -> list[tuple[Account, str | None]]:
    def acc(gln: str, role: Role, name: str, secret: str | None, **kw: object) -> tuple[Account, str | None]:
        return Account(gln=gln, role=role, name=name, secret_hash=_hashed(secret) if secret else None,
                       **kw), None  # type: ignore[arg-type]

    return [
        acc(RESELLER, Role.RESELLER, "Librairie Demo", RESELLER_PASSWORD),
        acc(RESELLER2, Role.RESELLER, "Librairie Deux", RESELLER2_PASSWORD),
        (Account(gln=COLL, role=Role.COLLECTIVITY, name="Reseau des mediatheques Demo",
                 secret_hash=_hashed(COLL_PASSWORD), members=(LIBRARY,),
                 callback_secret=COLL_CALLBACK_SECRET, settings=dict(V1_SETTINGS)), COLL_API_KEY),
        acc(LIBRARY, Role.LIBRARY, "Mediatheque centrale", None, parent=COLL),
        (Account(gln=COLL2, role=Role.COLLECTIVITY, name="Bibliotheques Deux", secret_hash=_hashed(COLL2_PASSWORD),
                 callback_secret="cbTwoSecret2026", settings=dict(V1_SETTINGS)), COLL2_API_KEY),
        acc(CONTRACTOR, Role.CONTRACTOR, "Prestataire SIGB", None),
        acc(DISTRIBUTOR, Role.DISTRIBUTOR, "Diffuseur Demo", DISTRIBUTOR_PASSWORD),
        acc(DISTRIBUTOR2, Role.DISTRIBUTOR, "Diffuseur Deux", DISTRIBUTOR2_PASSWORD),
    ]


def offers() -> list[Offer]:
    return [
        Offer(ean13=ean, gln_distributor=dist, title=title, availability=avail, price_ttc=ttc, price_ht=ht,
              tax_rate=550, publisher="Editions Demo",
              terms=LicenceTerms(loans=nta, downloads=dl, onsite_streams=on, offsite_streams=off,
                                 licence_days=days, max_loan_days=max_days))
        for ean, dist, avail, ttc, ht, nta, dl, on, off, days, max_days, title in CATALOGUE
    ]


def load(now: datetime | None = None) -> None:
    for account, api_key in accounts_list():
        accounts.save(account)
        if api_key:
            accounts.save_api_key(api_key, account.gln)
    ingest.apply(offers(), now or datetime.now(UTC))
    from . import epubs, mail

    epubs.load(offers())  # library API v1: the books' files, and the sender of its emails
    mail.verify_sender()
