"""What a function's cold start loads that it does not need is paid on every new container: these
heavy modules stay out of the functions that never use them, and what a function does need on every
request is loaded at init, not at its first request (tools/benches/a_cold_start.py measures it; the
figures are in docs/cost.md). A test of what is imported, not of time."""

from __future__ import annotations

import ast
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import dataclasses, json, sys
sys.path.insert(0, sys.argv[1])
import app
ours = [(name, m) for name, m in list(sys.modules.items()) if name.startswith("lending")]
built = sorted(f"{name}.{c.__qualname__}" for name, m in ours for c in vars(m).values()
               if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == name)
print(json.dumps([sorted(sys.modules), built]))
"""

CRYPTO = {"cryptography", "lending.lcp.crypto", "lending.lcp.licence", "lending.services.lcp_keys",
          "lending.services.lcp_provider"}
# Each PNB operation's use cases (pnb/operations.py imports them per operation).
ORDERS, OFFERS = "lending.services.orders", "lending.catalogue.updates"
STATUS = "lending.services.order_status"
LOANS, OWN_LOANS, IPS = "lending.services.lending", "lending.services.collectivity_loans", "lending.services.ips"
PNB = {ORDERS, STATUS, OFFERS, LOANS, OWN_LOANS, IPS}
# No function loads a schema library: PNB's request contract is validated by lending.validation, plain
# Python (pydantic-core's package alone was 0.11-0.13 of every PNB function's ratio: docs/cost.md).
NO_SCHEMA_LIBRARY = {"pydantic", "pydantic_core"}

CASES: list[tuple[str, set[str], set[str]]] = [  # (function, kept out, loaded at init)
    # LCP's crypto only for a loan that asks for it; each function its own operation's use cases alone.
    ("pnb_loan_book", {"asyncio", "lxml", *CRYPTO, *(PNB - {LOANS})}, {LOANS, "lending.pnb.requests"}),
    ("pnb_consult_book", {"asyncio", *CRYPTO, *(PNB - {LOANS})}, {LOANS}),
    ("pnb_send_order", {"asyncio", *CRYPTO, *(PNB - {ORDERS})}, {ORDERS}),
    ("pnb_get_orders", {"asyncio", *CRYPTO, *(PNB - {STATUS})}, {STATUS}),
    ("pnb_get_loan_status", {"asyncio", *CRYPTO, *(PNB - {STATUS})}, {STATUS, "lending.services.lines"}),
    ("pnb_get_offers", {"asyncio", *CRYPTO, *(PNB - {OFFERS})}, {OFFERS}),
    ("pnb_declare_ip", {"asyncio", *CRYPTO, *(PNB - {IPS})}, {IPS}),
    ("pnb_return_loan", {"asyncio", *CRYPTO, ORDERS, STATUS, OFFERS, IPS}, {OWN_LOANS}),
    ("pnb_get_user_agent", {"asyncio", *CRYPTO, *PNB}, {"lending.domain.user_agents"}),
    # SOAP serves every operation: each one's use cases load at its first call; xmlschema at the first refusal.
    ("pnb_soap", {"asyncio", "xmlschema", *CRYPTO, *PNB}, {"lxml", "lending.pnb.soap.schema"}),
    ("pnb_unknown_service", {"asyncio", "lxml", *CRYPTO, *PNB}, set()),
    # The XML doors escape with lending.web's two functions, not the xml.sax package (~1 ms of init).
    ("v1_create_loan", {"asyncio", "xml.sax", *CRYPTO}, {"lending.services.patron_loans"}),
    ("v1_get_loan", {"asyncio", "xml.sax", *CRYPTO}, {"lending.services.patron_loans"}),
    # A hold route loads no loan use case (v1/holds.py).
    ("v1_place_hold", {"asyncio", "xml.sax", *CRYPTO, "lending.services.patron_loans", "lending.v1.actions"},
     {"lending.services.holds"}),
    ("v1_list_holds", {"asyncio", "xml.sax", *CRYPTO, "lending.services.patron_loans", "lending.v1.actions"},
     {"lending.services.holds"}),
    ("v1_opds", {"asyncio", "xml.sax", *CRYPTO}, {"lending.harvest.opds"}),
    ("v1_resources", {"asyncio", "xml.sax", *CRYPTO}, {"lending.harvest.cantook"}),
    # The warehouse's LCP loans and LCP's licences sign at their first call; status documents never do.
    ("warehouse_lend", {"asyncio", "lxml", *CRYPTO}, {"lending.services.warehouse_loans"}),
    ("warehouse_return", {"asyncio", "lxml", *CRYPTO}, {"lending.services.warehouse_loans"}),
    ("lcp", {"asyncio", "lxml", *CRYPTO, "lending.downloads", OFFERS}, {"lending.services.lcp", "lending.lcp.status"}),
    ("callback_delivery", {"asyncio", "lxml", *CRYPTO}, set()),  # no Powertools batch utility (asyncio)
    ("outbox_sweeper", {"asyncio", "lxml", *CRYPTO, *PNB}, set()),
    # The FTP login checks a password: none of what writes the files (files/access.py).
    ("ftp_identity", {"asyncio", "lxml", *CRYPTO, *PNB, "lending.files.ftp", "lending.catalogue.onix"},
     {"lending.files.access"}),
]


@functools.cache
def _probe(function: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """What importing the function loads: the modules, and the dataclasses of `lending` among them."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers/common/python"), "AWS_DEFAULT_REGION": "eu-west-3",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "TABLE_NAME": "t"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "functions" / function)], env=env,
                         capture_output=True, text=True, timeout=60, check=True)
    modules, built = json.loads(out.stdout.strip().splitlines()[-1])
    return frozenset(modules), tuple(built)


def _loaded(function: str) -> set[str]:
    return set(_probe(function)[0])


def _among(loaded: set[str], name: str) -> bool:
    """`name` or one of its submodules was imported."""
    return any(m == name or m.startswith(name + ".") for m in loaded)


@pytest.mark.parametrize(("function", "kept_out", "kept_in"), CASES, ids=[c[0] for c in CASES])
def test_a_function_loads_what_it_uses_and_none_of_what_it_does_not(function: str, kept_out: set[str],
                                                                     kept_in: set[str]) -> None:
    loaded = _loaded(function)
    kept_out = kept_out | NO_SCHEMA_LIBRARY
    assert not [m for m in sorted(kept_out) if _among(loaded, m)], f"{function} loads what it does not use"
    assert [m for m in sorted(kept_in) if not _among(loaded, m)] == [], f"{function} leaves its own to the first call"


# A dataclass generates and compiles its methods when its module is imported (0.3-0.8 ms a class): the
# records of every init path are domain/values.py classes instead. PNB's operation table stays one (its
# module is the request-contract work's).
DATACLASSES_AT_INIT = {"lending.pnb.operations.Operation"}


@pytest.mark.parametrize("function", [c[0] for c in CASES])
def test_a_function_builds_no_dataclass_of_its_own_at_init(function: str) -> None:
    assert set(_probe(function)[1]) <= DATACLASSES_AT_INIT


def test_every_case_names_a_function() -> None:
    assert {c[0] for c in CASES} <= {p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()}


# Imported by an operation only for the requests that need it, never prepared at init: LCP's code (and
# its cryptography) for a loan that asks for a licence.
ON_DEMAND = {"lending.services.lcp"}


def _local_imports(fn: ast.FunctionDef) -> set[str]:
    """The modules a function imports in its body: `from ..domain.loans import X` -> lending.domain.loans,
    `from ..services import lending` -> lending.services.lending."""
    out = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:  # relative to lending.pnb
            if "." in node.module:
                out.add(f"lending.{node.module}")
            else:
                out.update(f"lending.{node.module}.{alias.name}" for alias in node.names)
    return out


def test_each_pnb_operation_prepares_every_use_case_it_imports() -> None:
    from lending.pnb import operations

    tree = ast.parse(Path(operations.__file__).read_text())
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}

    def reached(name: str, seen: set[str]) -> set[str]:
        if name in seen or name not in functions:
            return set()
        seen.add(name)
        fn = functions[name]
        called = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id in functions}
        return _local_imports(fn).union(*(reached(c, seen) for c in called))

    for service, op in operations.OPERATIONS.items():
        imported = reached(op.call.__name__, set()) - ON_DEMAND
        assert imported - {f"lending.{m}" for m in op.uses} == set(), service


# Every function of template.yaml loaded in one process, as each container would load it (the table's
# client built at init): the modules of boto3's own (not botocore's) each one has pulled in by then.
EVERY_FUNCTION = """
import json, sys
from lending.local import functions, template
found = {}
for fn in sorted(template.functions(template.load()).values(), key=lambda f: f.name):
    functions.handler(fn)
    found[fn.name] = sorted(m for m in ("boto3", "s3transfer") if m in sys.modules)
print(json.dumps(found))
"""


def test_no_function_imports_boto3_at_init() -> None:
    """The hub's clients come from a botocore session (lending/aws.py) and its items go through its own codec
    (store/codec.py): `import boto3` (s3transfer, multiprocessing...) was about 17 ms of every cold start.
    tests/integration/test_cold_requests.py serves each function its sample request too."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers/common/python"), "AWS_DEFAULT_REGION": "eu-west-3",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "TABLE_NAME": "t"}
    out = subprocess.run([sys.executable, "-c", EVERY_FUNCTION], env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(found) == len(list((ROOT / "functions").glob("*/app.py")))
    assert {name: modules for name, modules in found.items() if modules} == {}
