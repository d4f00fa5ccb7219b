"""A console offer, created then edited, reaches both places a reseller reads offers from, with an injected
clock: the getOffers / getOffersForDistributor update files (through the signed link each answer gives)
and the FTP folder of the distributor's catalogue (the files job: a full file a day, an update file
within the run after a change), as seen through an account's FTP tree. A distributor without a feed
(a small publisher using only the console) gets a folder too."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from lending import clock
from lending.catalogue import console_offers, onix, updates
from lending.domain.accounts import Account, Role, hash_secret
from lending.domain.staff import Staff, StaffRole, StaffState
from lending.files import access, layout
from lending.files import ftp as ftp_files
from lending.local import demo
from lending.pnb.operations import run
from lending.services import distributor as uses
from lending.services.context import Ctx
from lending.store import accounts

pytestmark = pytest.mark.usefixtures("aws")

T0 = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)  # after the demo data's load time
EAN = "9791000000091"
FORM = {"ean13": EAN, "title": "Cartes du ciel", "price": "12.50", "currency": "EUR", "tax_rate": "550",
        "availability": "20", "model": "loans", "loans": "20", "downloads": "2", "onsite_streams": "1",
        "offsite_streams": "0", "licence_days": "1825", "max_loan_days": "28"}


def staff(gln: str) -> Staff:
    return Staff(email="x@d.example", gln_coll=gln, role=StaffRole.ADMIN, state=StaffState.ACTIVE)


def publish(gln: str, form: dict[str, str], at: datetime, creating: bool) -> None:
    with clock.frozen(at):
        console_offers.publish(Ctx(now=at), staff(gln), uses.offer_of_form(gln, form), creating)


def s3_read(key: str) -> bytes:
    return bytes(boto3.client("s3").get_object(Bucket=os.environ["BUCKET_NAME"], Key=key)["Body"].read())


def offers_in(data: bytes, gln: str) -> dict[str, Any]:
    return {n.ean13: n for n in onix.read(io.BytesIO(data), gln) if isinstance(n, onix.Offer)}


def get_offers_files(gln: str, since: datetime, at: datetime) -> dict[str, Any]:
    """What getOffersForDistributor lists since `since`, each file opened through its signed link."""
    with clock.frozen(at):
        status, answer = run("getOffersForDistributor", {
            "glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD, "glnDistributor": gln,
            "sinceDate": since.strftime("%Y-%m-%dT%H:%M:%SZ")}, Ctx(now=at, base_url="http://hub.test"))
    assert status == 200 and answer["returnStatus"] == "OK", answer
    found: dict[str, Any] = {}
    for f in answer.get("onixFileUrl", []):
        key = updates.verify_link(f["httpLinks"].rsplit("/", 1)[-1], at)
        assert key, f
        found.update(offers_in(s3_read(key), gln))
    return found


def ftp_folder(gln_account: str, password: str, gln_distributor: str) -> dict[str, bytes]:
    """The distributor's catalogue folder as the account's FTP login maps it (files.access.login)."""
    found = access.login(gln_account, password)
    assert found is not None
    prefix = dict(found.tree)[f"{layout.ONIX_DIR}/{gln_distributor}"] + "/"
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=os.environ["BUCKET_NAME"], Prefix=prefix).get("Contents", [])
    return {o["Key"][len(prefix):]: s3_read(o["Key"]) for o in listed}


def newest_update(folder: dict[str, bytes]) -> bytes:
    return folder[max(n for n in folder if n.startswith("diffusion_onix_"))]


def test_a_console_offer_and_its_edit_reach_get_offers_and_the_ftp_files() -> None:
    gln = demo.DISTRIBUTOR
    ftp_files.publish(T0)  # the day's full catalogue, before the offer exists
    folder = ftp_folder(demo.RESELLER, demo.RESELLER_PASSWORD, gln)
    assert list(folder) == [f"full_onix_{gln}_20270131.xml"] and EAN not in offers_in(folder[
        f"full_onix_{gln}_20270131.xml"], gln)

    t1 = T0 + timedelta(hours=1)
    publish(gln, FORM, t1, creating=True)
    assert get_offers_files(gln, t1 - timedelta(minutes=1), t1 + timedelta(minutes=1))[EAN].title == "Cartes du ciel"
    report = ftp_files.publish(t1 + timedelta(minutes=5))
    assert report.catalogues == [layout.onix_prefix(gln) + f"diffusion_onix_{gln}_20270201_090500.xml"]  # only its
    got = offers_in(newest_update(ftp_folder(demo.RESELLER, demo.RESELLER_PASSWORD, gln)), gln)[EAN]
    assert (got.title, got.terms.loans, got.terms.downloads, got.terms.licence_days, got.price_ttc) == \
        ("Cartes du ciel", 20, 2, 1825, 1250)
    assert ftp_files.publish(t1 + timedelta(minutes=10)).catalogues == []  # nothing changed since

    # the edit: a new title and the perpetual model, in a new update file of each kind
    t2 = t1 + timedelta(hours=2)
    publish(gln, {**FORM, "title": "Cartes du ciel (2e éd.)", "model": "perpetual"}, t2, creating=False)
    assert get_offers_files(gln, t2 - timedelta(minutes=1), t2 + timedelta(minutes=1))[EAN].title == \
        "Cartes du ciel (2e éd.)"
    ftp_files.publish(t2 + timedelta(minutes=5))
    folder = ftp_folder(demo.COLL, demo.COLL_PASSWORD, gln)  # a collectivity reads the same folder
    edited = offers_in(newest_update(folder), gln)[EAN]
    assert edited.title == "Cartes du ciel (2e éd.)" and edited.terms.licence_days == 36_600
    assert len([n for n in folder if n.startswith("diffusion_onix_")]) == 2

    # the next day's full catalogue holds the offer as edited; no update right after it
    t3 = datetime(2027, 2, 2, 0, 5, tzinfo=UTC)
    mine = [k for k in ftp_files.publish(t3).catalogues if k.startswith(layout.onix_prefix(gln))]
    assert mine == [layout.onix_prefix(gln) + f"full_onix_{gln}_20270201.xml"]
    full = offers_in(ftp_folder(demo.RESELLER, demo.RESELLER_PASSWORD, gln)[f"full_onix_{gln}_20270201.xml"], gln)
    assert full[EAN].title == "Cartes du ciel (2e éd.)"


def test_a_distributor_without_a_feed_has_its_catalogue_folder() -> None:
    small = "3010999000032"  # a small publisher: an account, the console, no ONIX feed
    accounts.save(Account(gln=small, role=Role.DISTRIBUTOR, name="Petit Editeur",
                          secret_hash=hash_secret("smallPub2027")))
    publish(small, {**FORM, "ean13": "9791000000107", "title": "Poemes"}, T0, creating=True)
    ftp_files.publish(T0 + timedelta(minutes=5))
    folder = ftp_folder(demo.RESELLER, demo.RESELLER_PASSWORD, small)
    (name,) = folder
    assert name == f"full_onix_{small}_20270131.xml"
    assert offers_in(folder[name], small)["9791000000107"].title == "Poemes"
    assert "9791000000107" in get_offers_files(small, T0 - timedelta(minutes=1), T0 + timedelta(minutes=1))
