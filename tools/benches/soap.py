"""SOAP overhead: loanBook over SOAP against the same call over JSON, on the local stack (goal: the median
ratio <= 1.3).

What is fair: both doors get the same work. Each timed call is a *fresh* loan (a new loanId, a licence with
room, the place given back by an untimed endLoan afterwards), so both pay the real path (authentication,
checks, the DynamoDB transaction); calls alternate JSON/SOAP, first one then the other, so drift in the
shared machine hits both alike; bodies are serialised once, outside the timing, so a client library's own
cost is not counted; same HTTP client, same keep-alive connection pool. Also reported: identical repeats
(which the core replays from the first loan: a read, the cheapest call, so the door's share is largest),
and the door's own in-process cost (envelope, XSD, decode, encode; no I/O)."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

RUNS = int(os.environ.get("BENCH_SOAP_RUNS", "60"))
EAN, LOANS_PER_LICENCE = "9791000000053", 45  # 50 accesses, 3 download places per licence
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def _soap(fields: dict[str, str]) -> str:
    from lending.pnb.soap.schema import NS

    inner = "".join(f"<p:{k}>{v}</p:{k}>" for k, v in fields.items())
    return (f'<s:Envelope xmlns:s="{SOAP11}" xmlns:p="{NS}"><s:Body><p:loanBook>{inner}</p:loanBook>'
            f"</s:Body></s:Envelope>")


def run(report: Callable[..., Any]) -> None:
    import requests

    from lending.local import demo
    from lending.local.emulator import LOCAL_ENV
    from lending.local.stack import Stack

    saved = dict(os.environ)
    os.environ.update(LOCAL_ENV)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    stack = Stack(port=0, schedules=False).start()
    http = requests.Session()
    try:
        base = f"{stack.url}/v2/pnb-numerique"

        def json_call(service: str, body: dict[str, Any]) -> dict[str, Any]:
            answer: dict[str, Any] = http.post(f"{base}/{service}", data=json.dumps(body), timeout=30).json()
            return answer

        def licences() -> Iterator[str]:
            n = 0
            while True:
                n += 1
                order = json_call("sendOrder", {
                    "glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD,
                    "glnColl": demo.COLL, "orderId": f"BENCH{n}", "orderIdColl": "BENCH",  # a fresh stack
                    "resellerCountry": "FR", "collCountry": "FR", "orderRequestLine": [{
                        "ean13": EAN, "glnDistributor": demo.DISTRIBUTOR2, "unitPrice": 3000,
                        "unitPriceExcludingTax": 2844, "currency": "EUR", "quantity": 1,
                        "dmdDate": (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}]})
                assert order["returnStatus"] == "OK", order
                for _ in range(LOANS_PER_LICENCE):
                    yield order["orderResponseLine"][0]["orderLineId"]

        line_ids = licences()
        end = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def loan(line_id: str, loan_id: str) -> dict[str, str]:
            return {"glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD, "orderLineId": line_id,
                    "loanId": loan_id, "ean13": EAN, "accessMedium": "DOWNLOAD", "localization": "EX_SITU",
                    "loanEndDate": end}

        def timed(door: str, fields: dict[str, str]) -> float:
            if door == "json":
                data, url = json.dumps(fields), f"{base}/loanBook"
                headers = {"Content-Type": "application/json"}
            else:
                data, url = _soap(fields), f"{base}/soap"
                headers = {"Content-Type": "text/xml; charset=utf-8"}
            started = time.perf_counter()
            r = http.post(url, data=data, headers=headers, timeout=30)
            elapsed = time.perf_counter() - started
            ok = '"returnStatus": "OK"' in r.text if door == "json" else "<pnb:returnStatus>OK<" in r.text
            assert r.status_code == 200 and ok, r.text
            return elapsed

        def give_back(fields: dict[str, str]) -> None:
            ended = json_call("endLoan", {"glnDistributor": demo.DISTRIBUTOR2,
                                          "passwordDistributor": demo.DISTRIBUTOR2_PASSWORD,
                                          "orderLineId": fields["orderLineId"], "loanId": fields["loanId"]})
            assert ended["returnStatus"] == "OK", ended

        for i in range(3):  # warm both handlers, their caches and the connection
            for door in ("json", "soap"):
                fields = loan(next(line_ids), f"W{door}{i}")
                timed(door, fields)
                give_back(fields)

        fresh: dict[str, list[float]] = {"json": [], "soap": []}
        for i in range(RUNS):
            for door in ("json", "soap") if i % 2 == 0 else ("soap", "json"):
                fields = loan(next(line_ids), f"F{door}{i}")
                fresh[door].append(timed(door, fields))
                give_back(fields)

        replay: dict[str, list[float]] = {"json": [], "soap": []}
        first = {door: loan(next(line_ids), f"R{door}") for door in ("json", "soap")}
        for door, fields in first.items():
            timed(door, fields)
        for i in range(RUNS):
            for door in ("json", "soap") if i % 2 == 0 else ("soap", "json"):
                replay[door].append(timed(door, first[door]))
    finally:
        http.close()
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)

    med = {kind: {door: statistics.median(v) for door, v in runs.items()}
           for kind, runs in (("fresh", fresh), ("replay", replay))}
    report("soap_over_json_loanbook_median_ratio", med["fresh"]["soap"] / med["fresh"]["json"],
           f"goal <= 1.3; fresh loans, {RUNS} each, interleaved")
    report("soap_loanbook_median_ms", med["fresh"]["soap"] * 1000, "SOAP, fresh loan, local stack")
    report("json_loanbook_median_ms", med["fresh"]["json"] * 1000, "JSON, fresh loan, local stack")
    report("soap_over_json_loanbook_replay_median_ratio", med["replay"]["soap"] / med["replay"]["json"],
           "identical repeats (replayed by the core: the door's share is largest)")
    report("soap_loanbook_replay_median_ms", med["replay"]["soap"] * 1000)
    report("json_loanbook_replay_median_ms", med["replay"]["json"] * 1000)
    report("soap_door_codec_loanbook_us", _codec_us(), "envelope + XSD + decode + encode, in-process, no I/O")


def _codec_us() -> float:
    """What the SOAP door adds per loanBook, measured alone: read the envelope, validate it, decode it,
    encode a loanBook answer and write its envelope."""
    from lending.pnb.soap import codec, envelope
    from lending.pnb.soap.schema import MODEL

    fields = {"glnColl": "3012345000031", "passwordColl": "collDemo2026", "orderLineId": "1" * 24,
              "loanId": "L1", "ean13": EAN, "accessMedium": "DOWNLOAD", "localization": "EX_SITU",
              "loanEndDate": "2026-02-02T00:00:00Z"}
    raw = _soap(fields).encode()
    link = {"url": "https://hub.example/fulfillment/" + "x" * 60, "format": "EPUB",
            "formatDescription": "epub", "ean13": EAN, "mimeType": "application/epub+zip"}
    answer = {"requestId": "0" * 32, "orderLineId": "1" * 24, "loanId": "L1",
              "loanEndDate": "2026-02-02T00:00:00Z", "returnStatus": "OK", "link": link}
    request_type, answer_type = MODEL.elements["loanBook"], MODEL.elements["loanBookResponse"]
    samples = []
    for _ in range(2000):
        started = time.perf_counter()
        version, payload = envelope.read(raw)
        assert MODEL.validator.validate(payload)
        codec.decode(payload, request_type)
        envelope.answer(version, codec.encode("loanBookResponse", answer, answer_type))
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6
