"""The emulator itself, so the other figures can be read: a 2-item TransactWriteItems at a small and a
large table, and the local stack's memory after N loan+return cycles. Each runs in a fresh interpreter
(moto's backends are per process). `python -m tools.benches.emulator --unpatched` gives the same
figures with moto's own whole-table copy (what lending.local.moto_patches replaces)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CYCLES = int(os.environ.get("BENCH_EMULATOR_CYCLES", "150"))
SIZES = (31, 4000)
EAN = "9791000099989"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _transact_ms(size: int) -> float:
    import boto3

    from lending.local import resources, template

    ddb, name = boto3.client("dynamodb"), resources.create_all(template.load())["Table"]
    items = [{"PutRequest": {"Item": {"pk": {"S": f"FILL#{i}"}, "sk": {"S": "X"}, "gsi1pk": {"S": f"G#{i % 7}"},
                                      "gsi1sk": {"S": f"{i:08}"}, "pad": {"S": "x" * 300}}}} for i in range(size)]
    for i in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={name: items[i:i + 25]})
    ddb.put_item(TableName=name, Item={"pk": {"S": "CTR"}, "sk": {"S": "C"}, "n": {"N": "1000000"}})
    times = []
    for i in range(40):
        t = time.perf_counter()
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {"pk": {"S": f"T#{size}#{i}"}, "sk": {"S": "L"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": name, "Key": {"pk": {"S": "CTR"}, "sk": {"S": "C"}},
                        "UpdateExpression": "SET n = n - :one", "ConditionExpression": "n > :zero",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}}}}])
        times.append(time.perf_counter() - t)
    ddb.delete_table(TableName=name)
    return statistics.median(times[5:]) * 1000


def _cycles(n: int) -> dict[str, float]:
    import requests

    from lending.catalogue import ingest
    from lending.domain.offers import LicenceTerms, Offer
    from lending.local import demo
    from lending.local.stack import Stack

    stack = Stack(port=0, schedules=False).start()
    terms = LicenceTerms(loans=100_000, downloads=100_000, onsite_streams=0, offsite_streams=0, licence_days=365,
                         max_loan_days=30)
    ingest.apply([Offer(ean13=EAN, gln_distributor=demo.DISTRIBUTOR, title="bench", terms=terms, price_ttc=100,
                        price_ht=95)], datetime.now(UTC))
    url = f"{stack.url}/v2/pnb-numerique"
    s = requests.Session()
    now = datetime.now(UTC)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    order = s.post(f"{url}/sendOrder", timeout=30, json={
        "glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD, "glnColl": demo.COLL,
        "orderId": f"EMU{int(time.time())}", "orderIdColl": "EMU", "resellerCountry": "FR", "collCountry": "FR",
        "orderRequestLine": [{"ean13": EAN, "glnDistributor": demo.DISTRIBUTOR, "unitPrice": 100,
                              "unitPriceExcludingTax": 95, "currency": "EUR", "quantity": 1,
                              "dmdDate": (now - timedelta(days=1)).strftime(fmt)}]}).json()
    line = order["orderResponseLine"][0]["orderLineId"]
    end = (now + timedelta(days=7)).strftime(fmt)
    start_rss = _rss_mb()
    t = time.perf_counter()
    for i in range(n):
        loan = s.post(f"{url}/loanBook", timeout=30, json={
            "glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD, "orderLineId": line, "loanId": f"EMU{i}",
            "ean13": EAN, "accessMedium": "DOWNLOAD", "localization": "EX_SITU", "loanEndDate": end})
        assert loan.json()["returnStatus"] == "OK", loan.text
        back = s.post(f"{url}/endLoan", timeout=30, json={
            "glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD,
            "orderLineId": line, "loanId": f"EMU{i}"})
        assert back.json()["returnStatus"] == "OK", back.text
    elapsed = time.perf_counter() - t
    out = {"rss_start_mb": start_rss, "rss_end_mb": _rss_mb(), "cycle_ms": elapsed / n * 1000}
    stack.stop()
    return out


def _child(what: str, unpatched: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "layers" / "common" / "python"))
    from lending.local import moto_patches

    if unpatched:
        moto_patches._applied = True  # moto as shipped: the whole-table copy
    if what == "cycles":
        return _cycles(CYCLES)
    from lending.local.emulator import Emulator

    emulator = Emulator().start()
    emulator.use()
    return {f"transact_ms_{size}": _transact_ms(size) for size in SIZES}


def measure(what: str, unpatched: bool = False) -> dict[str, Any]:
    args = [sys.executable, "-m", "tools.benches.emulator", "--child", what, *(["--unpatched"] if unpatched else [])]
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True, timeout=1800)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run(report: Callable[..., Any]) -> None:
    figures = measure("transact")
    for size in SIZES:
        report(f"emulator_transact_2_items_ms_at_{size}", figures[f"transact_ms_{size}"],
               f"2-item TransactWriteItems with {size} items in the table")
    cycles = measure("cycles")
    report("emulator_rss_after_cycles_mb", cycles["rss_end_mb"],
           f"local stack after {CYCLES} loanBook+endLoan (from {cycles['rss_start_mb']:.0f} MB)")
    report("emulator_loan_return_cycle_ms", cycles["cycle_ms"], "loanBook + endLoan over HTTP")


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(_child(sys.argv[sys.argv.index("--child") + 1], "--unpatched" in sys.argv)))
    else:
        unpatched = "--unpatched" in sys.argv
        print(json.dumps({**measure("transact", unpatched), **measure("cycles", unpatched)}))
