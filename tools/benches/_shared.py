"""A local stack shared by the benches of one `make bench` run, and a DynamoDB request counter."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_stack: Any = None


def bench_stack() -> Any:
    global _stack
    if _stack is None:
        import logging

        from lending.local.stack import Stack

        logging.getLogger().setLevel(logging.WARNING)
        _stack = Stack(port=0, schedules=False).start()
    return _stack


def shutdown() -> None:
    """Stop the shared stack: its queue pollers would otherwise consume the queues of a bench that
    builds its own emulator (moto's backends are shared by the whole process)."""
    global _stack
    if _stack is not None:
        _stack.stop()
        _stack = None


@dataclass
class Counted:
    ops: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.ops.values())


@contextlib.contextmanager
def count_requests() -> Iterator[Counted]:
    """Count the requests the hub's table client sends while the block runs."""
    from lending.store import table

    counted = Counted()

    def hook(model: Any, **_: Any) -> None:
        counted.ops[model.name] += 1

    events = table.client().meta.events
    events.register("before-call.dynamodb", hook, unique_id="bench-counter")
    try:
        yield counted
    finally:
        events.unregister("before-call.dynamodb", unique_id="bench-counter")
