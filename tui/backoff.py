"""When to poll next after a failure: exponential, jittered, capped. Pure."""

from __future__ import annotations

import random

CAP_FACTOR = 4  # never wait more than this many intervals, unless the server asks
MAX_SERVER_WAIT = 600.0  # a Retry-After beyond ten minutes is not honoured in full


class Backoff:
    """A poller's failures in a row, and the wait they call for. (A plain class: a
    dataclass costs ~1 ms to create at start-up, for one object per poller.)"""

    __slots__ = ("failures", "interval", "rng")

    def __init__(self, interval: float, rng: random.Random | None = None) -> None:
        self.interval = interval
        self.failures = 0
        self.rng = rng if rng is not None else random.Random()

    @property
    def cap(self) -> float:
        return self.interval * CAP_FACTOR

    def success(self) -> float:
        self.failures = 0
        return self.interval

    def failure(self, retry_after: float | None = None) -> float:
        """Seconds to wait before the next try."""
        self.failures += 1
        if retry_after is not None:
            return min(max(retry_after, self.interval), MAX_SERVER_WAIT)
        base = min(self.cap, self.interval * float(2 ** min(self.failures, 16)))
        # Jitter spreads many monitors' retries after a shared outage (0.75 .. 1.0 × base).
        return float(max(self.interval, base * (0.75 + 0.25 * self.rng.random())))
