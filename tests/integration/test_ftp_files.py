"""The FTP files on emulated AWS, over three days with an injected clock: names PMB's listing picks, the
element paths PMB's parser reads, running loans, the ONIX catalogue; and the Transfer Family login."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from lending.catalogue import onix
from lending.files import ftp as ftp_files
from lending.files import layout, pmb, transfer
from lending.local import demo
from lending.pnb.operations import run
from lending.services.context import Ctx
from tests.helpers import iso, line, loan_body, order_body
from tests.pmb_reader import files_to_process, read_file

pytestmark = pytest.mark.usefixtures("aws")
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def at(now: datetime, service: str, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = run(service, body, Ctx(now=now, base_url="http://hub.test"))
    assert status == 200 and answer["returnStatus"] == "OK", answer
    return answer


def order(now: datetime, ean13: str) -> str:
    answer = at(now, "sendOrder", order_body(line(ean13, dmd=now - timedelta(hours=1))))
    return str(answer["orderResponseLine"][0]["orderLineId"])


def folder(gln: str) -> dict[str, bytes]:
    s3 = boto3.client("s3")
    prefix = layout.account_prefix(gln)
    out = s3.list_objects_v2(Bucket=os.environ["BUCKET_NAME"], Prefix=prefix).get("Contents", [])
    return {o["Key"][len(prefix):]: s3.get_object(Bucket=os.environ["BUCKET_NAME"], Key=o["Key"])["Body"].read()
            for o in out}


def pmb_reads(files: dict[str, bytes], full_sync: bool) -> list[dict[str, Any]]:
    fulls = [n for n in files if n.startswith("full_pnb")]
    diffs = [n for n in files if n.startswith("diffusion_pnb")]
    return [read_file(files[n]) for n in files_to_process(fulls, diffs, full_sync)]


def test_full_then_updates_read_by_pmb_over_three_days() -> None:
    coll, day0, day1 = demo.COLL, "20260309", "20260310"
    line_a = order(T0, "9791000000015")
    at(T0, "loanBook", loan_body(line_a, "PMBxLOANx1", now=T0))
    report = ftp_files.publish(T0 + timedelta(minutes=1))
    assert not report.errors and len(report.catalogues) == 2
    files = folder(coll)
    assert list(files) == [f"full_pnb_{coll}_{day0}.xml"]  # a first full file, named after yesterday
    assert ftp_files.publish(T0 + timedelta(minutes=2)).summary()["files"] == []  # nothing changed

    t1 = T0 + timedelta(hours=2)
    line_b = order(t1, "9791000000022")
    at(t1, "loanBook", loan_body(line_b, "PMBxLOANx2", ean13="9791000000022", now=t1))
    ftp_files.publish(t1 + timedelta(minutes=1))
    files = folder(coll)
    update = f"diffusion_pnb_{coll}_{day1}_110100.xml"
    assert sorted(files) == [update, f"full_pnb_{coll}_{day0}.xml"]

    # PMB's full sync: the newest full, then the updates dated after it; its differential sync: the newer.
    full_sync = pmb_reads(files, full_sync=True)
    assert [sorted(x["orderLineId"] for x in f["lines"]) for f in full_sync] == [[line_a], sorted([line_a, line_b])]
    (newest,) = pmb_reads(files, full_sync=False)
    assert newest["running"] == {"PMBxLOANx1", "PMBxLOANx2"}
    got = {x["orderLineId"]: x for x in newest["lines"]}
    a = got[line_a]
    assert a["orderDate"] == iso(T0 - timedelta(hours=1)) and a["nbLoans"] == "30"
    assert a["loanMaxDuration"] == ("60", "DAY") and a["offerValidity"] == ("3650", "DAY")
    assert (a["loanNbSimultaneousUsers"], a["consultNbSimultaneousUsersInSitu"],
            a["consultNbSimultaneousUsersExSitu"]) == ("2", "1", "1")
    assert a["ean"] == "9791000000015" and a["title"] == "Le Chant des rivieres"
    assert a["product"].startswith("<Product><RecordReference>") and a["orderId"]
    assert got[line_b]["nbLoans"] == "10" and got[line_b]["loanMaxDuration"] == ("21", "DAY")

    # Just after midnight: the full file of the day that ended; no update right after it.
    t2 = datetime(2026, 3, 11, 0, 2, tzinfo=UTC)
    ftp_files.publish(t2)
    files = folder(coll)
    assert f"full_pnb_{coll}_{day1}.xml" in files and len(files) == 3
    (newest,) = pmb_reads(files, full_sync=False)
    assert {x["orderLineId"] for x in newest["lines"]} == {line_a, line_b}
    assert newest["running"] == {"PMBxLOANx1", "PMBxLOANx2"}

    # A loan ends early: the next update no longer lists it (PMB then drops it), the other still runs.
    t3 = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    at(t3, "endLoan", {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD,
                       "orderLineId": line_a, "loanId": "PMBxLOANx1"})
    ftp_files.publish(t3 + timedelta(minutes=1))
    files = folder(coll)
    last = f"diffusion_pnb_{coll}_20260311_080100.xml"
    assert last in files
    (newest,) = pmb_reads(files, full_sync=False)
    assert newest["running"] == {"PMBxLOANx2"}  # one loan: written twice, so PMB iterates a list
    assert files[last].count(b"<loanId>PMBxLOANx2</loanId>") == 2
    assert {x["orderLineId"] for x in newest["lines"]} == {line_a, line_b}  # ordered since 10 March

    # The other tenants: the reseller's file holds its sales, the second collectivity has nothing of these.
    reseller = folder(demo.RESELLER)
    (sold,) = pmb_reads(reseller, full_sync=False)
    assert {x["orderLineId"] for x in sold["lines"]} == {line_a, line_b} and not sold["has_loan_list"]
    other = folder(demo.COLL2)
    assert other and all(line_a.encode() not in body and line_b.encode() not in body for body in other.values())


def test_onix_catalogue_in_full_once_a_day() -> None:
    ftp_files.publish(T0)
    s3, bucket = boto3.client("s3"), os.environ["BUCKET_NAME"]
    key = layout.onix_prefix(demo.DISTRIBUTOR) + f"full_onix_{demo.DISTRIBUTOR}_20260309.xml"
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    offers = [n for n in onix.read(io.BytesIO(body), demo.DISTRIBUTOR) if isinstance(n, onix.Offer)]
    expected = {o.ean13 for o in demo.offers() if o.gln_distributor == demo.DISTRIBUTOR}
    assert {o.ean13 for o in offers} == expected and len(offers) == len(expected)
    assert ftp_files.publish(T0 + timedelta(hours=1)).catalogues == []  # one a day
    assert len(ftp_files.publish(T0 + timedelta(days=1)).catalogues) == 2


def test_update_file_content_is_pmb_shaped() -> None:
    """One offer, one line, no loan: PMB's single-element readings ($offers['offer'] not a list)."""
    line_id = order(T0, "9791000000039")
    ftp_files.publish(T0 + timedelta(minutes=1))
    (name,) = folder(demo.COLL)
    (read,) = pmb_reads(folder(demo.COLL), full_sync=True)
    assert [x["orderLineId"] for x in read["lines"]] == [line_id] and not read["has_loan_list"]
    assert pmb.name_day(name) == "20260309"


def event(user: str, password: str, protocol: str = "FTP") -> dict[str, Any]:
    return {"username": user, "password": password, "protocol": protocol, "serverId": "s-1", "sourceIp": "1.2.3.4"}


def test_transfer_family_login_jails_each_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTP_ACCESS_ROLE_ARN", "arn:aws:iam::000000000000:role/ftp-read")
    bucket = os.environ["BUCKET_NAME"]
    ok = transfer.answer(event(demo.COLL, demo.COLL_PASSWORD))
    assert ok["Role"].endswith("role/ftp-read") and ok["HomeDirectoryType"] == "LOGICAL"
    tree = {e["Entry"]: e["Target"] for e in json.loads(ok["HomeDirectoryDetails"])}
    assert tree == {"/HUB/O": f"/{bucket}/ftp/accounts/{demo.COLL}/O",
                    f"/HUB/ONIX/{demo.DISTRIBUTOR}": f"/{bucket}/ftp/onix/{demo.DISTRIBUTOR}",
                    f"/HUB/ONIX/{demo.DISTRIBUTOR2}": f"/{bucket}/ftp/onix/{demo.DISTRIBUTOR2}"}
    other = json.loads(transfer.answer(event(demo.COLL2, demo.COLL2_PASSWORD, "SFTP"))["HomeDirectoryDetails"])
    assert other[0] == {"Entry": "/HUB/O", "Target": f"/{bucket}/ftp/accounts/{demo.COLL2}/O"}
    assert transfer.answer(event(demo.RESELLER, demo.RESELLER_PASSWORD, "FTPS"))["Role"]
    assert transfer.answer(event(demo.COLL, "wrongPassword1")) == {}
    assert transfer.answer(event(demo.DISTRIBUTOR, demo.DISTRIBUTOR_PASSWORD)) == {}  # no folder of its own
    assert transfer.answer(event(demo.COLL, "")) == {}  # SFTP key-only logins: the hub has no keys
    assert transfer.answer(event(demo.COLL, demo.COLL_PASSWORD, "HTTP")) == {}
    assert transfer.answer(event("../" + demo.COLL, demo.COLL_PASSWORD)) == {}
