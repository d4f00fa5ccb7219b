"""Cold start of every function from the layer as `make build` ships it (tools.build: the requirements,
the lending package and its bytecode; imported with no bytecode written, /opt being read-only), and the
function's own zip: a fresh interpreter imports the handler and builds its clients, as a ratio to a bare
`import boto3` plus one DynamoDB client (goal: every ratio <= 1.15). The layer is staged for this
machine's architecture (the deployed one's binary wheels would not load here); its Python is the same.

Each function's runs alternate with baseline runs and both are timed in CPU time (process_time), so
a busy machine moves both sides alike instead of skewing the ratio; the wall-clock ratio is kept too."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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
import time, sys; t, c = time.perf_counter(), time.process_time()
sys.path.insert(0, sys.argv[1]); import app  # as Lambda's runtime does: the task root first, then /opt/python
from lending.store import table; table.client()
print(time.perf_counter() - t, time.process_time() - c)
"""


LAYER_PATH = str(ROOT / "layers/common/python")


def _time(code: str, *args: str) -> tuple[float, float]:
    env = {
        **os.environ,
        "PYTHONPATH": LAYER_PATH,
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "TABLE_NAME": "t",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",  # /opt and /var/task are read-only on Lambda
    }
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def run(report: Callable[..., Any]) -> None:
    global LAYER_PATH
    sys.path.insert(0, str(ROOT / "layers/common/python"))
    from lending.local import template
    from tools import build

    fns = template.functions(template.load())
    work = Path(tempfile.mkdtemp(prefix="cold-start-"))
    try:
        layer = build.stage_layer(work / "layer", build.HOST_ARCH)
        LAYER_PATH = str(layer)
        report("layer_pyc_files", len(list(layer.rglob("*.pyc"))), f"for {len(list(layer.rglob('*.py')))} .py")
        code = {name: build.stage_function(fn.code_uri, work / "functions" / name) for name, fn in fns.items()}
        _measure(report, code)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _measure(report: Callable[..., Any], code: dict[str, Path]) -> None:
    _time(BASELINE)  # warm the file cache and byte-code
    bases: list[tuple[float, float]] = []
    cpu_ratios, wall_ratios = {}, {}
    for name, folder in sorted(code.items()):
        path = str(folder)
        _time(HANDLER, path)
        pairs = [(_time(BASELINE), _time(HANDLER, path)) for _ in range(RUNS)]
        bases.extend(b for b, _ in pairs)
        cpu_ratios[name] = statistics.median(h[1] for _, h in pairs) / statistics.median(b[1] for b, _ in pairs)
        wall_ratios[name] = statistics.median(h[0] for _, h in pairs) / statistics.median(b[0] for b, _ in pairs)
        report(f"cold_start_ratio_{name}", cpu_ratios[name], f"wall clock {wall_ratios[name]:.3f}")
    report("cold_start_baseline_s", statistics.median(b[0] for b in bases), "import boto3 + one DynamoDB client")
    report("cold_start_ratio_max", max(cpu_ratios.values()), "goal <= 1.15 (CPU time)")
    report("cold_start_wall_ratio_max", max(wall_ratios.values()), "the same in wall-clock time")
