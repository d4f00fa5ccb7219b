"""Nothing of the console (its package, Jinja2, Argon2, pyotp, segno) is imported at the cold start of
any other function but the patron space's (the same web pages): each handler module is loaded in a
fresh interpreter, those two last, and the modules each one brought in are checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lending.local import template

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_ONLY = ("lending.console", "jinja2", "markupsafe", "argon2", "pyotp", "segno", "lending.services.staff",
                "lending.services.console")
WEB = ("PatronFunction", "ConsoleFunction")  # the pages: the console's own, and the patron space built on it

PROBE = """
import importlib.util, json, sys
found = {}
for name, path in json.loads(sys.argv[1]):
    spec = importlib.util.spec_from_file_location(f"fn_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found[name] = sorted(m for m in sys.modules if m.split(".")[0] in {p.split(".")[0] for p in PREFIXES}
                         and any(m == p or m.startswith(p + ".") for p in PREFIXES))
print(json.dumps(found))
"""


def test_no_function_but_the_console_imports_the_console() -> None:
    fns = template.functions(template.load())
    order = sorted(fns.items(), key=lambda kv: (kv[0] in WEB, WEB.index(kv[0]) if kv[0] in WEB else 0, kv[0]))
    pairs = [(name, str(fn.code_uri / "app.py")) for name, fn in order]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers/common/python"), "AWS_DEFAULT_REGION": "eu-west-3",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "TABLE_NAME": "t",
           "POWERTOOLS_TRACE_DISABLED": "1"}
    code = f"PREFIXES = {CONSOLE_ONLY!r}\n" + PROBE
    out = subprocess.run([sys.executable, "-c", code, json.dumps(pairs)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout)
    assert {name: mods for name, mods in found.items() if mods and name not in WEB} == {}
    assert "lending.console.http" in found["PatronFunction"]  # the probe does see them when they are there
