"""The import contract: imports only go down, domain <- store <- services <- doors <- functions.

Read from the source (AST), not by importing it, so the whole package is checked at once in a few
milliseconds. KNOWN lists what still crosses a line today, each with why; it may only shrink (a
test below fails when an entry is no longer needed)."""

from __future__ import annotations

import ast
import pathlib
from collections import defaultdict

import lending

ROOT = pathlib.Path(lending.__file__).parent
FUNCTIONS = ROOT.parents[3] / "functions"

# What each layer may import (besides itself). "base" modules sit under every layer but the domain:
# the AWS client factory, the warm-container cache, the clock seam, logging/metrics, the request-schema engine,
# what counts as text.
BASE = {"aws", "cache", "clock", "observability", "text", "validation"}
DOORS = {"pnb", "v1", "warehouse", "web", "lsd", "downloads"}
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    # Readium LCP's pure parts (licences, canonical form, EPUB encryption, status documents): a second
    # core beside the domain, no AWS and no clock of its own.
    "lcp": {"domain"},
    "store": {"domain", "lcp"} | BASE,
    # The use cases and their adapters (ONIX files and feeds, early-return events) are one layer.
    "services": {"domain", "lcp", "store", "notify", "catalogue"} | BASE,
    "catalogue": {"domain", "lcp", "store", "services"} | BASE,
    "notify": {"domain", "store"} | BASE,
    "pnb": {"domain", "services", "catalogue", "web"} | BASE,
    "v1": {"domain", "services", "web"} | BASE,
    "warehouse": {"domain", "services", "web"} | BASE,
    "lsd": {"domain", "services", "web", "downloads"} | BASE,  # LCP licence status documents (reading apps);
    # its `license` link answers the licence file as the fulfillment link does (downloads.door.licence_answer)
    "downloads": {"domain", "services", "catalogue", "web"} | BASE,  # GETs of signed links (a loan's file, ONIX)
    "web": BASE,
    # The library's catalogue for harvesters (Cantook v1 resources, OPDS 2): a v1-family door, it shares
    # v1's key check, paging parameters and error table.
    "harvest": {"domain", "services", "v1", "web"} | BASE,
    # The web console for library staff (server-rendered pages over the same use cases).
    # The distributor's offers go through the ONIX path (catalogue.console_offers), as PNB's getOffers reads it.
    "console": {"domain", "services", "catalogue", "web"} | BASE,
    # The patron space (patrons' own pages and online reader): a door over the same use cases that
    # renders with the console's templates, words, HTTP helpers and refusal statuses.
    "patron": {"domain", "services", "web", "console"} | BASE,
    # PMB-shaped FTP files: the writers, the job that publishes them and Transfer Family's login (an
    # adapter beside the catalogue: it reads licences and offers through the store, as the ONIX sync does).
    "files": {"domain", "store", "catalogue", "services"} | BASE,
    "aws": set(),
    "cache": set(),
    "clock": set(),
    "observability": {"coldstart"},  # every handler's wrapper resumes the collector init paused
    "coldstart": set(),  # the collector during a Lambda container's init (lending/__init__.py pauses it)
    "text": set(),
    "validation": {"domain", "text"},  # https_url: the one HTTPS-only rule (text.secure_scheme)
    "local": set(),  # not shipped: may import anything (checked by nothing here)
}
FUNCTIONS_MAY_NOT = {"store", "local"}

# (importer module, imported package): why it is still there. Remove an entry with its cause.
KNOWN: dict[tuple[str, str], str] = {
    ("lending.warehouse.billing", "local"): "resource names of the local stack, looked up lazily when emulated",
    ("lending.notify.redrive", "local"): "resource names of the local stack, looked up lazily when emulated",
    ("lending.catalogue.epub_files", "warehouse"): "make epub-file finds the stack's resources by the billing "
                                                   "tool's resolver (warehouse.billing.resolve_names)",
}


def _imports(path: pathlib.Path, module: str) -> set[str]:
    """Every lending module `path` imports (relative imports resolved)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
            else:
                names = [node.module or ""]
            out.update(n for n in names if n.startswith("lending"))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("lending"))
    return out


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _crossings() -> set[tuple[str, str]]:
    out = set()
    for module, path in _modules().items():
        layer = _layer(module)
        if layer is None or layer == "local":
            continue
        for target in _imports(path, module):
            other = _layer(target)
            if other is not None and other != layer and other not in ALLOWED[layer]:
                out.add((module, other))
    return out


def test_imports_only_go_down() -> None:
    crossings = _crossings()
    assert sorted(crossings - set(KNOWN)) == []  # a new crossing: call a use case instead
    assert sorted(set(KNOWN) - crossings) == []  # fixed: remove it from KNOWN


def test_no_package_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in _modules().items():
        layer = _layer(module)
        if layer in (None, "local"):
            continue
        for target in _imports(path, module):
            other = _layer(target)
            if other not in (None, layer, "local"):
                graph[layer].add(other)  # type: ignore[index]

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    assert sorted(p for p in list(graph) if reaches(p, p, set())) == []


def test_every_layer_is_named() -> None:
    assert {_layer(m) for m in _modules()} - {None} <= set(ALLOWED)


def test_functions_only_reach_doors_and_use_cases() -> None:
    bad = []
    for app in FUNCTIONS.glob("*/app.py"):
        for target in _imports(app, f"functions.{app.parent.name}.app"):
            if _layer(target) in FUNCTIONS_MAY_NOT:
                bad.append(f"{app.parent.name}: {target}")
    assert bad == []


def test_one_clock_seam() -> None:
    """Wall time is read in lending/clock.py only: every door and job gets `now` through it (Ctx),
    so a test can freeze it for all of them."""
    import re

    wall = re.compile(r"datetime\.now\(|datetime\.utcnow\(|time\.time\(\)")
    found = [f"{p.relative_to(ROOT)}:{n}" for p in ROOT.rglob("*.py") if "local" not in p.parts
             and p.name != "clock.py" for n, line in enumerate(p.read_text().splitlines(), 1) if wall.search(line)]
    found += [f"functions/{p.parent.name}:{n}" for p in FUNCTIONS.glob("*/app.py")
              for n, line in enumerate(p.read_text().splitlines(), 1) if wall.search(line)]
    assert found == []


# The doors: each decodes, calls a use case, encodes. None of them reads or writes the store itself.
DOOR_PACKAGES = DOORS | {"harvest", "console", "patron"}


def _importers_of(layers: set[str], targets: set[str]) -> list[str]:
    return sorted(f"{module} -> {target}" for module, path in _modules().items() if _layer(module) in layers
                  for target in _imports(path, module) if _layer(target) in targets)


def test_no_door_imports_the_store() -> None:
    """Whatever a door needs of the store is a use case in services/ (no KNOWN exception here)."""
    assert _importers_of(DOOR_PACKAGES, {"store"}) == []
    assert not {"store"} & set().union(*(ALLOWED[d] for d in DOOR_PACKAGES))


def test_use_cases_never_import_a_door() -> None:
    """services/ takes typed requests and returns typed results: no door's models, words or answers,
    directly or through the adapters it uses (catalogue, notify)."""
    assert _importers_of({"services"}, DOOR_PACKAGES) == []
    assert not DOOR_PACKAGES & ALLOWED["services"]
    assert _importers_of({"catalogue", "notify"}, DOOR_PACKAGES - {"warehouse"}) == []
