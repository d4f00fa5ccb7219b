"""The ONIX reader's walk in C (layers/common/src/onixwalk.c) against its definition, `onix.flatten` (lxml's
proxies): identical flat forms (codes, texts, and which entries are the same object: the mapping compares
parents by identity) on the varied corpus, on generated odd products (comments, PIs, CDATA, entities,
other namespaces, unicode whitespace, mixed content, nesting), on huge ones; the same Offers and rejections
whichever walk the reader uses; no crash, no leak. The extension is compiled here when out of date
(tools/cext.py, what `make test` does first), so this file never runs without it."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from lending.catalogue import onix
from tests.unit.test_onix_corpus import EXPECTED_COUNTS, EXPECTED_DIGEST, Corpus, outcome
from tools import cext

ROOT = Path(__file__).resolve().parents[2]
Walk = Callable[[Any], list[onix.Entry]]


@pytest.fixture(scope="module")
def compiled() -> Walk:
    cext.build_host()
    module = importlib.import_module("lending.catalogue._onixwalk")
    module.setup(etree._Element, onix._NAME_OF, onix._LEAF, onix._LISTED)
    walk: Walk = module.walk
    return walk


def canonical(flat: list[onix.Entry]) -> list[tuple[int, int, str, int]]:
    """The flat form as plain values: each object (listed entry, or a parent made for the walk) numbered
    in the order first met, as (number, code, text, number of its parent or -1); listed ones first, in
    order. Equal canonical forms: equal codes and texts and the same sharing of parents."""
    numbers: dict[int, int] = {}
    keep: list[Any] = []  # ids stay valid while the objects live
    out: list[tuple[int, int, str, int]] = []
    pending = list(flat)
    for e in flat:
        numbers[id(e)] = len(numbers)
        keep.append(e)
    done: set[int] = set()
    at = 0
    while at < len(pending):
        e = pending[at]
        at += 1
        if id(e) in done:
            continue
        done.add(id(e))
        code, parent, text = e
        assert type(e) is tuple and len(e) == 3 and type(code) is int and type(text) is str
        if parent is None:
            up = -1
        else:
            if id(parent) not in numbers:
                numbers[id(parent)] = len(numbers)
                keep.append(parent)
                pending.append(parent)
            up = numbers[id(parent)]
        out.append((numbers[id(e)], code, text, up))
    return out


def products(xml: bytes, **options: Any) -> Iterator[Any]:
    for _, el in etree.iterparse(io.BytesIO(xml), tag=(f"{onix._Q}Product", "Product"), resolve_entities=False,
                                 no_network=True, load_dtd=False, **options):
        yield el


def same(compiled: Walk, el: Any) -> list[tuple[int, int, str, int]]:
    ours = canonical(compiled(el))
    assert ours == canonical(onix.flatten(el))
    return ours


def test_the_reader_uses_the_compiled_walk_when_it_is_built() -> None:
    cext.build_host()
    out = subprocess.run([sys.executable, "-c", "from lending.catalogue import onix; print(onix.COMPILED)"],
                         cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": "layers/common/python"})
    assert out.stdout.strip() == "True", out.stderr


def test_both_walks_give_the_same_flat_form_of_the_corpus(compiled: Walk) -> None:
    corpus = Corpus(16)
    seen = 0
    for _ in range(60):
        message = corpus.message(50)
        for options in ({"remove_comments": True}, {"remove_comments": False, "strip_cdata": False}):
            for el in products(message, **options):
                same(compiled, el)
                seen += 1
    assert seen == 6000


@pytest.mark.parametrize("which", ["compiled", "flatten"])
def test_the_reader_makes_the_same_notices_with_either_walk(which: str, compiled: Walk,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onix, "walk", compiled if which == "compiled" else onix.flatten)
    assert outcome() == (EXPECTED_COUNTS, EXPECTED_DIGEST)


def test_what_the_flat_form_holds(compiled: Walk) -> None:
    xml = (b'<Product xmlns="http://ns.editeur.org/onix/3.0/reference" xmlns:o="urn:other">'
           b"<RecordReference> r1 </RecordReference><DescriptiveDetail><Contributor><o:PersonName>\xc2\xa0A"
           b"\xe3\x80\x80</o:PersonName></Contributor></DescriptiveDetail><ProductSupply><SupplyDetail>"
           b"<Supplier><SupplierIdentifier><IDValue>1<!--c-->2</IDValue></SupplierIdentifier><Other>"
           b"<SupplierIdentifier/></Other></Supplier></SupplyDetail></ProductSupply></Product>")
    el = etree.fromstring(xml)
    flat = compiled(el)
    assert canonical(flat) == canonical(onix.flatten(el))
    root, ref, contributor, person, supply, supplier_id, idvalue, supplier_id2 = flat
    assert root == (0, None, "") and ref[2] == "r1"
    assert contributor[1][0] == onix._DESCRIPTIVE_DETAIL and contributor[1][1] is root  # made for its children
    assert person[1] is contributor and person[2] == "A"  # any namespace; str.strip's whitespace
    assert supplier_id[1][1] is supply and supplier_id[1][0] == 0  # <Supplier>, made, with its parent
    assert idvalue[2] == "1"  # lxml's .text stops at the comment
    assert supplier_id2[1] is not supplier_id[1] and supplier_id2[1][1] is supplier_id[1]  # <Other>'s own
    assert supplier_id[1][1] is supply and supplier_id[2] == supply[2] == ""  # composites have no text


# --- odd products, generated ------------------------------------------------------------------------

NAMES = ["Product", "DescriptiveDetail", "Supplier", "X", *onix._WANTED]
NAMESPACES = ["", f' xmlns="{onix.NS}"', ' xmlns="urn:other"', ' xmlns:p="urn:p"']
TEXTS = st.text(alphabet=st.sampled_from([*"ab01 \t\n\r", "\xa0", "\u2003", "\u3000", "\x85", "é", "€", "\U0001f600",
                                          "<", "&", "]"]), max_size=6)
DOCTYPE = '<!DOCTYPE Product [<!ENTITY e "ent"><!ENTITY el "<Quantity>9</Quantity>">]>'


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("]]>", "]]&gt;")


@st.composite
def content(draw: Any, depth: int) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4 if depth < 5 else 0))):
        kind = draw(st.sampled_from(["element", "element", "element", "text", "cdata", "comment", "pi", "entity",
                                     "element_entity", "charref"]))
        if kind == "element":
            name = draw(st.sampled_from(NAMES))
            prefixed = draw(st.booleans()) and draw(st.booleans())
            tag = f"p:{name}" if prefixed else name
            ns = ' xmlns:p="urn:p"' if prefixed else draw(st.sampled_from(NAMESPACES))
            parts.append(f"<{tag}{ns}>{draw(content(depth + 1))}</{tag}>")
        elif kind == "text":
            parts.append(escape(draw(TEXTS)))
        elif kind == "cdata":
            parts.append(f"<![CDATA[{draw(TEXTS).replace(']]>', '')}]]>")
        elif kind == "comment":
            parts.append(f"<!--{draw(TEXTS).replace('-', '')}-->")
        elif kind == "pi":
            parts.append(f"<?pi {escape(draw(TEXTS)).replace('?', '')}?>")
        elif kind == "entity":
            parts.append("&e;")
        elif kind == "element_entity":
            parts.append("&el;")
        else:
            parts.append("&#xa0;&#32;")
    return "".join(parts)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=content(0), ns=st.sampled_from(NAMESPACES), remove_comments=st.booleans(), dtd=st.booleans(),
       resolve=st.booleans(), strip_cdata=st.booleans())
def test_both_walks_agree_on_odd_products(compiled: Walk, body: str, ns: str, remove_comments: bool, dtd: bool,
                                          resolve: bool, strip_cdata: bool) -> None:
    if not dtd:
        body = body.replace("&e;", "").replace("&el;", "")
    xml = f"{DOCTYPE if dtd else ''}<Product{ns}>{body}</Product>".encode()
    parser = etree.XMLParser(resolve_entities=resolve, no_network=True, load_dtd=False,
                             remove_comments=remove_comments, strip_cdata=strip_cdata)
    root = etree.fromstring(xml, parser)
    same(compiled, root)
    for el in root.iter():  # every element as a product of its own, too
        if isinstance(el.tag, str):
            same(compiled, el)


def test_huge_products_are_walked_without_recursion(compiled: Walk) -> None:
    """100,000 elements side by side; 20,000 nested (lxml's own SubElement and iter() slow down with depth:
    deeper would only make this test long, the walk itself being iterative)."""
    deep = etree.Element("Product")
    el = deep
    for i in range(20_000):
        el = etree.SubElement(el, ("Price", "X", "DescriptiveDetail", "Quantity")[i % 4])
        el.text = " 1 "
    flat = same(compiled, deep)
    assert len(flat) == 1 + 10_000 + 5_000  # the root, Price and Quantity listed, parents made for the others
    wide = etree.Element("Product")
    for i in range(100_000):
        etree.SubElement(wide, "Quantity" if i % 2 else "Other").text = str(i)
    assert len(same(compiled, wide)) == 1 + 50_000


def test_anything_but_an_element_is_refused(compiled: Walk) -> None:
    for wrong in (None, "Product", b"<Product/>", 1, etree.Comment("c"), etree.PI("pi", "x"), etree.Entity("e"),
                  etree.ElementTree(etree.Element("Product"))):
        for walk in (compiled, onix.flatten):
            with pytest.raises(TypeError):
                walk(wrong)


def test_walking_leaks_nothing(compiled: Walk) -> None:
    message = Corpus(3).message(50)
    els = [etree.fromstring(etree.tostring(p)) for p in products(message)]
    for el in els:
        compiled(el)
    before = sys.getallocatedblocks()
    for _ in range(20):
        for el in els:
            compiled(el)
    assert sys.getallocatedblocks() - before < 50  # 1,000 walks of ~30 entries each; a leak would be 30,000+
    refused = 0
    before = sys.getallocatedblocks()
    for _ in range(200):
        try:
            compiled("x")
        except TypeError:
            refused += 1
    assert sys.getallocatedblocks() - before < 50
    assert refused == 200


LOOP = """
import resource, sys
sys.path[:0] = ["layers/common/python", "."]
from lending.catalogue import onix
from tools.benches.catalogue import PRODUCT
from lxml import etree
assert onix.COMPILED
p = etree.fromstring(PRODUCT.format(ean="9791000000015", i=1, gln="3010999000018", loans=10, ttc="5.00",
                                    ht="4.74").replace("<Product>", '<Product xmlns="%s">' % onix.NS))
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
for _ in range(10_000):
    onix.walk(p)
start = rss()
for _ in range(100_000):
    onix.walk(p)
print(rss() - start)
"""


def test_a_hundred_thousand_walks_do_not_grow_memory() -> None:
    cext.build_host()
    out = subprocess.run([sys.executable, "-c", LOOP], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) < 1_000_000  # bytes; 100,000 walks of 33 entries leaking one would be 3 MB+


DEV = """
import sys
sys.path[:0] = ["layers/common/python", "."]
from lending.catalogue import onix
from tests.unit import test_onix_walk as t
assert onix.COMPILED
corpus = t.Corpus(5)
for _ in range(10):
    for el in t.products(corpus.message(50), remove_comments=False):
        assert t.canonical(onix.walk(el)) == t.canonical(onix.flatten(el))
t.test_huge_products_are_walked_without_recursion(onix.walk)
print("ok")
"""


def test_the_walk_under_python_dev_mode() -> None:
    """Dev mode: the debug memory allocators' checks (buffer overruns, use after free) and warnings."""
    cext.build_host()
    out = subprocess.run([sys.executable, "-X", "dev", "-W", "error", "-c", DEV], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert (out.returncode, out.stdout.strip(), out.stderr) == (0, "ok", "")
