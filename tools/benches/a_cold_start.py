"""Cold start of every function: a fresh interpreter imports the handler and builds its clients,
as a ratio to a bare `import boto3` plus one DynamoDB client (goal: every ratio <= 1.3).

Each function's runs alternate with baseline runs and both are timed in CPU time (process_time), so
a busy machine moves both sides alike instead of skewing the ratio; the wall-clock ratio is kept too."""

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
import time; t, c = time.perf_counter(), time.process_time()
import boto3; boto3.client("dynamodb")
print(time.perf_counter() - t, time.process_time() - c)
"""

HANDLER = """
import time, importlib.util, sys; t, c = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("app", sys.argv[1]); m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
from lending.store import table; table.client()
print(time.perf_counter() - t, time.process_time() - c)
"""


def _time(code: str, *args: str) -> tuple[float, float]:
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
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def run(report: Callable[..., Any]) -> None:
    sys.path.insert(0, str(ROOT / "layers/common/python"))
    from lending.local import template

    fns = template.functions(template.load())
    _time(BASELINE)  # warm the file cache and byte-code
    bases: list[tuple[float, float]] = []
    cpu_ratios, wall_ratios = {}, {}
    for name, fn in sorted(fns.items()):
        path = str(fn.code_uri / "app.py")
        _time(HANDLER, path)
        pairs = [(_time(BASELINE), _time(HANDLER, path)) for _ in range(RUNS)]
        bases.extend(b for b, _ in pairs)
        cpu_ratios[name] = statistics.median(h[1] for _, h in pairs) / statistics.median(b[1] for b, _ in pairs)
        wall_ratios[name] = statistics.median(h[0] for _, h in pairs) / statistics.median(b[0] for b, _ in pairs)
        report(f"cold_start_ratio_{name}", cpu_ratios[name], f"wall clock {wall_ratios[name]:.3f}")
    report("cold_start_baseline_s", statistics.median(b[0] for b in bases), "import boto3 + one DynamoDB client")
    report("cold_start_ratio_max", max(cpu_ratios.values()), "goal <= 1.3 (CPU time)")
    report("cold_start_wall_ratio_max", max(wall_ratios.values()), "the same in wall-clock time")
