"""The one clock seam: the time every door gives its use cases (Ctx.now) and every job reads. Tests
freeze it (per day and per month limits, link and loan expiry) instead of sleeping; handlers read it
once per request. Nothing else in the package calls datetime.now (a test holds it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen or datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Every handler of this process sees `at` as the time until the block ends."""
    global _frozen
    before, _frozen = _frozen, at
    try:
        yield
    finally:
        _frozen = before
