"""PMB's PNB connector on the wire, over HTTP against the local stack.

The requests are built byte for byte as PMB builds them (classes/pnb/dilicom.class.php over
classes/curl.class.php): POST to `<dilicom_url><service>`, `Authorization: Basic` with the library's GLN,
the header `Content-Type:application/json` over a body that is PHP's http_build_query() of the parameters
(a form, `orderLineId%5B0%5D=`), `glnContractor` = its own GLN first in every call, loan ends as PHP's
DateTime::ISO8601 (`+0100`), loan ids `<patron>x<item>x<Ymd>`, DRMinfo.* and userInfo.*. The answers are
read the way PMB reads them: `loanResponseLine[0].nta` / `.nus1`, `pnbLoanList[].loanId` / `.endLoanDate`,
`returnStatus`, `link.url`, `protection`; and the early return reaches PMB's `s.php?h=<hash>`."""

from __future__ import annotations

import base64
import http.client
import json
import re
import secrets
import socket
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote_plus, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from lending.local import demo
from lending.local.receiver import Receiver
from lending.store import loans as loan_store
from tests.helpers import line, order_body

pytestmark = pytest.mark.e2e
PARIS = ZoneInfo("Europe/Paris")  # PMB's server time


def http_build_query(params: dict[str, Any]) -> str:
    """PHP's http_build_query($params, '', '&'): urlencode() (spaces as +, ~ encoded), arrays as key[i],
    null values left out."""
    def enc(text: str) -> str:
        return quote_plus(text, safe="").replace("~", "%7E")

    out: list[str] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list):
            out += [f"{enc(f'{key}[{i}]')}={enc(str(v))}" for i, v in enumerate(value) if v is not None]
        else:
            out.append(f"{enc(key)}={enc(str(value))}")
    return "&".join(out)


class Pmb:
    """PMB's `dilicom` class: its parameters, its curl options, its reading of the answers."""

    def __init__(self, dilicom_url: str, login: str, password: str) -> None:
        self.url, self.login, self.password = dilicom_url, login, password
        self.sent: list[bytes] = []

    def query(self, function: str, parameters: dict[str, Any] | None = None) -> Any:
        params = {"glnContractor": self.login, **(parameters or {})}  # array_merge($this->parameters, $parameters)
        body = http_build_query(params).encode()
        target = urlsplit(self.url + function)
        credentials = base64.b64encode(f"{self.login}:{self.password}".encode()).decode()
        head = (f"POST {target.path} HTTP/1.1\r\n"
                f"Host: {target.netloc}\r\n"
                f"Authorization: Basic {credentials}\r\n"  # CURLOPT_HTTPAUTH BASIC + CURLOPT_USERPWD
                "User-Agent: Curl/PHP 8.2.28 (http://github.com/shuber/curl/)\r\n"
                "Accept: */*\r\n"
                "Content-Type:application/json\r\n"  # CURLOPT_HTTPHEADER, as PMB writes it
                f"Content-Length: {len(body)}\r\n\r\n")
        self.sent.append(body)
        with socket.create_connection((target.hostname or "", target.port or 80), timeout=10) as sock:
            sock.sendall(head.encode() + body)
            response = http.client.HTTPResponse(sock)
            response.begin()
            payload = response.read()
        # dilicom::query keeps the body only on a 200, else '{}'; then json_decode($response, true).
        return json.loads(payload) if response.status == 200 else {}

    def get_loan_status(self, order_line_ids: list[str], return_ended_loan: int = 0) -> Any:
        return self.query("getLoanStatus", {"glnColl": self.login, "passwordColl": self.password,
                                            "orderLineId": order_line_ids, "returnEndedLoan": return_ended_loan})

    def get_devices(self) -> list[Any]:
        """pnb::get_devices: $dilicom->query('getUserAgent') (no parameter of its own: glnContractor alone, the
        credentials in Basic), listUserAgent keyed by appName and sorted by it."""
        data = self.query("getUserAgent")
        return [d for _, d in sorted((d["appName"], d) for d in data["listUserAgent"])]

    def return_loan(self, order_line_id: str, loan_id: str) -> Any:
        """dilicom::returnLoan: login/password in the parameters as well as in Basic."""
        return self.query("returnLoan", {"login": self.login, "password": self.password,
                                         "glnContractor": self.login, "loanId": loan_id,
                                         "orderLineId": order_line_id})

    def extend_loan(self, order_line_id: str, loan_id: str, new_loan_end_date: str) -> Any:
        """dilicom::extendLoan; then PMB overwrites the answer's loanEndDate with its own date as d/m/Y."""
        response = self.query("extendLoan", {"login": self.login, "password": self.password,
                                             "glnContractor": self.login, "loanId": loan_id,
                                             "orderLineId": order_line_id, "date": new_loan_end_date})
        return {**response, "loanEndDate": datetime.strptime(new_loan_end_date, "%Y-%m-%dT%H:%M:%S%z")
                .strftime("%d/%m/%Y")} if isinstance(response, dict) else response

    @staticmethod
    def pret_retour(days: int) -> date:
        """The loan's return date PMB keeps (pret.pret_retour, a DATE) and sends as loanEndDate."""
        return datetime.now(PARIS).date() + timedelta(days=days + 1)

    @staticmethod
    def new_loan_end_date(pret_retour: date, days: int) -> str:
        """pnb::get_new_loan_end_date: new DateTime(pret_retour) (midnight, server time), add P<days>D,
        format(DateTime::ISO8601): `2026-12-28T00:00:00+0100`."""
        return (datetime.combine(pret_retour, time(), PARIS) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S%z")

    def loan_book(self, order_line_id: str, ean13: str, patron: int, item: int, callback_url: str,
                  days: int, user_agent: str | None = None) -> Any:
        end = datetime.combine(self.pret_retour(days), time(), PARIS)  # new DateTime($date_retour)
        return self.query("loanBook", {
            "glnLoaner": self.login, "glnContractor": self.login, "orderLineId": order_line_id,
            "loanId": f"{patron}x{item}x{datetime.now(PARIS):%Y%m%d}", "ean13": ean13,
            "accessMedium": "DOWNLOAD", "localization": "EX_SITU",
            "loanEndDate": end.strftime("%Y-%m-%dT%H:%M:%S%z"),  # DateTime::ISO8601: 2026-12-14T00:00:00+0100
            "callbackUrl": callback_url,
            "DRMinfo.userAgent": user_agent,  # NULL when the patron chose no device: left out of the body
            "DRMinfo.readerPass": base64.b64encode(secrets.token_bytes(32)).decode(),  # sha256 raw, base64
            "DRMinfo.readerHint": "hint", "DRMinfo.readerId": f"CB{patron:06d}",
            "DRMinfo.extendUrl": callback_url.replace("h=", "h=ext"),
            "userInfo.year": 1950 + secrets.randbelow(61), "userInfo.gender": "F"})

    # What PMB's classes read from the answers.
    @staticmethod
    def nta(status: Any) -> Any:  # pnb_record_orders::get_loans_completed_number
        lines = status.get("loanResponseLine")
        return lines[0].get("nta") if isinstance(lines, list) and lines else None

    @staticmethod
    def nus1(status: Any) -> Any:  # pnb_record_orders::get_loans_in_progress
        lines = status.get("loanResponseLine")
        return lines[0].get("nus1") if isinstance(lines, list) and lines else None


@pytest.fixture
def pmb(stack: Any) -> Pmb:
    return Pmb(f"{stack.url}/v2/pnb-numerique/json/", demo.COLL, demo.COLL_PASSWORD)


def bought(stack: Any) -> str:
    """The reseller's order (not PMB's part): one licence of 9791000000015 for the demo library."""
    r = requests.post(f"{stack.url}/v2/pnb-numerique/sendOrder", json=order_body(line()), timeout=30)
    answer = r.json()
    assert answer["returnStatus"] == "OK", answer
    return str(answer["orderResponseLine"][0]["orderLineId"])


def test_pmb_reads_the_counters_it_lends_against(stack: Any, pmb: Pmb) -> None:
    lid = bought(stack)
    status = pmb.get_loan_status([lid])
    assert pmb.sent[-1].startswith(f"glnContractor={demo.COLL}&glnColl={demo.COLL}&passwordColl=".encode())
    assert f"orderLineId%5B0%5D={lid}&returnEndedLoan=0".encode() in pmb.sent[-1]
    assert status["returnStatus"] == "OK"
    # With NTA in upper case PMB would read nothing: "no token left", and it would refuse to lend.
    assert (pmb.nta(status), pmb.nus1(status)) == (30, 2)
    assert "pnbLoanList" not in status["loanResponseLine"][0]


def test_pmb_lends_and_the_early_return_reaches_s_php(stack: Any, pmb: Pmb) -> None:
    lid = bought(stack)
    patron, item = 12, 3000 + secrets.randbelow(6000)
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as opac:
        hash_ = secrets.token_hex(8)
        callback = f"{opac.url}/s.php?h={hash_}"  # $opac_url_base."s.php?h=".$return_hash
        loan = pmb.loan_book(lid, "9791000000015", patron, item, callback, days=21)
        sent = pmb.sent[-1].decode()
        assert re.search(r"loanEndDate=\d{4}-\d\d-\d\dT00%3A00%3A00%2B0[12]00&", sent), sent  # basic offset
        assert "DRMinfo.readerId=" in sent and "DRMinfo.userAgent" not in sent
        # pnb::loan_book: returnStatus OK, then save_pnb_loan_infos reads these.
        assert loan["returnStatus"] == "OK", loan
        loan_id = f"{patron}x{item}x{datetime.now(PARIS):%Y%m%d}"
        # PMB always sends DRMinfo.readerPass and the demo title has its LCP file: an LCP loan.
        assert (loan["orderLineId"], loan["loanId"], loan["protection"]) == (lid, loan_id, "LCP")
        assert loan["link"]["protection"] == "LCP"
        assert loan["requestId"] and requests.get(loan["link"]["url"], timeout=30).status_code == 200
        stored = loan_store.get(demo.COLL, loan_id)
        assert stored is not None and stored.extra["drm"]["readerId"] == f"CB{patron:06d}"
        assert "readerPass" not in stored.extra["drm"]  # the passphrase derives the key, never stored
        assert stored.extra["reader"]["gender"] == "F" and stored.callback_url == callback
        after = pmb.get_loan_status([lid])
        assert (pmb.nta(after), pmb.nus1(after)) == (29, 1)
        # PMB retries the same loan (a double click): its userInfo.year is drawn again, still the same loan.
        again = pmb.loan_book(lid, "9791000000015", patron, item, callback, days=21)
        assert again["returnStatus"] == "OK" and again["link"] == loan["link"]
        assert pmb.nta(pmb.get_loan_status([lid])) == 29
        # The distributor ends the loan early: the callback goes to PMB's s.php with its hash.
        r = requests.post(f"{stack.url}/v2/pnb-numerique/json/endLoan",
                          data={"orderLineId": lid, "loanId": loan_id},
                          auth=(demo.DISTRIBUTOR, demo.DISTRIBUTOR_PASSWORD), timeout=30)
        assert r.status_code == 200 and r.json()["returnStatus"] == "OK", r.text
        got = opac.wait_for(lambda rx: len(rx) >= 1)
        assert len(got) == 1 and got[0].path == f"/s.php?h={hash_}"
        assert got[0].signed and got[0].json()["loanId"] == loan_id
    # PMB's scheduled sync asks with returnEndedLoan=1 and closes what the hub ended.
    synced = pmb.get_loan_status([lid], return_ended_loan=1)
    (response_line,) = synced["loanResponseLine"]
    ws_loans = {x["loanId"]: x for x in response_line["pnbLoanList"]}
    assert list(ws_loans) == [loan_id]
    end_day = ws_loans[loan_id]["endLoanDate"][:10].replace("-", "")  # sync_pnb::check_loans_from_ws
    assert end_day <= datetime.now(UTC).strftime("%Y%m%d")
    assert (pmb.nta(synced), pmb.nus1(synced)) == (29, 2)  # the place is back, the access is spent


def test_pmb_with_a_wrong_password_reads_nothing(stack: Any) -> None:
    wrong = Pmb(f"{stack.url}/v2/pnb-numerique/json/", demo.COLL, "notThePassword1")
    assert wrong.get_loan_status(["000000000000000000000000"]) == {}  # a 403: dilicom::query keeps '{}'
    r = requests.post(f"{stack.url}/v2/pnb-numerique/json/getLoanStatus", data="orderLineId%5B0%5D=1",
                      headers={"Content-Type": "application/json"}, auth=(demo.COLL, "notThePassword1"), timeout=30)
    assert r.status_code == 403 and r.json()["returnStatus"] == "AUTHENTICATION_ERROR"
    r = requests.get(f"{stack.url}/v2/pnb-numerique/json/getLoanStatus?orderLineId[0]=1", timeout=30)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")


def test_pmb_lists_devices_lends_on_one_renews_and_returns(stack: Any, pmb: Pmb) -> None:
    """The later services as PMB's OPAC calls them: the device list a patron picks from (getUserAgent), a loan
    naming the chosen device, the renewal (extendLoan, a `+0100` end), the return (returnLoan)."""
    lid = bought(stack)
    devices = pmb.get_devices()
    assert pmb.sent[-1] == f"glnContractor={demo.COLL}".encode()  # query('getUserAgent'): nothing else
    assert [d["appName"] for d in devices] == sorted(d["appName"] for d in devices) and len(devices) >= 2
    chosen = next(d for d in devices if d["drmId"] == "NONE")  # the hub's files carry no DRM yet
    patron, item = 7, 3000 + secrets.randbelow(6000)
    loan_id = f"{patron}x{item}x{datetime.now(PARIS):%Y%m%d}"
    loan = pmb.loan_book(lid, "9791000000015", patron, item, "https://opac.example/s.php?h=r1", days=14,
                         user_agent=chosen["userAgentId"])
    assert loan["returnStatus"] == "OK", loan
    assert f"DRMinfo.userAgent={chosen['userAgentId']}&".encode() in pmb.sent[-1]
    stored = loan_store.get(demo.COLL, loan_id)
    assert stored is not None and stored.extra["drm"]["userAgent"] == chosen["userAgentId"]
    assert stored.extra["drmId"] == "NONE"  # checked against the list: the DRM it opens is kept
    # A device id the list does not have (a list PMB cached a day earlier, another hub's id): lent all the same,
    # the id kept as sent, no DRM derived from it.
    other = pmb.loan_book(lid, "9791000000015", patron, item + 1, "https://opac.example/s.php?h=r2", days=14,
                          user_agent="old-device-42")
    assert other["returnStatus"] == "OK", other
    unknown = loan_store.get(demo.COLL, f"{patron}x{item + 1}x{datetime.now(PARIS):%Y%m%d}")
    assert unknown is not None and unknown.extra["drm"]["userAgent"] == "old-device-42"
    assert "drmId" not in unknown.extra

    # The patron renews from the OPAC: pret_retour + 14 days, midnight in Paris, PHP's ISO8601.
    new_end = pmb.new_loan_end_date(pmb.pret_retour(14), 14)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00\+0[12]00", new_end), new_end
    renewed = pmb.extend_loan(lid, loan_id, new_end)
    assert pmb.sent[-1] == (f"glnContractor={demo.COLL}&login={demo.COLL}&password={quote_plus(demo.COLL_PASSWORD)}"
                            f"&loanId={loan_id}&orderLineId={lid}&date={quote_plus(new_end)}").encode()
    assert renewed["returnStatus"] == "OK", renewed  # dilicom::manage_response: "pnb_extend_loan_success"
    instant = datetime.strptime(new_end, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
    after = loan_store.get(demo.COLL, loan_id)
    assert after is not None and after.end_date == instant
    assert renewed["loanEndDate"] == instant.astimezone(PARIS).strftime("%d/%m/%Y")  # what PMB shows
    status = pmb.get_loan_status([lid])
    assert (pmb.nta(status), pmb.nus1(status)) == (28, 0)  # the renewal took no access and no place

    # The patron gives it back early.
    returned = pmb.return_loan(lid, loan_id)
    assert pmb.sent[-1] == (f"glnContractor={demo.COLL}&login={demo.COLL}&password={quote_plus(demo.COLL_PASSWORD)}"
                            f"&loanId={loan_id}&orderLineId={lid}").encode()
    assert returned["returnStatus"] == "OK", returned
    synced = pmb.get_loan_status([lid], return_ended_loan=1)
    assert pmb.nus1(synced) == 1 and [x["loanId"] for x in synced["loanResponseLine"][0]["pnbLoanList"]] == [loan_id]
    twice = pmb.return_loan(lid, loan_id)
    assert (twice["returnStatus"], twice["returnMessage"]) == (
        "ACCES_DENIED", f"The loan with orderlineId '{lid}' and loanId '{loan_id}' is already ended")
    # Wrong password: the binding's 403, so dilicom::query keeps '{}' and PMB says "pnb_ws_fail".
    wrong = Pmb(f"{stack.url}/v2/pnb-numerique/json/", demo.COLL, "notThePassword1")
    assert wrong.return_loan(lid, loan_id) == {}
    assert wrong.query("getUserAgent") == {}
