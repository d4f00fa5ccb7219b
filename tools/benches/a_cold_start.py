"""Cold start of every function: a fresh interpreter imports the handler and builds its clients,
as a ratio to a bare `import boto3` plus one DynamoDB client (goal: every ratio <= 1.3)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))

BASELINE = """
import time; t = time.perf_counter()
import boto3; boto3.client("dynamodb")
print(time.perf_counter() - t)
"""

HANDLER = """
import time, importlib.util, sys; t = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1]); m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
from lending.store import table; table.client()
print(time.perf_counter() - t)
"""


def _time(code: str, *args: str) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers/common/python"),
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "TABLE_NAME": "t",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run(report: Callable[..., Any]) -> None:
    sys.path.insert(0, str(ROOT / "layers/common/python"))
    from lending.local import template

    fns = template.functions(template.load())
    _time(BASELINE)  # warm the file cache and byte-code
    base = statistics.median(_time(BASELINE) for _ in range(RUNS))
    report("cold_start_baseline_s", base, "import boto3 + one DynamoDB client")
    ratios = {}
    for name, fn in sorted(fns.items()):
        path = str(fn.code_uri / "app.py")
        _time(HANDLER, path)
        ratio = statistics.median(_time(HANDLER, path) for _ in range(RUNS)) / base
        ratios[name] = ratio
        report(f"cold_start_ratio_{name}", ratio)
    report("cold_start_ratio_max", max(ratios.values()), "goal <= 1.3")
