"""Process-wide counts of what the gateway served: replayed, recorded, mocked, faults.

The pytest plugin prints them at the end of a session; apps can read them too:

```python
from tarash.tarash_gateway import stats
print(stats.snapshot())   # {'replayed': 3, 'recorded': 0, 'mocked': 120, 'faults': 24}
```
"""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["KEYS", "count", "reset", "snapshot"]

KEYS = ("replayed", "recorded", "mocked", "faults")
_counts: Counter[str] = Counter()
_lock = threading.Lock()


def count(key: str, n: int = 1) -> None:
    with _lock:
        _counts[key] += n


def snapshot() -> dict[str, int]:
    with _lock:
        return {key: _counts[key] for key in KEYS}


def reset() -> None:
    with _lock:
        _counts.clear()
