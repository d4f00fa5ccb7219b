"""The demo data of CONTRACT section 2, loaded by `make run` and by the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from ..domain.accounts import Account, Role, hash_secret
from ..domain.offers import Offer
from ..store import accounts, lending_systems

RESELLER, RESELLER_PASSWORD = "3012345000017", "resellerDemo2026"
RESELLER2, RESELLER2_PASSWORD = "3012345000024", "resellerTwo2026"
COLL, COLL_PASSWORD, COLL_API_KEY, COLL_CALLBACK_SECRET = "3012345000031", "collDemo2026", "v1DemoKey2026", \
    "cbDemoSecret2026"
LIBRARY = "3012345000048"
COLL2, COLL2_PASSWORD, COLL2_API_KEY = "3012345000055", "collTwo2026", "v1TwoKey2026"
LENDING_SYSTEM = "SIGB42"  # registered with the platform: warehouse loans may bill their DRM fee to it
CONTRACTOR = "3012345000062"
DISTRIBUTOR, DISTRIBUTOR_PASSWORD = "3010999000018", "distribDemo2026"
DISTRIBUTOR2, DISTRIBUTOR2_PASSWORD = "3010999000025", "distribTwo2026"
UNKNOWN_EAN = "9791000000077"

# Library console: the network admin of each demo collectivity (TOTP secrets known, for trying it out
# and for the browser tests; any RFC 6238 app takes them) and a staff member of the member library.
CONSOLE_PASSWORD = "consoleDemo2026"
STAFF = [  # email, collectivity, role, member library, TOTP secret (base32)
    ("admin@mediatheques-demo.example", COLL, "admin", None, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
    ("staff@mediatheques-demo.example", COLL, "staff", LIBRARY, "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"),
    ("admin@bibliotheques-deux.example", COLL2, "admin", None, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
    # distributor console: one per demo distributor (their organisation's GLN in place of a collectivity)
    ("admin@diffuseur-demo.example", DISTRIBUTOR, "admin", None, "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK"),
    ("admin@diffuseur-deux.example", DISTRIBUTOR2, "admin", None, "ONSWG4TFORZWK3TUONSWG4TFORZWK3TU"),
    # reseller console (its daily summary): the demo reseller's
    ("admin@librairie-demo.example", RESELLER, "admin", None, "NRUWE4TBNFZGSZLENRUWE4TBNFZGSZLE"),
]

# Daily exportation summary: one subscriber of each kind (mails go to the local mail catcher).
SUMMARY_SUBSCRIBERS = [  # gln, role, email, language, time zone
    (DISTRIBUTOR, "distributor", "exports@diffuseur-demo.example", "fr", "Europe/Paris"),
    (RESELLER, "reseller", "compta@librairie-demo.example", "en", "Europe/Paris"),
    (COLL, "collectivity", "admin@mediatheques-demo.example", "fr", "Europe/Paris"),
]

V1_SETTINGS = {"maxActiveLoans": 5, "maxLoansPerDay": 3, "maxLoansPerMonth": 10, "defaultLoanDays": 21}

# The catalogue of CONTRACT section 2, as the table states it. The hub loads it from the ONIX files of
# demo_onix/ (one per distributor) through the catalogue sync; tests prove the two agree.
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


ONIX_DIR = Path(__file__).with_name("demo_onix")
FEED_PREFIX = "feeds/{gln}/"
DEMO_FILE = "0000-demo-catalogue.xml"  # sorts before timestamp-named files added later


@cache
def _parsed() -> tuple[Offer, ...]:
    from ..catalogue import onix

    found: list[Offer] = []
    for gln in (DISTRIBUTOR, DISTRIBUTOR2):
        found.extend(n for n in onix.read(str(ONIX_DIR / f"{gln}.xml"), gln) if isinstance(n, Offer))
    return tuple(found)


def offers() -> list[Offer]:
    """The demo offers as read from the demo ONIX files."""
    return list(_parsed())


def load_catalogue(now: datetime) -> None:
    """Each demo distributor's feed is an S3 prefix of the stack's bucket; the demo ONIX file is put there
    and taken in by the same sync as any distributor's files."""
    import os

    import boto3

    from ..catalogue import sync
    from ..store import catalogue as feeds

    s3, bucket = boto3.client("s3"), os.environ["BUCKET_NAME"]
    for gln in (DISTRIBUTOR, DISTRIBUTOR2):
        prefix = FEED_PREFIX.format(gln=gln)
        feed = feeds.Feed(gln_distributor=gln, kind="s3", bucket=bucket, prefix=prefix)
        feeds.save_feed(feed)
        s3.put_object(Bucket=bucket, Key=prefix + DEMO_FILE, Body=(ONIX_DIR / f"{gln}.xml").read_bytes(),
                      ContentType="application/xml")
        report = sync.sync_feed(feed, now, s3=s3)
        if report.error or report.held or report.rejected_count or report.busy:
            raise RuntimeError(f"demo catalogue of {gln} did not load: {report.summary()}")


@cache
def _console_hash() -> str:
    from ..services.staff import hash_password

    return hash_password(CONSOLE_PASSWORD)


def load_staff() -> None:
    from ..domain.staff import Staff, StaffRole, StaffState
    from ..store import staff

    for email, coll, role, library, secret in STAFF:
        staff.save(Staff(email=email, gln_coll=coll, role=StaffRole(role), state=StaffState.ACTIVE, library=library,
                         password_hash=_console_hash(), totp_secret=secret))


DEMO_PATRON, DEMO_PATRON_EMAIL = "jsmith", "jsmith@example.org"


def lend_demo_patron(base_url: str) -> list[str]:
    """`make run` only: licences of two titles for the demo collectivity and a v1 loan of each to patron
    jsmith (a download, and a streaming loan to read online), so the console has a patron to find and
    the patron space loans to show. Returns the loan ids."""
    import json
    import urllib.request
    from datetime import timedelta

    def post(path: str, body: dict[str, object], headers: dict[str, str] | None = None) -> dict[str, object]:
        request = urllib.request.Request(base_url + path, json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", **(headers or {})})
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read()))

    dmd = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    prices = {o.ean13: (o.price_ttc, o.price_ht) for o in offers()}
    eans = ("9791000000015", "9791000000039")
    post("/v2/pnb-numerique/sendOrder", {
        "glnReseller": RESELLER, "passwordReseller": RESELLER_PASSWORD, "glnColl": COLL, "orderId": "DEMOCONSOLE1",
        "orderIdColl": "DEMOCONSOLE", "resellerCountry": "FR", "collCountry": "FR",
        "orderRequestLine": [{"ean13": e, "glnDistributor": DISTRIBUTOR, "unitPrice": prices[e][0],
                              "unitPriceExcludingTax": prices[e][1], "currency": "EUR", "quantity": 1,
                              "dmdDate": dmd} for e in eans]})
    downloaded = str(post(f"/v1/media/{eans[0]}/loans.json", {"member_id": DEMO_PATRON, "email": DEMO_PATRON_EMAIL},
                          {"X-Api-Key": COLL_API_KEY})["id"])
    # The second is a streaming loan (off-site), read online in the patron space: the same v1 use case
    # from the streaming pool (the v1 door itself lends downloads).
    from ..domain.licences import Pool
    from ..services import patron_loans
    from ..services.context import Ctx

    coll = accounts.get(COLL)
    assert coll is not None
    streamed, _ = patron_loans.create(Ctx(base_url=base_url), coll,
                                      patron_loans.NewLoan(DEMO_PATRON, eans[1], pool=Pool.OFFSITE))
    return [downloaded, streamed.loan_id]


def demo_patron_key() -> str:
    """The demo patron's password in the patron space: their API key, as the console shows it."""
    from ..services.console import derive_patron_key
    from ..store import staff

    return derive_patron_key(COLL, DEMO_PATRON, staff.patron_key_generation(COLL, DEMO_PATRON))


def print_codes() -> None:
    """The demo staff's current TOTP codes (what their authenticator app would show)."""
    import pyotp

    for email, _, _, _, secret in STAFF:
        print(f"{email:40} {pyotp.TOTP(secret).now()}")


def load(now: datetime | None = None) -> None:
    from ..store import settings

    for account, api_key in accounts_list():
        accounts.save(account)
        if api_key:
            accounts.save_api_key(api_key, account.gln)
            settings.record_api_key(account.gln, api_key)
    load_staff()
    from ..store import summary

    for gln, role, email, lang, tz in SUMMARY_SUBSCRIBERS:
        summary.subscribe(summary.Subscription(gln, role, email, lang, tz))
    load_catalogue(now or datetime.now(UTC))
    lending_systems.register(LENDING_SYSTEM, "Demo lending system", now or datetime.now(UTC))
    from . import epubs, mail

    epubs.load(offers())  # library API v1: the books' files, and the sender of its emails
    mail.verify_sender()
