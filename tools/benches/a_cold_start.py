"""Cold start of every function from the layer as `make build` ships it (tools.build: the requirements,
the lending package and its bytecode; imported with no bytecode written, /opt being read-only), and the
function's own zip: a fresh interpreter imports the handler and builds its clients, as a ratio to a bare
`import boto3` plus one DynamoDB client (goal: every ratio <= 1.15). The layer is staged for this
machine's architecture (the deployed one's binary wheels would not load here); its Python is the same.

Each function's runs alternate with baseline runs and both are timed in CPU time (process_time), so
a busy machine moves both sides alike instead of skewing the ratio; the wall-clock ratio is kept too.

The garbage collector: deployed, the hub pauses it for a container's init and resumes it at the first
invocation (`lending/coldstart.py`). The function's process runs as Lambda's does (AWS_LAMBDA_RUNTIME_API
set, `resume()` where the first invocation would call it, inside the timed window), and its baseline
pauses and resumes the collector alike: `cold_start_ratio_<function>` (the goal's figure) is hub over
baseline, both paused. So that nobody can say the baseline was handicapped, or the hub flattered, each
round also times both with the collector left on (`cold_start_ratio_collector_on_<function>`: the figure
before the pause, hub over the bare baseline); `cold_start_ratio_vs_bare_max` (paused hub over the bare
baseline) is shown for what it is, not the goal's figure."""

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

# The baseline with the collector paused as the hub's init pauses it, and resumed the same way.
BASELINE_PAUSED = """
import gc, time; t, c = time.perf_counter(), time.process_time()
gc.disable()
import boto3; boto3.client("dynamodb")
gc.freeze(); gc.enable()
print(time.perf_counter() - t, time.process_time() - c)
"""

# `resume()` is the first invocation's first step (observability.observed); the table's client comes
# after it, as a function that builds it lazily builds it in its first request (a no-op for the others).
HANDLER = """
import time, sys; t, c = time.perf_counter(), time.process_time()
sys.path.insert(0, sys.argv[1]); import app  # as Lambda's runtime does: the task root first, then /opt/python
from lending import coldstart; coldstart.resume()
from lending.store import table; table.client()
print(time.perf_counter() - t, time.process_time() - c)
"""


LAYER_PATH = str(ROOT / "layers/common/python")


def _time(code: str, *args: str, in_lambda: bool = False) -> tuple[float, float]:
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
    env.pop("AWS_LAMBDA_RUNTIME_API", None)
    if in_lambda:  # what Lambda's runtime sets: the hub pauses the collector for init (lending/coldstart.py)
        env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001"
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


def _median_ratio(pairs: list[tuple[tuple[float, float], tuple[float, float]]], i: int) -> float:
    """Median of the function's runs over median of its baseline runs; i = 0 wall clock, 1 CPU time."""
    return statistics.median(h[i] for _, h in pairs) / statistics.median(b[i] for b, _ in pairs)


def _measure(report: Callable[..., Any], code: dict[str, Path]) -> None:
    _time(BASELINE)  # warm the file cache and byte-code
    paused_bases: list[float] = []
    bare_bases: list[float] = []
    cpu, wall, on, vs_bare = {}, {}, {}, {}
    for name, folder in sorted(code.items()):
        path = str(folder)
        _time(HANDLER, path, in_lambda=True)
        paused, left_on = [], []
        for _ in range(RUNS):  # the four processes take turns, so load moves them alike
            paused.append((_time(BASELINE_PAUSED), _time(HANDLER, path, in_lambda=True)))
            left_on.append((_time(BASELINE), _time(HANDLER, path)))
        paused_bases.extend(b[0] for b, _ in paused)
        bare_bases.extend(b[0] for b, _ in left_on)
        cpu[name], wall[name] = _median_ratio(paused, 1), _median_ratio(paused, 0)
        on[name] = _median_ratio(left_on, 1)
        vs_bare[name] = statistics.median(h[1] for _, h in paused) / statistics.median(b[1] for b, _ in left_on)
        report(f"cold_start_ratio_{name}", cpu[name], f"wall clock {wall[name]:.3f}")
        report(f"cold_start_ratio_collector_on_{name}", on[name], "the collector left on in both")
    report("cold_start_baseline_s", statistics.median(bare_bases), "import boto3 + one DynamoDB client")
    report("cold_start_baseline_paused_s", statistics.median(paused_bases), "the same, the collector paused")
    report("cold_start_ratio_max", max(cpu.values()), "goal <= 1.15 (CPU time; hub and baseline paused alike)")
    report("cold_start_ratio_median", statistics.median(cpu.values()), "of the functions")
    report("cold_start_wall_ratio_max", max(wall.values()), "the same in wall-clock time")
    report("cold_start_ratio_collector_on_max", max(on.values()), "the collector left on in both")
    report("cold_start_ratio_collector_on_median", statistics.median(on.values()), "of the functions")
    report("cold_start_ratio_vs_bare_max", max(vs_bare.values()), "paused hub over the bare baseline: not the goal's")
