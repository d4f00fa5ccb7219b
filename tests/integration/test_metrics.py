"""Business outcomes are counted as CloudWatch embedded metrics, flushed once per invocation (deployed);
the local stack and the tests run with metrics off."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lending.local import functions
from lending.local.emulator import LOCAL_ENV
from lending.observability import metrics
from tests.helpers import _functions, invoke, loan_body, order_ok

pytestmark = pytest.mark.usefixtures("aws")


def emitted(out: str) -> list[dict[str, Any]]:
    """The EMF documents printed on stdout (one JSON object per line)."""
    docs = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            docs.append(json.loads(line))
    return docs


def counted(docs: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for doc in docs:
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "LendingHub"
            for m in directive["Metrics"]:
                values = doc[m["Name"]]
                out[m["Name"]] = out.get(m["Name"], 0) + sum(values if isinstance(values, list) else [values])
    return out


def test_outcomes_are_counted_once_per_invocation(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (lid,) = order_ok()
    capsys.readouterr()
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    assert invoke("POST", "/v2/pnb-numerique/loanBook", loan_body(lid, "MET1"))[0] == 200
    first = emitted(capsys.readouterr().out)
    assert len(first) == 1 and counted(first) == {"pnb.loanBook.OK": 1}
    invoke("POST", "/v2/pnb-numerique/loanBook", {**loan_body(lid, "MET2"), "passwordColl": "nope"})
    invoke("GET", f"/v1/loans/{'0' * 24}.json", None, {"x-api-key": "v1DemoKey2026"})
    invoke("GET", "/fulfillment/forged.token")
    assert counted(emitted(capsys.readouterr().out)) == {"pnb.loanBook.AUTHENTICATION_ERROR": 1,
                                                         "v1.get_loan.404": 1, "fulfillment.403": 1}
    assert not metrics.metric_set  # nothing left over for the next invocation


def test_a_job_counts_what_it_did(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from lending.store import table

    (lid,) = order_ok()
    table.client().update_item(TableName=table.table_name(), Key=table.key(f"LINE#{lid}", "LINE"),
                               UpdateExpression="SET ntaTotal = :n", ExpressionAttributeValues={":n": {"N": "31"}})
    monkeypatch.setattr("lending.services.lending.RECHECK_PAUSE", 0.0)
    capsys.readouterr()
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    answer = functions.invoke(_functions()["ReconcileFunction"], {})
    assert len(answer["drifts"]) == 1
    assert counted(emitted(capsys.readouterr().out)) == {"reconcile.drifts": 1}


def test_metrics_are_off_in_the_local_stack() -> None:
    assert LOCAL_ENV["POWERTOOLS_METRICS_DISABLED"] == "true"
