"""Token buckets in process: per API key id, or per client IP for failed sign-ins and keys.

Each key may send ``burst`` requests at once and ``rate`` per second on average; the answer
to a request over the limit says when the next token arrives (``Retry-After``). Several
server processes each keep their own buckets: the limit is then per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

MAX_KEYS = 100_000  # buckets kept; past this the full ones are dropped (no growth by IP churn)


class TokenBuckets:
    """Buckets keyed by API key id or client IP; ``rate`` ≤ 0 disables limiting."""

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._state: dict[Hashable, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> float:
        """Spend one token of ``key``: 0.0 when allowed, else seconds until one is free."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, last = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if len(self._state) >= MAX_KEYS:
                self._prune(now)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def wait(self, key: Hashable) -> float:
        """Seconds until ``key`` has a token again (0.0: it has one), spending nothing."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            hit = self._state.get(key)
        if hit is None:
            return 0.0
        tokens = min(float(self.burst), hit[0] + (self._clock() - hit[1]) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Drop buckets that have refilled (they equal a fresh one); all if none has."""
        full = [k for k, (t, last) in self._state.items()
                if t + (now - last) * self.rate >= self.burst]
        for k in full:
            del self._state[k]
        if len(self._state) >= MAX_KEYS:
            self._state.clear()
