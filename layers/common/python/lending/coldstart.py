"""The garbage collector during a Lambda container's init: paused from the hub's first import, back on
for good at the first invocation, with everything init built frozen.

Why: init (botocore, Powertools, the hub's modules, the DynamoDB client) allocates some 95,000 tracked
objects, enough to set off collections, a full one among them, inside botocore's client build; they find
next to nothing to free (about 270 objects, ~100 KB: modules, classes and functions live as long as the
container). `tools/benches/a_cold_start.py` measures it (its baseline is paused alike, and it shows the
ratios with the collector left on too).

At the first invocation `gc.freeze()` moves init's objects out of every generation (a list splice, not a
pass over them) and empties the counts: no deferred pass lands on the first request, and no later pass
scans them again. The little cyclic garbage init made stays with them: a fixed cost per container, never
per request. Requests run with the collector on, as before.

Only where Lambda runs the code (AWS_LAMBDA_RUNTIME_API: the address the Python runtime's bootstrap,
awslambdaric, reads its invocations from; Lambda always sets it): tests, tools and
the local stack import the hub without that lifecycle, and keep the collector as it is."""

from __future__ import annotations

import gc
import os

_paused = False


def pause() -> None:
    """At the hub's first import (`lending/__init__.py`), before botocore is loaded."""
    global _paused
    if os.environ.get("AWS_LAMBDA_RUNTIME_API") and gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Init is over: the collector back on (once; a flag test on every later call). Called by every
    handler's wrapper (`observability.observed`) as an invocation starts."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def paused() -> bool:
    return _paused
