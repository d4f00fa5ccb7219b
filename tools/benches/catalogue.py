"""Catalogue sync of a generated ONIX 3.0 file of 100,000 offers (CATALOGUE_BENCH_OFFERS overrides).

- catalogue_parse_offers_per_s: reading + mapping every record to an Offer (lending.catalogue.onix.read),
  in this process, the least CPU time of CATALOGUE_BENCH_ROUNDS (5) rounds.
- catalogue_parse_over_filtered_iterparse_ratio: that time over an lxml iterparse that only stops at
  <Product> (tag filter in C) and frees each: what parsing alone costs, no element visited; goal <= 2.
  3.5 before the reader's inner loop was rewritten, 2.6-2.7 after, 2.46-2.49 with its tag codes in an
  exact dict; with each product walked in C (lending.catalogue._onixwalk) and one mapping of that flat
  form, see docs/catalogue-parse.md for the figures. catalogue_parse_walk says which walk was measured
  ("fallback" when the extension is not built: `make cext`), and
  catalogue_parse_fallback_over_filtered_iterparse_ratio the same reader with the pure-Python walk.
- catalogue_parse_over_iterparse_ratio: the same over an iterparse that visits and clears every element
  in Python (`for _, el in iterparse(f): el.clear()`): no floor, the reader now takes about as long (1.0).
- catalogue_sync_offers_per_s: the whole sync (S3 connector, parse, BatchGetItem/BatchWriteItem of every
  offer, each changed offer read back once for the ONIX update file, written and uploaded) against the
  emulator in another process (moto server behind its lock, over loopback HTTP): dominated by moto, an
  emulator, not DynamoDB's speed.
- catalogue_sync_peak_mb: peak resident memory (VmHWM) of a fresh subprocess that runs only that sync;
  it includes the interpreter, boto3 and lxml themselves. Goal < 256 MB.

CATALOGUE_BENCH_SYNC=0 measures the parse only (no emulator):
`CATALOGUE_BENCH_OFFERS=20000 CATALOGUE_BENCH_SYNC=0 python -m tools.bench catalogue`.

CATALOGUE_BENCH_EVENTS=1 adds the floors of a reader that builds no tree, over the same filtered iterparse
(docs/cost.md, "Catalogue parse"): the file fed in chunks to lxml's parser target or to pyexpat, the
handlers doing nothing, or only keeping the stack of open elements that the reader's parent rules need
(no leaf read, no record mapped). A tree-less reader costs at least its stack floor plus the mapping.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("CATALOGUE_BENCH_OFFERS", "100000"))
GLN = "3010999000018"
NS = "http://ns.editeur.org/onix/3.0/reference"

PRODUCT = """<Product><RecordReference>bench.{ean}</RecordReference><NotificationType>03</NotificationType>
<ProductIdentifier><ProductIDType>15</ProductIDType><IDValue>{ean}</IDValue></ProductIdentifier>
<DescriptiveDetail><ProductComposition>00</ProductComposition><ProductForm>ED</ProductForm>
<ProductFormDetail>E101</ProductFormDetail>
<EpubUsageConstraint><EpubUsageType>01</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>
<EpubUsageLimit><Quantity>1</Quantity><EpubUsageUnit>07</EpubUsageUnit></EpubUsageLimit></EpubUsageConstraint>
<EpubUsageConstraint><EpubUsageType>06</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>
<EpubUsageLimit><Quantity>{loans}</Quantity><EpubUsageUnit>10</EpubUsageUnit></EpubUsageLimit>
<EpubUsageLimit><Quantity>30</Quantity><EpubUsageUnit>09</EpubUsageUnit></EpubUsageLimit></EpubUsageConstraint>
<EpubUsageConstraint><EpubUsageType>07</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>
<EpubUsageLimit><Quantity>3650</Quantity><EpubUsageUnit>09</EpubUsageUnit></EpubUsageLimit></EpubUsageConstraint>
<EpubUsageConstraint><EpubUsageType>09</EpubUsageType><EpubUsageStatus>02</EpubUsageStatus>
<EpubUsageLimit><Quantity>2</Quantity><EpubUsageUnit>07</EpubUsageUnit></EpubUsageLimit></EpubUsageConstraint>
<TitleDetail><TitleType>01</TitleType><TitleElement><TitleElementLevel>01</TitleElementLevel>
<TitleText>Titre numero {i}</TitleText></TitleElement></TitleDetail>
<Contributor><SequenceNumber>1</SequenceNumber><ContributorRole>A01</ContributorRole>
<PersonName>Auteur {i}</PersonName></Contributor></DescriptiveDetail>
<PublishingDetail><Publisher><PublishingRole>01</PublishingRole><PublisherName>Editions Bench</PublisherName>
</Publisher></PublishingDetail>
<ProductSupply><SupplyDetail><Supplier><SupplierRole>03</SupplierRole><SupplierIdentifier>
<SupplierIDType>06</SupplierIDType><IDValue>{gln}</IDValue></SupplierIdentifier></Supplier>
<ProductAvailability>20</ProductAvailability><Price><PriceType>04</PriceType><PriceAmount>{ttc}</PriceAmount>
<Tax><TaxType>01</TaxType><TaxRatePercent>5.5</TaxRatePercent><TaxableAmount>{ht}</TaxableAmount></Tax>
<CurrencyCode>EUR</CurrencyCode></Price></SupplyDetail></ProductSupply></Product>
"""

SYNC = """
import json, os, sys, time
from datetime import UTC, datetime
from lending.catalogue import sync
from lending.store import catalogue as store
feed = store.Feed(gln_distributor=sys.argv[1], kind="s3", bucket=os.environ["BUCKET_NAME"], prefix="bench/")
t = time.perf_counter()
report = sync.sync_feed(feed, datetime.now(UTC))
elapsed = time.perf_counter() - t
# VmHWM: the peak resident size of this process image. Not ru_maxrss: Linux carries that across the
# fork + exec from the (possibly large) bench process that started us.
hwm_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"elapsed": elapsed, "changed": report.changed, "error": report.error, "held": report.held,
                  "rejected": report.rejected_count, "maxrss_mb": hwm_kb / 1024}))
"""

EMULATOR = """
import sys, time
import logging
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from lending.local.emulator import Emulator
Emulator(int(sys.argv[1])).start()
print("ready", flush=True)
time.sleep(3600)
"""


def generate(path: Path, n: int) -> None:
    from lending.domain.identifiers import with_check_digit

    with open(path, "w", encoding="utf-8") as f:
        f.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<ONIXMessage release="3.0" xmlns="{NS}">'
                "<Header><Sender><SenderName>Bench</SenderName></Sender><SentDateTime>20260105T1200Z"
                "</SentDateTime></Header>\n")
        for i in range(n):
            ttc = 500 + i % 3000
            ht = round(ttc / 1.055)
            f.write(PRODUCT.format(ean=with_check_digit(f"979{i:09d}"), i=i, gln=GLN, loans=10 + i % 40,
                                   ttc=f"{ttc // 100}.{ttc % 100:02d}", ht=f"{ht // 100}.{ht % 100:02d}"))
        f.write("</ONIXMessage>\n")


ROUNDS = int(os.environ.get("CATALOGUE_BENCH_ROUNDS", "5"))


def _best(*fns: Callable[[], int], rounds: int = ROUNDS) -> list[tuple[float, int]]:
    """The least CPU time of each function over `rounds` rounds, the functions taking turns in each round:
    a busy machine (two shared cores) slows a run, never speeds it, and both sides of a ratio meet the
    same moments of it. CPU time, not wall time: time spent waiting for a core is not the parser's."""
    best = [(float("inf"), 0)] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t = time.process_time()
            count = fn()
            best[i] = (min(best[i][0], time.process_time() - t), count)
    return best


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(report: Callable[..., Any]) -> None:
    sys.path.insert(0, str(ROOT / "layers/common/python"))
    from lxml import etree

    from lending.catalogue import onix

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "offers.xml"
        generate(path, N)
        size_mb = path.stat().st_size / 1e6

        def bare() -> int:
            count = 0
            for _, el in etree.iterparse(str(path), resolve_entities=False, no_network=True, load_dtd=False):
                count += el.tag == product_tag
                el.clear()
            return count

        def filtered() -> int:
            count = 0
            for _, el in etree.iterparse(str(path), tag=product_tag, resolve_entities=False, no_network=True,
                                         load_dtd=False):
                count += 1
                el.clear(keep_tail=False)
                parent = el.getparent()
                while el.getprevious() is not None:
                    del parent[0]
            return count

        def parse() -> int:
            return sum(1 for _ in onix.read(str(path), GLN))

        compiled = onix.walk

        def parse_fallback() -> int:  # the reader with the pure-Python walk (no extension built)
            onix.walk = onix.flatten
            try:
                return sum(1 for _ in onix.read(str(path), GLN))
            finally:
                onix.walk = compiled

        product_tag = f"{{{NS}}}Product"
        (bare_s, bare_n), = _best(bare, rounds=2)
        if onix.COMPILED:
            (filtered_s, filtered_n), (parse_s, parse_n), (fallback_s, fallback_n) = _best(
                filtered, parse, parse_fallback)
            assert fallback_n == N, fallback_n
        else:
            (filtered_s, filtered_n), (parse_s, parse_n) = _best(filtered, parse)
        assert bare_n == filtered_n == parse_n == N, (bare_n, filtered_n, parse_n)
        report("catalogue_file_mb", size_mb, f"{N} offers")
        report("catalogue_parse_walk", "compiled" if onix.COMPILED else "fallback",
               "lending.catalogue._onixwalk (make cext) or onix.flatten (lxml proxies)")
        report("catalogue_parse_offers_per_s", N / parse_s, "read + map to Offer")
        report("catalogue_bare_iterparse_offers_per_s", N / bare_s, "lxml iterparse + clear, nothing else")
        report("catalogue_parse_over_filtered_iterparse_ratio", parse_s / filtered_s,
               f"vs iterparse stopping only at <Product>, least CPU time of {ROUNDS} rounds each; goal <= 2")
        if onix.COMPILED:
            report("catalogue_parse_fallback_over_filtered_iterparse_ratio", fallback_s / filtered_s,
                   "the same reader with the pure-Python walk (onix.flatten)")
        report("catalogue_parse_over_iterparse_ratio", parse_s / bare_s, "vs every element visited in Python")
        if os.environ.get("CATALOGUE_BENCH_EVENTS", "0") == "1":
            _event_floors(report, path, filtered)
        if os.environ.get("CATALOGUE_BENCH_SYNC", "1") != "0":
            _sync(report, path)


CHUNK = 1 << 16


def _stack_handlers() -> tuple[Callable[[str, Any], None], Callable[[str], None], Callable[[str], None]]:
    """start, data, end doing the least a tree-less reader does: a code per tag (one dict lookup) and the
    stack of open elements (serial and code) that tells a leaf's parent; no leaf read, no record mapped."""
    codes: dict[str, int] = {}
    stack = [0]
    serial = 0

    def start(tag: str, attrib: Any) -> None:
        nonlocal serial
        code = codes.get(tag)
        if code is None:
            code = codes[tag] = len(codes) % 64
        serial += 1
        stack.append(serial * 64 + code)

    def data(text: str) -> None:
        pass

    def end(tag: str) -> None:
        stack.pop()

    return start, data, end


# The leaves the reader maps (lending.catalogue.onix's wanted elements less the composites around them).
_COMPOSITES = frozenset({"EpubUsageLimit", "EpubUsageConstraint", "ProductIdentifier", "Tax", "Price",
                         "SupplyDetail", "SupplierIdentifier", "Contributor", "TitleElement", "TitleDetail",
                         "Publisher"})


def _leaf_handlers(parser: Any = None) -> tuple[Callable[[str, Any], None], Callable[[str], None],
                                                Callable[[str], None]]:
    """As _stack_handlers, and the stripped text of every leaf the reader maps, with its code and its
    parent, kept until the record's end: what a tree-less reader extracts before any mapping. Given a
    pyexpat parser, the text handler is set only inside such a leaf (no call for the text between)."""
    from lending.catalogue import onix

    leaves = frozenset(onix._WANTED) - _COMPOSITES
    codes: dict[str, int] = {}
    stack = [0]
    serial = 0
    leaf_at = 0
    buf: list[str] = []
    texts: list[tuple[int, str, int]] = []

    def start(tag: str, attrib: Any) -> None:
        nonlocal serial, leaf_at, buf
        code = codes.get(tag)
        if code is None:
            name = tag[tag.rfind("}") + 1:]
            code = codes[tag] = 1 if name in leaves else 2 if name == "Product" else 3
        serial += 1
        here = serial * 64 + code
        stack.append(here)
        if code == 1:
            leaf_at, buf = here, []
            if parser is not None:
                parser.CharacterDataHandler = buf.append

    def data(text: str) -> None:
        if leaf_at:
            buf.append(text)

    def end(tag: str) -> None:
        nonlocal leaf_at
        here = stack.pop()
        if here == leaf_at:
            leaf_at = 0
            if parser is not None:
                parser.CharacterDataHandler = None
            texts.append((here & 63, "".join(buf).strip(), stack[-1]))
        elif here & 63 == 2:
            texts.clear()

    return start, data, end


def _event_floors(report: Callable[..., Any], path: Path, filtered: Callable[[], int]) -> None:
    import pyexpat

    from lxml import etree

    class Target:
        def __init__(self, start: Any, data: Any, end: Any) -> None:
            self.start, self.data, self.end = start, data, end

        def close(self) -> None:
            return None

    def lxml_target(handlers: Callable[[], tuple[Any, Any, Any]]) -> Callable[[], int]:
        def run() -> int:
            parser = etree.XMLParser(target=Target(*handlers()), resolve_entities=False, no_network=True,
                                     load_dtd=False, remove_comments=True)
            with open(path, "rb") as f:
                while chunk := f.read(CHUNK):
                    parser.feed(chunk)
            parser.close()
            return N
        return run

    def expat(handlers: Callable[..., tuple[Any, Any, Any]] | None, with_data: bool = True,
              toggled: bool = False) -> Callable[[], int]:
        def run() -> int:
            parser = pyexpat.ParserCreate(namespace_separator="}")  # names interned by default
            parser.buffer_text = True
            if handlers:
                start, data, end = handlers(parser) if toggled else handlers()
                parser.StartElementHandler, parser.EndElementHandler = start, end
                if with_data:
                    parser.CharacterDataHandler = data
            with open(path, "rb") as f:
                while chunk := f.read(CHUNK):
                    parser.Parse(chunk, False)
            parser.Parse(b"", True)
            return N
        return run

    def noop() -> tuple[Any, Any, Any]:
        def start(tag: str, attrib: Any) -> None:
            pass

        def other(value: str) -> None:
            pass

        return start, other, other

    cases = {"target_noop": lxml_target(noop), "target_stack": lxml_target(_stack_handlers),
             "expat_raw": expat(None), "expat_noop": expat(noop),
             "expat_stack_no_data": expat(_stack_handlers, with_data=False),
             "target_leaves": lxml_target(_leaf_handlers),
             "expat_leaves": expat(_leaf_handlers, with_data=False, toggled=True)}
    (base_s, _), *times = _best(filtered, *cases.values())
    notes = {"target_noop": "lxml parser target, start/data/end doing nothing",
             "target_stack": "lxml parser target, handlers keeping the element stack only",
             "expat_raw": "pyexpat, no handler: the parse alone",
             "expat_noop": "pyexpat, start/data/end doing nothing",
             "expat_stack_no_data": "pyexpat, start/end keeping the element stack, no data handler",
             "target_leaves": "lxml parser target, the stack and the text of each mapped leaf, no mapping",
             "expat_leaves": "pyexpat, the same, the text handler set only inside a mapped leaf"}
    for name, (seconds, count) in zip(cases, times, strict=True):
        assert count == N
        report(f"catalogue_{name}_over_filtered_iterparse_ratio", seconds / base_s,
               f"{notes[name]}; {seconds / N * 1e6:.1f} us a record")
    report("catalogue_filtered_iterparse_us_per_record", base_s / N * 1e6)


def _sync(report: Callable[..., Any], path: Path) -> None:
    import boto3

    from lending.local import resources, template
    from lending.local.emulator import LOCAL_ENV

    port = _free_port()
    env = {**os.environ, **LOCAL_ENV, "PYTHONPATH": str(ROOT / "layers/common/python"),
           "POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_TRACE_DISABLED": "1"}
    emulator = subprocess.Popen([sys.executable, "-c", EMULATOR, str(port)], env=env, stdout=subprocess.PIPE,
                                text=True)
    try:
        assert emulator.stdout is not None and emulator.stdout.readline().strip() == "ready"
        saved = dict(os.environ)
        os.environ.update({**LOCAL_ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"})
        try:
            tpl = template.load()
            refs = resources.create_all(tpl)
            env.update(resources.environment(tpl, refs, {}))
            env["AWS_ENDPOINT_URL"] = os.environ["AWS_ENDPOINT_URL"]
            boto3.client("s3").upload_file(str(path), env["BUCKET_NAME"], "bench/offers.xml")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        out = subprocess.run([sys.executable, "-c", SYNC, GLN], env=env, capture_output=True, text=True,
                             check=True, timeout=3000)
        got = json.loads(out.stdout.strip().splitlines()[-1])
        assert got["changed"] == N and not got["error"] and not got["held"], got
        report("catalogue_sync_offers_per_s", N / got["elapsed"],
               "whole sync, writes to moto server over loopback (emulator-bound)")
        report("catalogue_sync_s", got["elapsed"])
        report("catalogue_sync_peak_mb", got["maxrss_mb"], "peak RSS (VmHWM) of the sync subprocess; goal < 256")
    finally:
        emulator.kill()
        emulator.wait()
