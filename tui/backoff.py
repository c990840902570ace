"""When to poll next after a failure: exponential, jittered, capped. Pure."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

CAP_FACTOR = 4  # never wait more than this many intervals, unless the server asks
MAX_SERVER_WAIT = 600.0  # a Retry-After beyond ten minutes is not honoured in full


@dataclass
class Backoff:
    interval: float
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

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
