"""Readium's r2-lcp-js for the proof: installed from the npm registry into tests/lcp/node/node_modules
(git-ignored) by `make test`, or here when a run starts without it (pinned by package-lock.json)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

NODE_DIR = Path(__file__).parent / "node"
SCHEMAS = Path(__file__).parent / "schema"


@pytest.fixture(scope="session")
def r2_lcp() -> Path:
    """The harness script, with r2-lcp-js installed beside it."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "Node.js and npm are needed for the r2-lcp-js proof (make test installs them)"
    if not (NODE_DIR / "node_modules" / "r2-lcp-js" / "package.json").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True,
                       timeout=300)
    return NODE_DIR / "open_licence.js"


def open_with_r2(script: Path, licence: dict[str, Any], epub: bytes, passphrase: str, tmp: Path) -> dict[str, Any]:
    (tmp / "loan.lcpl").write_text(json.dumps(licence))
    (tmp / "book.epub").write_bytes(epub)
    out = subprocess.run(["node", str(script), str(tmp / "loan.lcpl"), str(tmp / "book.epub"), passphrase],
                         capture_output=True, text=True, timeout=120, cwd=NODE_DIR)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def lsd_with_r2(script: Path, action: str, status_url: str, device: str, name: str, end: str = "") -> dict[str, Any]:
    """One LSD interaction made by r2-lcp-js's own client (lsd/register, renew, return)."""
    args = ["node", str(script.parent / "lsd_client.js"), action, status_url, device, name, *([end] if end else [])]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=NODE_DIR)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def validate(doc: dict[str, Any], name: str) -> None:
    """Against Readium's published schema (`license` or `status`), formats checked."""
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft7Validator(schema, registry=_registry(),
                               format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(doc)
