"""What a function's cold start loads that it does not need is paid on every new container: these
heavy modules stay out of the functions that never use them (tools/benches/a_cold_start.py measures it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import app
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("asyncio", "cryptography", "lxml"))))
"""


@pytest.mark.parametrize(("function", "kept_out"), [
    ("pnb_loan_book", {"cryptography", "asyncio"}),  # LCP's crypto only for a loan that asks for it
    ("pnb_soap", {"cryptography", "asyncio"}),
    ("v1_create_loan", {"cryptography", "asyncio"}),
    ("v1_get_loan", {"cryptography", "asyncio"}),
    ("callback_delivery", {"asyncio", "lxml", "cryptography"}),  # no Powertools batch utility (asyncio)
])
def test_a_function_loads_none_of_what_it_does_not_use(function: str, kept_out: set[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers/common/python"), "AWS_DEFAULT_REGION": "eu-west-3",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "TABLE_NAME": "t"}
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "functions" / function)], env=env,
                         capture_output=True, text=True, timeout=60, check=True)
    loaded = {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}
    assert not loaded & kept_out, f"{function} loads {sorted(loaded & kept_out)}"
