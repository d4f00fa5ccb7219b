"""`make fuzz`: the long hostile run. Starts the local stack in its own process (as `make run` does), aims
REQUESTS generated requests at every door (tests/fuzzing.py, hypothesis) from a few client threads, samples
the stack's memory all along, and prints its figures; the exit status is non-zero when a promise broke.

    make fuzz                      10,000 requests, 4 clients
    make fuzz REQUESTS=30000 CLIENTS=8
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

ROOT = Path(__file__).resolve().parents[1]
BATCH = 500


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A line of /proc/<pid>/status in MB (the stack's resident memory, or its peak: VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.done = pid, list[tuple[float, float]](), threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while not self.done.wait(0.5):
            try:
                self.samples.append((time.monotonic() - started, rss_mb(self.pid)))
            except OSError:
                return


def start_stack(port: int, emulator_port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PORT": str(port), "EMULATOR_PORT": str(emulator_port),
           "PYTHONPATH": str(ROOT / "layers/common/python")}
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "lending.local.stack"], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the stack stopped at start (see {log})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"the stack did not start in 120 s (see {log})")


def generate(target: Any, count: int) -> list[Any]:
    """`count` requests from the strategies of every door (hypothesis, random seed, no shrinking)."""
    sys.path.insert(0, str(ROOT))
    from tests import fuzzing

    out: list[Any] = []

    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(fuzzing.any_door(target))
    def collect(req: Any) -> None:
        out.append(req)

    collect()
    return out[:count]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests import fuzzing

    total = int(os.environ.get("REQUESTS", "10000"))
    clients = int(os.environ.get("CLIENTS", "4"))
    port, emulator_port = free_port(), free_port()
    log = ROOT / ".local" / "fuzz-stack.log"
    log.parent.mkdir(exist_ok=True)
    started = time.monotonic()
    proc = start_stack(port, emulator_port, log)
    rss_start = rss_mb(proc.pid)
    sampler = Sampler(proc.pid)
    sampler.start()
    figures = fuzzing.Figures()
    lock = threading.Lock()
    try:
        target = fuzzing.prepare("127.0.0.1", port)
        lines = target.lines + [p.split("/")[3] for p in target.loan_urls]
        before = fuzzing.nta("127.0.0.1", port, lines)

        def one(req: Any) -> None:
            outcome = fuzzing.send("127.0.0.1", port, req)
            with lock:
                figures.add(outcome)

        sent = 0
        with ThreadPoolExecutor(max_workers=clients) as pool:
            while sent < total:
                batch = generate(target, min(BATCH, total - sent))
                list(pool.map(one, batch))
                sent += len(batch)
                print(f"  {sent:>6} requests, stack {rss_mb(proc.pid):.0f} MB, "
                      f"{figures.server_errors} 5xx, {figures.dropped} dropped, {figures.slow} over 5 s", flush=True)
        after = fuzzing.nta("127.0.0.1", port, list(before))
        made = {line: sum(1 for x, _ in figures.loans if x == line) for line in before}
        counters_ok = {line: before[line] - after[line] for line in before} == made
        rss_end = rss_mb(proc.pid)
        peak = max([rss_mb(proc.pid, "VmHWM")] + [mb for _, mb in sampler.samples])
    finally:
        sampler.done.set()
        stop_started = time.monotonic()
        proc.terminate()
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
        stop_seconds = time.monotonic() - stop_started
    seconds = sorted(figures.seconds)
    result = {
        "requests": figures.requests,
        "by_door": dict(figures.by_door),
        "server_errors_5xx": figures.server_errors,
        "dropped_connections": figures.dropped,
        "answers_over_5s": figures.slow,
        "promise_failures": len(figures.failures),
        "loans_made_on_fuzz_lines": len(figures.loans),
        "counters_match_loans": counters_ok,
        "latency_ms_p50": round(statistics.median(seconds) * 1000, 1),
        "latency_ms_p99": round(seconds[int(len(seconds) * 0.99) - 1] * 1000, 1),
        "latency_ms_max": round(seconds[-1] * 1000, 1),
        "stack_rss_mb_start": round(rss_start),
        "stack_rss_mb_end": round(rss_end),
        "stack_rss_mb_peak": round(peak),
        "stack_stop_seconds": round(stop_seconds, 1),
        "wall_seconds": round(time.monotonic() - started),
    }
    print("\nstatuses:", ", ".join(f"{k}: {v}" for k, v in sorted(figures.statuses.items())))
    for failure in figures.failures[:20]:
        print("  FAILED", failure)
    print(json.dumps(result))
    ok = not (figures.server_errors or figures.dropped or figures.slow or figures.failures) and counters_ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
