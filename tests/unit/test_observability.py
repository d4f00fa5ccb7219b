"""Counts from the threads of one invocation (the callback function's batch) all land in its flush."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from lending import observability


def test_counts_from_threads_are_all_flushed_once(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    names = ["callbacks.delivered", "callbacks.retry", "callbacks.refused"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: observability.count(names[i % 3]), range(90)))
    observability.flush()
    (doc,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert {n: sum(doc[n]) if isinstance(doc[n], list) else doc[n] for n in names} == dict.fromkeys(names, 30)
    assert not observability.metrics.metric_set


def test_nothing_is_counted_when_metrics_are_off(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    observability.count("loans.expired", 3)
    observability.flush()
    assert not observability.metrics.metric_set and capsys.readouterr().out == ""
