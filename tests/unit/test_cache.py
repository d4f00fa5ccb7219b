"""The warm-container cache, on an injected clock."""

from __future__ import annotations

from lending.cache import TtlCache


def test_values_live_their_seconds_and_a_cached_none_is_an_answer() -> None:
    now = [100.0]
    cache: TtlCache[str, str | None] = TtlCache(60, clock=lambda: now[0])
    loads: list[str] = []

    def load() -> str | None:
        loads.append("x")
        return None

    assert cache.get("a") == (False, None)
    assert cache.get_or_load("a", load) is None and cache.get_or_load("a", load) is None
    assert loads == ["x"]  # the None was kept: no second look-up
    cache.put("b", "B")
    now[0] += 59.9
    assert cache.get("b") == (True, "B")
    now[0] += 0.2
    assert cache.get("b") == (False, None)
    cache.clear()
    assert cache.get("a") == (False, None)
