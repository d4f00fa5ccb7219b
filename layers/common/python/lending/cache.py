"""The one warm-container cache: values kept for a few seconds per key, thread-safe (the local stack
and the callback function run handlers in threads). Absent and None are different: a cached None is
an answer ("no such account"), a miss is not."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._items: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> tuple[bool, V | None]:
        """(True, value) while `key` is fresh, else (False, None)."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] > self._clock():
                return True, hit[1]
        return False, None

    def put(self, key: K, value: V) -> V:
        with self._lock:
            self._items[key] = (self._clock() + self.seconds, value)
        return value

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        """The fresh value, or `load()`'s, kept (a racing load of the same key is harmless: same answer)."""
        found, value = self.get(key)
        if found:
            return value  # type: ignore[return-value]
        return self.put(key, load())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
