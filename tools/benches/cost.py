"""What a million loans cost on AWS, from what the hub does here, counted request by request
(lending.local.meter) and priced by tools/prices.toml:

- returned: loanBook, then endLoan before the end date with a callbackUrl, and the callback delivered
  to a receiver (acknowledged);
- expired: loanBook, then its end passes (the scheduled expiry job runs and, nobody waiting for the
  title, writes nothing). The first round's loans go to a licence no loan has lapsed on yet (its line
  grows from 1 to LOANS seats); the steady state's to a licence whose earlier loans have lapsed (the hub's
  clock moved through `lending.clock.frozen`, every request through the real handlers): each loan meets
  the seat of the loan that ended just before it, as most loans do once a licence has been lending for a
  while, on a line holding a constant number of live seats: one round per load of STEADY_SEATS (a licence
  lending a few copies at once, and a busy one). `cost_per_million_expired_loans_usd` is the worst of all.

Per loan: HTTP API requests, Lambda invocations and GB-seconds (the handler's own time, measured, plus
each AWS call at the latency assumed in prices.toml, at the function's memory and architecture in
template.yaml), DynamoDB write and read units (item sizes and index membership), SQS requests, log
bytes, and X-Ray if tracing is on. Also each handler's own time per request (its wall time less the
time spent in AWS calls), the figure the bill's Lambda part rests on."""

from __future__ import annotations

import json
import logging
import math
import os
import statistics
import time
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from tools.benches._shared import bench_stack

ROOT = Path(__file__).resolve().parents[2]
PRICES = tomllib.loads((ROOT / "tools" / "prices.toml").read_text())
LOANS = int(os.environ.get("BENCH_COST_LOANS", "30"))
# Live seats on the steady-state lines: 5 (the largest download pool of the demo catalogue: PNB licences
# lend a few copies at once) and 20 (a licence lending many; the item its loans write, the line's hot
# half, stays under 1 KB with 20 seats: docs/line-split.md).
STEADY_SEATS = [int(x) for x in os.environ.get("BENCH_COST_STEADY_SEATS", "5,20").split(",")]
STEADY_LOAN_DAYS = 14
EAN = "9791000099972"
FMT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class Invocation:
    function: str
    wall_s: float
    aws_s: float
    calls: list[str]
    params: list[dict[str, Any]] = field(default_factory=list)


# What a stubbed client answers per operation (the least each response shape requires).
_STUB_ANSWERS: dict[str, dict[str, Any]] = {"SendMessageBatch": {"Successful": [], "Failed": []}}


def boto3_own_ms(calls: list[str], params: list[dict[str, Any]], repeat: int = 50) -> float:
    """boto3's own time for these calls: the same parameters through a stubbed client (parameter
    validation, its event chain, an empty answer parsed; no serialisation to HTTP, no signing, no network),
    so a lower bound of what the SDK costs."""
    import boto3
    from botocore.stub import Stubber

    total = 0.0
    clients: dict[str, Any] = {}
    for name, call_params in zip(calls, params, strict=True):
        service, op = name.split(".", 1)
        client = clients.setdefault(service, boto3.client(
            service, region_name="eu-west-3", aws_access_key_id="x", aws_secret_access_key="x"))
        snake = "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_")
        method = getattr(client, snake)
        with Stubber(client) as stub:
            for _ in range(repeat):
                stub.add_response(snake, _STUB_ANSWERS.get(op, {}))
            t = time.perf_counter()
            for _ in range(repeat):
                method(**call_params)
            total += (time.perf_counter() - t) / repeat
    return total * 1000


@dataclass
class Flow:
    invocations: list[Invocation] = field(default_factory=list)
    http_requests: int = 0
    log_bytes: int = 0


def function_settings() -> dict[str, tuple[int, str, bool, bool]]:
    """Memory (MB), architecture, X-Ray tracing and Lambda's own log lines of every function, as
    template.yaml sets them."""
    from lending.local import template

    tpl = template.load()
    glob = tpl.get("Globals", {}).get("Function", {})
    out = {}
    for name, res in tpl["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = {**glob, **res.get("Properties", {})}
        system_level = (props.get("LoggingConfig") or {}).get("SystemLogLevel", "INFO")
        out[name] = (int(props.get("MemorySize", 128)), (props.get("Architectures") or ["x86_64"])[0],
                     props.get("Tracing") == "Active", system_level in ("DEBUG", "INFO"))
    return out


def billed_ms(inv: Invocation) -> float:
    latency = PRICES["assumptions"]["aws_latency_ms"]
    own_ms = max(0.0, inv.wall_s - inv.aws_s) * 1000
    waits = sum(latency.get(c, latency.get(c.split(".")[0], 5.0)) for c in inv.calls)
    return float(math.ceil(own_ms + waits))


def price(flow: Flow, usage: Any, loans: int, settings: dict[str, tuple[int, str, bool, bool]]) -> dict[str, float]:
    """USD per loan, by service."""
    p, a = PRICES["prices"], PRICES["assumptions"]
    out: dict[str, float] = defaultdict(float)
    log_bytes = float(flow.log_bytes)
    for inv in flow.invocations:
        memory, arch, traced, platform_lines = settings[inv.function]
        out["lambda"] += p["lambda_request"] + memory / 1024 * billed_ms(inv) / 1000 * p[f"lambda_gb_second_{arch}"]
        if traced:
            out["xray"] += p["xray_trace_recorded"]
        log_bytes += a["emf_log_bytes_per_invocation"]
        if platform_lines:
            log_bytes += a["platform_log_bytes_per_invocation"]
    out["logs"] = log_bytes / 1e9 * p["logs_ingested_gb"]
    out["http_api"] = flow.http_requests * p["http_api_request"]
    out["dynamodb_writes"] = usage.total_write_units * p["dynamodb_write_request_unit"]
    out["dynamodb_reads"] = usage.read_units * p["dynamodb_read_request_unit"]
    # The hub's own SQS calls; the local queue poller's (ReceiveMessage, DeleteMessage: Lambda's event source
    # on AWS) are replaced by the assumption per message sent.
    sent = sum(n for op, n in usage.requests.items() if op.startswith("sqs.Send"))
    out["sqs"] = sent * (1 + a["sqs_event_source_requests_per_message"]) * p["sqs_request"]
    return {k: v / loans for k, v in out.items()}


class _LogBytes(logging.Handler):
    """Bytes the hub's logger would write at its deployed level (INFO), formatted as it formats them."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__(logging.INFO)
        self.count = 0
        if formatter:
            self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        from lending.observability import EMF_FIELDS

        names = getattr(record, EMF_FIELDS, None)
        if names is not None:  # deployed, these fields ride on the invocation's EMF line (request_line)
            self.count += len(json.dumps({k: getattr(record, k) for k in names}, separators=(",", ":"))) - 1
            return
        self.count += len(self.format(record).encode()) + 1


def run(report: Callable[..., Any]) -> None:
    from lending.catalogue import ingest
    from lending.domain.licences import Pool
    from lending.domain.offers import LicenceTerms, Offer
    from lending.local import demo
    from lending.local import functions as fns
    from lending.local.meter import Meter, handler_clock
    from lending.local.receiver import Receiver

    stack = bench_stack()
    settings = function_settings()
    terms = LicenceTerms(loans=100_000, downloads=100_000, onsite_streams=0, offsite_streams=0, licence_days=365,
                         max_loan_days=30)
    ingest.apply([Offer(ean13=EAN, gln_distributor=demo.DISTRIBUTOR, title="cost bench", terms=terms,
                        price_ttc=100, price_ht=95)], datetime.now(UTC))
    s = requests.Session()
    url = f"{stack.url}/v2/pnb-numerique"

    def post(service: str, body: dict[str, Any]) -> dict[str, Any]:
        flow.http_requests += 1
        answer: dict[str, Any] = s.post(f"{url}/{service}", json=body, timeout=30).json()
        return answer

    flow = Flow()
    now = datetime.now(UTC)
    order = post("sendOrder", {
        "glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD, "glnColl": demo.COLL,
        "orderId": f"COST{int(time.time())}", "orderIdColl": "COSTBENCH", "resellerCountry": "FR",
        "collCountry": "FR", "orderRequestLine": [{
            "ean13": EAN, "glnDistributor": demo.DISTRIBUTOR, "unitPrice": 100, "unitPriceExcludingTax": 95,
            "currency": "EUR", "quantity": 1, "dmdDate": (now - timedelta(days=1)).strftime(FMT)}]})
    line = order["orderResponseLine"][0]["orderLineId"]
    steady_lines = [post("sendOrder", {
        "glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD, "glnColl": demo.COLL,
        "orderId": f"CS{n}{int(time.time())}", "orderIdColl": "COSTBENCH", "resellerCountry": "FR",
        "collCountry": "FR", "orderRequestLine": [{
            "ean13": EAN, "glnDistributor": demo.DISTRIBUTOR, "unitPrice": 100, "unitPriceExcludingTax": 95,
            "currency": "EUR", "quantity": 1, "dmdDate": (now - timedelta(days=1)).strftime(FMT)}]}
        )["orderResponseLine"][0]["orderLineId"] for n in STEADY_SEATS]
    tag = f"{int(time.time()) % 100000}"

    def loan(loan_id: str, end: datetime, callback: str | None, on: str | None = None) -> None:
        body = {"glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD, "orderLineId": on or line,
                "loanId": loan_id,
                "ean13": EAN, "accessMedium": "DOWNLOAD", "localization": "EX_SITU", "loanEndDate": end.strftime(FMT)}
        if callback:
            body["callbackUrl"] = callback
        answer = post("loanBook", body)
        assert answer["returnStatus"] == "OK", answer

    def end_loan(loan_id: str) -> None:
        answer = post("endLoan", {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD,
                                  "orderLineId": line, "loanId": loan_id})
        assert answer["returnStatus"] == "OK", answer

    def acknowledged(loan_id: str) -> None:
        """Wait until the loan's callback is delivered and its acknowledgement written."""
        from lending.store import callbacks as delivery_state

        deadline = time.monotonic() + 30
        while not (got := delivery_state.state(demo.COLL, loan_id)) or not got.delivered_at:
            assert time.monotonic() < deadline, f"the callback of {loan_id} was not acknowledged"
            time.sleep(0.02)

    original_invoke = fns.invoke

    def timed_invoke(fn: Any, event: dict[str, Any]) -> Any:
        with handler_clock() as clock:
            result = original_invoke(fn, event)
        flow.invocations.append(Invocation(fn.name, clock["wall_s"], clock["aws_s"], clock["calls"], clock["params"]))
        return result

    hub_logger = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "lending-hub"))
    formatter = next((h.formatter for h in hub_logger.handlers if h.formatter), None)
    counter = _LogBytes(formatter)
    saved_level, saved_handlers = hub_logger.level, list(hub_logger.handlers)

    steady_rounds: list[tuple[int, Flow, Any]] = []
    with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
        # Warm: every handler imported, credentials cached (a warm container's figures).
        loan(f"CW{tag}", datetime.now(UTC) + timedelta(days=7), f"{rx.url}/returns")
        end_loan(f"CW{tag}")
        rx.wait_for(lambda r: len([x for x in r if x.answered == 200]) >= 1, timeout=30)
        # ... and its acknowledgement written, which lands just after the receiver's answer: counted in the
        # returned flow below, it was one write unit and one invocation too many per 30 loans ($0.05 a million).
        acknowledged(f"CW{tag}")

        fns.invoke = timed_invoke  # type: ignore[assignment]
        for h in saved_handlers:  # counted, not printed
            hub_logger.removeHandler(h)
        hub_logger.addHandler(counter)
        hub_logger.setLevel(logging.INFO)
        try:
            # -- returned early, with a callback --------------------------------------------------
            flow = Flow()
            with Meter() as returned:
                # Each return's callback delivered before the next loan: every stream batch
                # holds one return, one invocation each, the worst case (docs/cost.md). Returns a few ms
                # apart otherwise share a batch now and then, and the figure moved by $0.05 with it.
                for i in range(LOANS):
                    loan(f"CR{tag}x{i}", datetime.now(UTC) + timedelta(days=7), f"{rx.url}/returns")
                    end_loan(f"CR{tag}x{i}")
                    rx.wait_for(lambda r, n=i + 2: len([x for x in r if x.answered == 200]) >= n, timeout=30)
                time.sleep(0.5)  # the last acknowledgement written (a read to check it would be counted)
                got = rx.wait_for(lambda r: len([x for x in r if x.answered == 200]) >= LOANS + 1, timeout=120)
                assert len([x for x in got if x.answered == 200]) == LOANS + 1, "callbacks not delivered once each"
            flow.log_bytes, counter.count = counter.count, 0
            returned_flow = flow
            # -- expired --------------------------------------------------------------------------
            flow = Flow()
            lead = 3.0 + LOANS * 0.15
            with Meter() as expired:
                end = datetime.now(UTC) + timedelta(seconds=lead)
                for i in range(LOANS):
                    loan(f"CE{tag}x{i}", end, None)
                time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 1.1)
                result = fns.invoke(stack.functions["ExpireLoansFunction"], {"source": "aws.scheduler"})
            # Their places are free at their end with nothing written; nobody waits for the title, so the
            # job has nothing to hand over (docs/cost.md).
            from lending.store import licences as line_store

            item = line_store.get_line(line)
            assert item is not None and result["expired"] == 0, result
            running = line_store.licence(item, end - timedelta(seconds=1)).free[Pool.DOWNLOAD]
            assert line_store.licence(item, datetime.now(UTC)).free[Pool.DOWNLOAD] == running + LOANS, "not freed"
            flow.log_bytes, counter.count = counter.count, 0
            expired_flow = flow
            # -- expired, steady state ----------------------------------------------------------------
            # A loan every `step`, each for STEADY_LOAN_DAYS: loan k meets the seat of loan k - seats, whose
            # end has just passed, and the line holds `seats` live seats. The first `seats` loans fill the
            # line (not counted); then LOANS loans, each meeting a lapsed seat.
            from lending import clock

            for seats, steady_line in zip(STEADY_SEATS, steady_lines, strict=True):
                step = timedelta(days=STEADY_LOAN_DAYS) / (seats - 0.5)
                base = datetime.now(UTC).replace(microsecond=0)
                flow = Flow()  # the filling loans counted nowhere
                for k in range(seats):
                    with clock.frozen(base + k * step):
                        loan(f"CS{seats}{tag}x{k}", base + k * step + timedelta(days=STEADY_LOAN_DAYS), None,
                             steady_line)
                counter.count = 0
                flow = Flow()
                with Meter() as steady:
                    for k in range(seats, seats + LOANS):
                        with clock.frozen(base + k * step):
                            loan(f"CS{seats}{tag}x{k}", base + k * step + timedelta(days=STEADY_LOAN_DAYS), None,
                                 steady_line)
                    last = base + (seats + LOANS) * step + timedelta(days=STEADY_LOAN_DAYS)
                    with clock.frozen(last):
                        result = fns.invoke(stack.functions["ExpireLoansFunction"], {"source": "aws.scheduler"})
                item = line_store.get_line(steady_line)
                assert item is not None and result["expired"] == 0, result
                seated = line_store.seats(item)
                # every loan's write dropped the seat that had lapsed before it: only the last `seats` stay
                assert len(seated) == seats, f"{len(seated)} seats on the steady-state line"
                stored = int(item["dlFree"])
                assert line_store.licence(item, last).free[Pool.DOWNLOAD] == stored + seats, "not freed"
                flow.log_bytes, counter.count = counter.count, 0
                steady_rounds.append((seats, flow, steady))
        finally:
            fns.invoke = original_invoke  # type: ignore[assignment]
            hub_logger.removeHandler(counter)
            for h in saved_handlers:
                hub_logger.addHandler(h)
            hub_logger.setLevel(saved_level)

    goals = PRICES["goals"]
    totals: dict[str, float] = {}
    for name, fl, usage in (("returned", returned_flow, returned), ("expired", expired_flow, expired),
                            *((f"expired_steady_{n}", f, u) for n, f, u in steady_rounds)):
        parts = price(fl, usage, LOANS, settings)
        totals[name] = sum(parts.values()) * 1e6
        for service, usd in sorted(parts.items()):
            report(f"cost_{name}_{service}_usd_per_million", usd * 1e6)
        report(f"cost_{name}_write_units_per_loan", usage.total_write_units / LOANS,
               f"of which index copies {usage.index_write_units / LOANS:.2f}")
        report(f"cost_{name}_read_units_per_loan", usage.read_units / LOANS)
        ops = Counter({k: round(v / LOANS, 2) for k, v in usage.requests.items()})
        report(f"cost_{name}_requests_per_loan", dict(sorted(ops.items())))
        if name == "returned":
            report(f"cost_per_million_{name}_loans_usd", totals[name],
                   f"goal <= {goals[f'cost_per_million_{name}_loans_usd']} ({PRICES['region']} list prices)")
    # Expired: the first round (no lapsed seat met) and the steady states (each loan meets one); the
    # headline is the worst of them.
    rounds = [("first round", totals["expired"])]
    report("cost_per_million_expired_loans_first_round_usd", totals["expired"],
           f"{LOANS} loans, none meeting a lapsed seat, the line growing from 1 to {LOANS} seats")
    for n, _, _ in steady_rounds:
        rounds.append((f"steady state, {n} seats", totals[f"expired_steady_{n}"]))
        report(f"cost_per_million_expired_loans_steady_state_{n}_seats_usd", totals[f"expired_steady_{n}"],
               f"{LOANS} loans, each meeting one lapsed seat, {n} live seats on the line")
    steady_worst = max(rounds[1:], key=lambda x: x[1])
    report("cost_per_million_expired_loans_steady_state_usd", steady_worst[1], f"the worse ({steady_worst[0]})")
    worst = max(rounds, key=lambda x: x[1])
    report("cost_per_million_expired_loans_usd", worst[1],
           f"the worst of the rounds ({worst[0]}); goal <= {goals['cost_per_million_expired_loans_usd']} "
           f"({PRICES['region']} list prices)")

    by_fn: dict[str, list[Invocation]] = defaultdict(list)
    for inv in [*returned_flow.invocations, *expired_flow.invocations, *(i for _, f, _ in steady_rounds
                                                                          for i in f.invocations)]:
        by_fn[inv.function].append(inv)
    for name, invs in sorted(by_fn.items()):
        own = statistics.median((i.wall_s - i.aws_s) * 1000 for i in invs)
        billed = statistics.median(map(billed_ms, invs))
        report(f"handler_own_ms_{name}", own, f"median of {len(invs)}; billed {billed:.0f} ms with assumed AWS latency")
        if name != "ExpireLoansFunction":  # one invocation for many loans: no per-request figure
            typical = sorted(invs, key=lambda i: i.wall_s - i.aws_s)[len(invs) // 2]
            sdk = boto3_own_ms(typical.calls, typical.params)
            report(f"handler_own_over_boto3_ratio_{name}", own / sdk if sdk else 0.0,
                   f"boto3's own {sdk:.2f} ms for the same {len(typical.calls)} calls, stubbed")
