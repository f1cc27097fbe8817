"""The one place that decides, per call, whether to replay, record or refuse.

The whole record-mode policy is `decide`, a pure function of three values,
tested with its full table (`tests/cassettes/test_policy.py`):

```text
mode          existed  hit   ->  decision
none          any      yes       replay
none          any      no        refuse
once          yes      yes       replay
once          yes      no        refuse
once          no       any       record      (a new cassette is being recorded)
new_episodes  any      yes       replay
new_episodes  any      no        record
all           any      any       record
```

`existed`: the cassette held recordings when this run first opened it. `hit`: it
holds a recording for this call (the n-th time an equal request is made, its n-th
recording).

A hit older than the cassette's `max_age` is decided by `on_expired`:

```text
on_expired  mode                  ->  decision
warn        any that replays          replay (and the layer warns)
error       any that replays          expired (an error naming the recording)
rerecord    new_episodes              record  (replacing the expired recording)
rerecord    none, once                expired (recording is not allowed: CI never
                                               re-records silently)
```
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from .config import RecordMode

__all__ = ["Decision", "OnExpired", "decide", "needs_lookup"]


class Decision(str, Enum):
    """What the record layer does with one call."""

    REPLAY = "replay"
    RECORD = "record"
    REFUSE = "refuse"
    EXPIRED = "expired"


OnExpired = Literal["warn", "error", "rerecord"]


def decide(
    mode: RecordMode, *, existed: bool, hit: bool, expired: bool = False, on_expired: OnExpired = "warn"
) -> Decision:
    """Replay, record or refuse one call (see the module's tables)."""
    if mode is RecordMode.ALL:
        return Decision.RECORD
    if mode is RecordMode.ONCE and not existed:
        return Decision.RECORD
    if hit:
        if not expired or on_expired == "warn":
            return Decision.REPLAY
        if on_expired == "rerecord" and mode is RecordMode.NEW_EPISODES:
            return Decision.RECORD
        return Decision.EXPIRED
    if mode is RecordMode.NEW_EPISODES:
        return Decision.RECORD
    return Decision.REFUSE


def needs_lookup(mode: RecordMode, *, existed: bool) -> bool:
    """Whether the decision depends on `hit` at all (else the lookup is skipped)."""
    return decide(mode, existed=existed, hit=True) is not decide(mode, existed=existed, hit=False)
