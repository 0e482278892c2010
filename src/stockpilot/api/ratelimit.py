"""A token bucket per API key, in process (one bucket per key id per server process).

Each key may send ``burst`` requests at once and ``rate`` per second on average; the answer
to a request over the limit says when the next token arrives (``Retry-After``). Several
server processes each keep their own buckets: the limit is then per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBuckets:
    """Buckets keyed by API key id; ``rate`` ≤ 0 disables limiting."""

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._state: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: int) -> float:
        """Spend one token of ``key``: 0.0 when allowed, else seconds until one is free."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, last = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
