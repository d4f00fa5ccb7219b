"""Property-based fuzzing of every door of the running stack over HTTP (hypothesis), bounded: a fixed
number of examples per door, no shrinking database, a deadline per example. The long run is `make fuzz`.

Every answer keeps the promises of tests/fuzzing.py (no 5xx, no dropped connection, nothing over 5 s,
the door's own format, no leak), and refused requests change no counter: the lines the fuzzer ordered
lost exactly one loan of NTA per loan it saw made on them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lending.services import lending
from tests import fuzzing

pytestmark = pytest.mark.e2e
EXAMPLES = 60


@pytest.fixture(scope="module")
def target(stack: Any) -> Any:
    host, port = "127.0.0.1", stack.gateway.port
    t = fuzzing.prepare(host, port)
    before = fuzzing.nta(host, port, t.lines + [p.split("/")[3] for p in t.loan_urls])
    figures = fuzzing.Figures()
    yield t, figures
    after = fuzzing.nta(host, port, list(before))
    made = {line: sum(1 for x, _ in figures.loans if x == line) for line in before}
    assert {line: before[line] - after[line] for line in before} == made, (before, after, figures.loans)
    _, drifts = lending.reconcile(pause=lambda s: None)
    assert [d for d in drifts if d.order_line_id in before] == []
    # The later services were reached too (returnLoan, extendLoan, getUserAgent, v1 PUT /v1/loans/{id}).
    reached = {note.split(".")[0].replace("soap ", "pnb ") for note in figures.by_note}  # JSON or SOAP alike
    later = {"pnb returnLoan", "pnb extendLoan", "pnb getUserAgent"} if figures.by_door["pnb"] else set()
    later |= {"v1 renew"} if figures.by_door["v1"] else set()
    assert later <= reached, sorted(reached)


def _run(stack: Any, target: Any, strategy: Callable[[Any], st.SearchStrategy[Any]]) -> None:
    t, figures = target
    host, port = "127.0.0.1", stack.gateway.port

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy(t))
    def one(req: fuzzing.Req) -> None:
        outcome = fuzzing.send(host, port, req)
        found = figures.add(outcome)
        assert not found, (req.method, req.path[:200], req.headers, req.body[:300], found)

    one()


@pytest.mark.parametrize("door", ["pnb_json", "pnb_rest", "pnb_soap", "v1", "warehouse", "links", "console", "patron",
                                  "distributor", "lsd", "harvest"])
def test_no_door_fails_on_hostile_input(stack: Any, target: Any, door: str) -> None:
    _run(stack, target, getattr(fuzzing, door))
