"""getOffers and getOffersForDistributor on emulated AWS: every return code, the lastConnection rules,
distributor access, and the signed links to the update files."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from lending.catalogue import onix, updates
from lending.domain.accounts import Role
from lending.local import demo
from lending.pnb import operations
from lending.pnb.refusals import fields as refusal_fields
from lending.services import auth
from lending.services.context import Ctx
from lending.store import accounts
from lending.store import catalogue as store
from lending.validation import Request
from tests.helpers import invoke, iso, pnb

pytestmark = pytest.mark.usefixtures("aws")

RESELLER = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD}
COLL = {"glnReseller": demo.COLL, "passwordReseller": demo.COLL_PASSWORD}


def recent() -> str:
    return iso(datetime.now(UTC) - timedelta(days=1))


def links(answer: dict[str, Any]) -> list[str]:
    assert answer["returnStatus"] == "OK", answer
    return [x["httpLinks"] for x in answer.get("onixFileUrl", [])]


def download(link: str) -> list[onix.Notice]:
    """Open a link as a client would: the hub's 302, then the presigned S3 URL it points at."""
    path = urlsplit(link).path
    status, _ = invoke("GET", path)
    assert status == 302
    from lending.local import functions, template

    fns = template.functions(template.load())
    result = functions.invoke(
        fns["CatalogueOnixFileFunction"], {"pathParameters": {"token": path.rsplit("/", 1)[1]}}
    )
    target = urlsplit(result["headers"]["Location"])
    assert parse_qs(target.query)["X-Amz-Expires"] == ["300"]
    bucket, key = os.environ["BUCKET_NAME"], target.path.split(f"/{os.environ['BUCKET_NAME']}/", 1)[-1]
    if target.netloc.startswith(bucket):  # virtual-hosted style
        key = target.path.lstrip("/")
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return list(onix.read(io.BytesIO(body), key.split("/")[2]))


def test_since_date_answers_links_to_every_allowed_distributor_file() -> None:
    answer = pnb("getOffers", {**RESELLER, "sinceDate": recent()})
    got = links(answer)
    assert len(got) == 2 and all(u.startswith("http://hub.test/catalogue/onix/") for u in got)
    assert "noNotice" not in answer
    eans = sorted(n.ean13 for u in got for n in download(u))
    assert eans == sorted(e for e, *_ in demo.CATALOGUE)
    unavailable = next(n for u in got for n in download(u) if n.ean13 == "9791000000046")
    assert isinstance(unavailable, onix.Offer) and unavailable.availability == "40"


def test_for_distributor_answers_its_files_only_and_collectivities_may_call() -> None:
    answer = pnb(
        "getOffersForDistributor", {**COLL, "glnDistributor": demo.DISTRIBUTOR2, "sinceDate": recent()}
    )
    (link,) = links(answer)
    assert [n.ean13 for n in download(link)] == ["9791000000053"]


def test_no_notice_when_nothing_was_published_since() -> None:
    future = iso(datetime.now(UTC) + timedelta(hours=1))
    answer = pnb("getOffers", {**RESELLER, "sinceDate": future})
    assert {k: v for k, v in answer.items() if k != "requestId"} == {"noNotice": "", "returnStatus": "OK"}
    answer = pnb(
        "getOffersForDistributor", {**RESELLER, "glnDistributor": demo.DISTRIBUTOR, "sinceDate": future}
    )
    assert answer["noNotice"] == "" and "onixFileUrl" not in answer and answer["returnStatus"] == "OK"


@pytest.mark.parametrize(
    ("service", "body", "status", "message"),
    [
        (
            "getOffers",
            {"sinceDate": iso(datetime.now(UTC) - timedelta(days=8, minutes=1))},
            "DATE_TOO_OLD",
            "The date can't be older than 8 days",
        ),
        (
            "getOffers",
            {},
            "INVALID_ARGUMENTS",
            "One of the parameters sinceDate or lastConnection is mandatory",
        ),
        (
            "getOffers",
            {"sinceDate": iso(datetime.now(UTC)), "lastConnection": ""},
            "INVALID_ARGUMENTS",
            "The parameters sinceDate and lastConnection cannot be used together",
        ),
        ("getOffers", {"sinceDate": "2026-01-05"}, "INVALID_ARGUMENTS", None),
        (
            "getOffers",
            {"lastConnection": ""},
            "ACCES_DENIED",
            "Not available for the moment, please contact DILICOM. Catalog can be provided by FTP",
        ),
        (
            "getOffersForDistributor",
            {"glnDistributor": "3010999000032", "sinceDate": iso(datetime.now(UTC))},
            "UNKNOWN_GLN",
            "Unsupported GlnDistributeur",
        ),
        (
            "getOffersForDistributor",
            {"glnDistributor": demo.RESELLER2, "sinceDate": iso(datetime.now(UTC))},
            "UNKNOWN_GLN",
            "Unsupported GlnDistributeur",
        ),
        (
            "getOffersForDistributor",
            {"glnDistributor": "3010999000019", "sinceDate": iso(datetime.now(UTC))},
            "INVALID_ARGUMENTS",
            None,
        ),
        (
            "getOffersForDistributor",
            {"glnDistributor": demo.DISTRIBUTOR, "lastConnection": ""},
            "ACCES_DENIED",
            "Not available for the moment, please contact DILICOM. Catalog can be provided by FTP",
        ),
        (
            "getOffersForDistributor",
            {
                "glnDistributor": demo.DISTRIBUTOR,
                "sinceDate": iso(datetime.now(UTC)),
                "glnContractor": demo.RESELLER2,
            },
            "INVALID_ARGUMENTS",
            None,
        ),
    ],
)
def test_return_codes(service: str, body: dict[str, Any], status: str, message: str | None) -> None:
    answer = pnb(service, {**RESELLER, **body})
    assert answer["returnStatus"] == status, answer
    if message is not None:
        assert answer["returnMessage"] == message


def test_authentication_and_roles() -> None:
    bad = pnb("getOffers", {**RESELLER, "passwordReseller": "wrong1", "sinceDate": recent()})
    assert (bad["returnStatus"], bad["returnMessage"]) == ("AUTHENTICATION_ERROR", "Bad credentials")
    distributor = pnb(
        "getOffers",
        {
            "glnReseller": demo.DISTRIBUTOR,
            "passwordReseller": demo.DISTRIBUTOR_PASSWORD,
            "sinceDate": recent(),
        },
    )
    # A genuine account without the right to this service (spec, base codes): ACCES_DENIED.
    assert (distributor["returnStatus"], distributor["returnMessage"]) == ("ACCES_DENIED", "Authorization failure")
    wrong = pnb("getOffers", {"glnReseller": demo.DISTRIBUTOR, "passwordReseller": "wrong1", "sinceDate": recent()})
    assert wrong["returnStatus"] == "AUTHENTICATION_ERROR"  # the password first: a role is never revealed


def test_a_caller_only_gets_the_distributors_it_may_order_from() -> None:
    reseller = accounts.get(demo.RESELLER2)
    assert reseller is not None and reseller.role is Role.RESELLER
    reseller.distributors = (demo.DISTRIBUTOR2,)
    accounts.save(reseller)
    auth.forget()
    caller = {"glnReseller": demo.RESELLER2, "passwordReseller": demo.RESELLER2_PASSWORD}
    denied = pnb(
        "getOffersForDistributor", {**caller, "glnDistributor": demo.DISTRIBUTOR, "sinceDate": recent()}
    )
    assert (denied["returnStatus"], denied["returnMessage"]) == (
        "ACCES_DENIED",
        "You don't have Access to this Platform",
    )
    (link,) = links(pnb("getOffers", {**caller, "sinceDate": recent()}))
    assert [n.ean13 for n in download(link)] == ["9791000000053"]


def _call(service: str, now: datetime, **fields: Any) -> dict[str, Any]:
    """The use case through the PNB door's mapping, with an injected clock (the 24-hour window is not waited for)."""
    caller = auth.authenticate(demo.RESELLER, demo.RESELLER_PASSWORD, (Role.RESELLER,))
    req = Request({"glnContractor": None, "sinceDate": None, "lastConnection": None, "glnDistributor": None})
    req.update(fields)
    fn = operations.get_offers if service == "getOffers" else operations.get_offers_for_distributor
    try:
        return fn(Ctx(now=now, base_url="http://hub.test"), caller, req)
    except updates.Refused as r:
        return refusal_fields(r)


def test_last_connection_gives_what_was_published_since_the_previous_call_five_times_a_day() -> None:
    t0 = datetime.now(UTC) + timedelta(minutes=2)  # past the overlap with the demo files just published
    assert _call("getOffers", t0, sinceDate=t0 - timedelta(days=1))["onixFileUrl"]
    # Nothing new since: noNotice; a file published later comes with the next call.
    assert _call("getOffers", t0 + timedelta(minutes=5), lastConnection="") == {
        "noNotice": "",
        "returnStatus": "OK",
    }
    store.add_update_file(
        store.UpdateFile(
            demo.DISTRIBUTOR,
            iso(t0 + timedelta(minutes=7)),
            "later.xml",
            f"onix/updates/{demo.DISTRIBUTOR}/later.xml",
            1,
        )
    )
    later = _call("getOffers", t0 + timedelta(minutes=10), lastConnection="")
    assert [u.startswith("http://hub.test/catalogue/onix/") for u in links(later)] == [True]
    assert _call("getOffers", t0 + timedelta(minutes=15), lastConnection="")["noNotice"] == ""
    for minutes in (20, 25):
        assert _call("getOffers", t0 + timedelta(minutes=minutes), lastConnection="")["returnStatus"] == "OK"
    sixth = _call("getOffers", t0 + timedelta(minutes=30), lastConnection="")
    assert sixth == {
        "returnStatus": "ACCES_DENIED",
        "returnMessage": "Only 5 last connection requests are allowed within the previous 24 hours",
    }
    # sinceDate calls are not counted; the window slides: 24 hours after the first counted call, one more.
    assert _call("getOffers", t0 + timedelta(minutes=31), sinceDate=t0)["returnStatus"] == "OK"
    assert (
        _call("getOffers", t0 + timedelta(hours=24, minutes=4), lastConnection="")["returnStatus"]
        == "ACCES_DENIED"
    )
    assert _call("getOffers", t0 + timedelta(hours=24, minutes=6), lastConnection="")["returnStatus"] == "OK"
    # The count is per service: getOffersForDistributor has its own (after its own first sinceDate call).
    assert _call(
        "getOffersForDistributor",
        t0 + timedelta(minutes=32),
        glnDistributor=demo.DISTRIBUTOR,
        lastConnection="",
    )["returnMessage"].startswith("Not available for the moment")
    _call(
        "getOffersForDistributor", t0 + timedelta(minutes=33), glnDistributor=demo.DISTRIBUTOR, sinceDate=t0
    )
    assert (
        _call(
            "getOffersForDistributor",
            t0 + timedelta(minutes=34),
            glnDistributor=demo.DISTRIBUTOR,
            lastConnection="",
        )["returnStatus"]
        == "OK"
    )


def test_links_are_signed_and_expire_after_ten_days() -> None:
    (link,) = links(
        pnb(
            "getOffersForDistributor", {**RESELLER, "glnDistributor": demo.DISTRIBUTOR, "sinceDate": recent()}
        )
    )
    token = urlsplit(link).path.rsplit("/", 1)[1]
    now = datetime.now(UTC)
    # Valid at least 10 days, at most 10 days and an hour (rounded up to the hour: a stable link).
    assert updates.verify_link(token, now + timedelta(days=10)) is not None
    assert updates.verify_link(token, now + timedelta(days=10, hours=1, minutes=1)) is None
    raw, sig = token.split(".")
    assert updates.verify_link(f"{raw}.{sig[:-2]}AA", now) is None
    assert updates.verify_link("garbage", now) is None
    status, body = invoke("GET", "/catalogue/onix/" + raw + ".AAAA")
    assert status == 403 and body == {"errors": ["This link is invalid or has expired."]}
