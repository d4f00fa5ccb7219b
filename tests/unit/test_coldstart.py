"""The collector during a Lambda container's init (lending/coldstart.py): paused from the hub's first
import where Lambda runs it, back on (init's objects frozen) as the first invocation starts, for every
request after; never touched elsewhere (tests, tools, the local stack). Each case runs in a fresh
interpreter: the state under test is the process's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Every function of template.yaml loaded in one process, as Lambda's runtime would load each: then a
# handler of our own wearing `observed` is the first invocation and says what it found, and the
# catch-all PNB function (it reaches no table) answers two requests.
PROBE = """
import gc, json, sys
import lending
state = {"paused_at_first_import": not gc.isenabled(), "botocore_then": "botocore" in sys.modules}
from lending.local import functions, template
from lending.local.gateway import Gateway, build_event
fns = template.functions(template.load())
from lending.store import table
handlers, lazy = {}, []
for name, fn in fns.items():
    table.reset_client()
    handlers[name] = functions.handler(fn)
    if table._client is None:
        lazy.append(name)
state["no_client_at_init"] = sorted(lazy)
state["functions"] = len(handlers)
state["not_observed"] = sorted(n for n, h in handlers.items() if not getattr(h, "observed", False))
state["paused_after_init"] = not gc.isenabled()
state["frozen_before"] = gc.get_freeze_count()

# The first invocation: a handler of our own wearing `observed` says what it found as it ran.
from lending.observability import observed
seen = []
mine = observed(lambda event, context: seen.append([gc.isenabled(), gc.get_count(), gc.get_freeze_count()]))
mine({}, functions.LambdaContext("probe"))
state["first_request"] = seen[0]

gw = Gateway.__new__(Gateway)
gw.routes = [r for f in fns.values() for r in f.routes]
path = "/v2/pnb-numerique/json/noSuchService"
route, params, _ = gw.match("POST", path)
event = build_event("POST", path, "", {"host": "hub.test", "content-type": "application/json"}, b"{}",
                    route, params, "127.0.0.1")
answers = []
for _ in range(2):
    out = handlers[route.function](event, functions.LambdaContext(route.function))
    answers.append(out["statusCode"])
    state.setdefault("on_after_requests", []).append(gc.isenabled())
state["answers"] = answers
state["frozen_after"] = gc.get_freeze_count()
print(json.dumps(state))
"""


def _probe(in_lambda: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers/common/python"), "AWS_DEFAULT_REGION": "eu-west-3",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "TABLE_NAME": "t",
           "POWERTOOLS_METRICS_DISABLED": "1", "POWERTOOLS_TRACE_DISABLED": "1"}
    env.pop("AWS_LAMBDA_RUNTIME_API", None)
    if in_lambda:
        env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001"  # what Lambda's runtime sets
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_in_lambda_init_runs_paused_and_every_request_runs_with_the_collector() -> None:
    state = _probe(in_lambda=True)
    assert state["paused_at_first_import"] and not state["botocore_then"]  # before botocore loads
    assert state["functions"] >= 40 and state["not_observed"] == []  # every handler resumes it
    assert state["paused_after_init"]  # no function's init turns it back on halfway
    # and each builds its table's client in it (no collection inside botocore's build at the first
    # request), but the two that reach no table: the catch-all PNB route and the ONIX file link.
    assert state["no_client_at_init"] == ["CatalogueOnixFileFunction", "PnbUnknownServiceFunction"]
    assert state["frozen_before"] == 0
    on, counts, frozen = state["first_request"]
    assert on and frozen > 50_000  # init's objects, out of every generation's scans
    assert counts[1:] == [0, 0] and counts[0] < 2_000  # no pass due for what init allocated
    assert state["answers"] == [200, 200]  # NOT_IMPLEMENTED in PNB's words
    assert state["on_after_requests"] == [True, True]
    assert state["frozen_after"] <= frozen  # once: later invocations freeze nothing more (some are freed)


def test_elsewhere_the_collector_is_left_as_it_is() -> None:
    state = _probe(in_lambda=False)
    assert not state["paused_at_first_import"] and not state["paused_after_init"]
    assert state["frozen_before"] == 0 and state["frozen_after"] == 0
    assert state["first_request"][0] and state["first_request"][2] == 0
    assert state["on_after_requests"] == [True, True]
