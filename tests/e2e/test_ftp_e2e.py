"""End to end: the files PMB's scheduled task fetches, over a real FTP session (Python's ftplib, passive
mode) against the local stack's server, as the demo collectivity; another collectivity sees none of
them; a wrong password is refused."""

from __future__ import annotations

import ftplib
import io
from typing import Any

import pytest
import requests

from lending.catalogue import onix
from lending.local import demo
from tests.helpers import line, loan_body, order_body
from tests.pmb_reader import files_to_process, read_file

pytestmark = pytest.mark.e2e


def pnb(stack: Any, service: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(f"{stack.url}/v2/pnb-numerique/{service}", json=body, timeout=30)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    assert answer["returnStatus"] == "OK", answer
    return answer


def bought(stack: Any, ean13: str) -> str:
    answer = pnb(stack, "sendOrder", order_body(line(ean13)))
    return str(answer["orderResponseLine"][0]["orderLineId"])


def session(stack: Any, gln: str, password: str) -> ftplib.FTP:
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", stack.ftp.port, timeout=10)
    ftp.login(gln, password)
    ftp.set_pasv(True)
    return ftp


def fetch(ftp: ftplib.FTP, name: str) -> bytes:
    buf = io.BytesIO()
    ftp.retrbinary(f"RETR {name}", buf.write)
    return buf.getvalue()


def test_pmb_fetches_its_full_and_update_files(stack: Any) -> None:
    first = bought(stack, "9791000000015")
    pnb(stack, "loanBook", loan_body(first, "PMBxFTPx1"))
    stack.run_schedule("FtpFilesFunction")  # the account's first full file
    second = bought(stack, "9791000000022")
    pnb(stack, "loanBook", loan_body(second, "PMBxFTPx2", ean13="9791000000022"))
    out = stack.run_schedule("FtpFilesFunction")  # an update file: something changed
    assert any(f.endswith(".xml") and "diffusion_pnb" in f for f in out["files"]), out

    with session(stack, demo.COLL, demo.COLL_PASSWORD) as ftp:  # what PMB's get_offer_files() does
        ftp.cwd("/HUB/O/")
        fulls, diffs = ftp.nlst("full_pnb*"), ftp.nlst("diffusion_pnb*")
        assert fulls and diffs and all(n.startswith(f"full_pnb_{demo.COLL}_") for n in fulls)
        chosen = files_to_process(fulls, diffs, full_sync=True)
        assert chosen[0] == max(fulls) and len(chosen) >= 2
        read = [read_file(fetch(ftp, name)) for name in chosen]
        listing: list[str] = []
        ftp.dir(listing.append)
        assert len(listing) == len(fulls) + len(diffs)
        with pytest.raises(ftplib.error_perm, match=r"^550"):
            ftp.storbinary("STOR full_pnb_x_20990101.xml", io.BytesIO(b"<x/>"))  # read-only
        ftp.cwd(f"/HUB/ONIX/{demo.DISTRIBUTOR}")
        (catalogue,) = ftp.nlst("full_onix*")
        offers = [n for n in onix.read(io.BytesIO(fetch(ftp, catalogue)), demo.DISTRIBUTOR)]
        assert {n.ean13 for n in offers} >= {"9791000000015", "9791000000022", "9791000000039"}

    full, *updates = read
    assert first in {x["orderLineId"] for x in full["lines"]}
    newest = updates[-1]
    got = {x["orderLineId"]: x for x in newest["lines"]}
    assert {first, second} <= set(got) and {"PMBxFTPx1", "PMBxFTPx2"} <= newest["running"]
    assert got[second]["loanMaxDuration"] == ("21", "DAY") and got[second]["title"] == "Petite histoire du pret"
    names = [*fulls, *diffs]

    with session(stack, demo.COLL2, demo.COLL2_PASSWORD) as other:
        other.cwd("/HUB/O")
        assert all(demo.COLL not in n for n in other.nlst())
        for name in names[:2]:
            with pytest.raises(ftplib.error_perm, match=r"^550"):
                fetch(other, f"/HUB/O/{name}")
        for path in (f"/ftp/accounts/{demo.COLL}/O", f"/HUB/O/../../ftp/accounts/{demo.COLL}/O", "/HUB/X"):
            with pytest.raises(ftplib.error_perm, match=r"^550"):
                other.cwd(path)
        assert sorted(other.nlst("/")) == ["HUB"] and sorted(other.nlst("/HUB")) == ["O", "ONIX"]

    with pytest.raises(ftplib.error_perm, match=r"^530"):
        session(stack, demo.COLL, "wrongPassword1")
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        session(stack, demo.DISTRIBUTOR, demo.DISTRIBUTOR_PASSWORD)  # distributors have no folder
