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


def test_a_request_line_rides_on_the_metrics_line_when_deployed(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """One line per request: its fields are metadata of the invocation's EMF document, no log line."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    observability.count("pnb.loanBook.OK")
    observability.request_line("pnb", operation="loanBook", returnStatus="OK", requestId="r-1")
    observability.flush()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    (doc,) = lines
    assert "_aws" in doc and doc["pnb.loanBook.OK"] in (1, [1], 1.0, [1.0])
    assert (doc["operation"], doc["returnStatus"], doc["requestId"]) == ("loanBook", "OK", "r-1")
    assert not observability.metrics.metadata_set


def test_a_request_line_is_a_log_line_when_metrics_are_off(monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with caplog.at_level("INFO", logger=observability.logger.name):
        observability.request_line("pnb", operation="loanBook", requestId="r-2")
    (record,) = [r for r in caplog.records if getattr(r, "requestId", None) == "r-2"]
    assert record.getMessage() == "pnb" and getattr(record, observability.EMF_FIELDS) == ["operation", "requestId"]
