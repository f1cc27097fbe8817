"""A simulated provider's capacity: jobs in flight and submits per minute.

```python
with ProviderSimulator(capacity={"openai": Capacity(max_concurrency=2), "fal": Capacity(rate_limit_per_minute=10)}) as sim:
    ...
```

Past `max_concurrency` a provider that queues (fal, Replicate, Runway: the same
list as the mock's, `mock.faults.QUEUEING_PROVIDERS`) accepts the job and keeps it
queued (fal `IN_QUEUE` with its `queue_position`, Replicate `starting`, Runway
`THROTTLED`) until a slot frees, first come first served; the others answer the submit
with their 429 and a `Retry-After` of `retry_after` seconds. Past
`rate_limit_per_minute` (a sliding window of 60 s) every provider answers 429, with the
seconds until the oldest submit leaves the window.

Concurrency counts polled jobs from their submit until they finish (or are cancelled);
simulated jobs advance per poll, so a job its client gave up on keeps its slot, as an
unfinished job on a real account does until it ends. Synchronous answers (image
endpoints, fal's run host) finish within their request and count toward the rate limit
only. The simulator runs on real time (it serves other processes too), so the
window is real seconds; a test meets a limit by submitting past it, with no wait.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Capacity", "RateWindow"]

_WINDOW = 60.0


@dataclass(frozen=True)
class Capacity:
    """How much a simulated provider takes at once.

    Args:
        max_concurrency: jobs in flight at most (`None`: no limit).
        rate_limit_per_minute: submits per sliding minute at most (`None`: no limit).
        retry_after: the `Retry-After` seconds of a 429 past `max_concurrency`, from a
            provider that refuses rather than queues.
    """

    max_concurrency: int | None = None
    rate_limit_per_minute: int | None = None
    retry_after: float = 1.0

    def __post_init__(self) -> None:
        for name in ("max_concurrency", "rate_limit_per_minute"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} is at least 1 (or None: no limit), got {value}")
        if self.retry_after < 0:
            raise ValueError(f"retry_after is seconds from 0 up, got {self.retry_after}")


@dataclass
class RateWindow:
    """The submits of one provider in the last minute (thread-safe)."""

    limit: int
    submits: deque[float] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, now: float | None = None) -> float | None:
        """Count one submit; or, past the limit, the seconds to wait (nothing is counted)."""
        now = time.monotonic() if now is None else now
        with self.lock:
            while self.submits and self.submits[0] <= now - _WINDOW:
                self.submits.popleft()
            if len(self.submits) >= self.limit:
                return float(max(math.ceil(self.submits[0] + _WINDOW - now), 1))
            self.submits.append(now)
            return None
