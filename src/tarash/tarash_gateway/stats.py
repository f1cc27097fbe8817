"""Process-wide counts of what the gateway served: replayed, recorded, mocked, faults.

The pytest plugin prints them at the end of a session; apps can read them too:

```python
from tarash.tarash_gateway import stats
print(stats.snapshot())   # {'replayed': 3, 'recorded': 0, 'mocked': 120, 'faults': 24}
```

It also holds the one switch of the avoided-cost count (`track_avoided_cost`): this
module loads in no time, so the pytest plugin turns the count on at the start of a
session without loading the price table (`cost` reads the switch on every call).
"""

from __future__ import annotations

import sys
import threading
from collections import Counter

__all__ = ["KEYS", "avoided_cost_tracked", "count", "count_each", "reset", "snapshot", "track_avoided_cost"]

KEYS = ("replayed", "recorded", "mocked", "faults")
_counts: Counter[str] = Counter()
_lock = threading.Lock()


def _plugin_session_counts() -> bool:
    """Whether a pytest session of our plugin asked for the count before this module loaded."""
    plugin = sys.modules.get(__name__.rpartition(".")[0] + ".pytest_plugin")  # never imported from here
    return bool(plugin is not None and plugin.session_counts_avoided_cost())


_track_avoided = _plugin_session_counts()


def count(key: str, n: int = 1) -> None:
    with _lock:
        _counts[key] += n


def count_each(keys: tuple[str, ...]) -> None:
    """Count one of each key at once (a mocked call with a fault counts both)."""
    with _lock:
        for key in keys:
            _counts[key] += 1


def snapshot() -> dict[str, int]:
    with _lock:
        return {key: _counts[key] for key in KEYS}


def reset() -> None:
    with _lock:
        _counts.clear()


def track_avoided_cost(on: bool = True) -> None:
    """Start (or stop) counting the calls that replays and mocks serve instead of a provider,
    for `cost.avoided_summary`. The pytest plugin starts it with the session; off
    otherwise, and then the count costs nothing."""
    global _track_avoided
    _track_avoided = on


def avoided_cost_tracked() -> bool:
    """Whether `track_avoided_cost` is on."""
    return _track_avoided
