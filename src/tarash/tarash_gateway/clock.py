"""Time, injectable: every wait of the gateway goes through the current clock.

`SystemClock` really sleeps. `InstantClock` keeps a virtual time that jumps forward
on each sleep, so simulated polling, injected latency and replays run instantly with the
same event order. Switch for a block of code, a test, or the whole process:

```python
with instant_waits():
    generate_video(config, request)      # a 10 s simulated timeline returns at once
```

```sh
TARASH_INSTANT_WAITS=1 python app.py    # the same for every call of the process
```
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from .env import env_flag

__all__ = ["Clock", "InstantClock", "SystemClock", "current_clock", "instant_waits", "use_clock", "use_process_clock"]


class Clock(Protocol):
    """What the gateway needs of time. `now` is UTC; `monotonic` measures waits."""

    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...
    async def asleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        import asyncio  # loaded already: this runs on an event loop

        await asyncio.sleep(max(seconds, 0))


class InstantClock:
    """A virtual clock: sleeping moves it forward and returns at once.

    Each generation runs on a virtual time line of its own (`isolated`, entered by
    the fallback layer for every call), shared with the worker threads and tasks of that
    call, so concurrent calls never eat into each other's deadlines. Outside a call, one
    time line for everyone. `slept` is the total simulated wait of all of them, handy
    in tests. Thread-safe.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime.now(UTC)
        self._base = 0.0
        self._slept = 0.0
        self._line: ContextVar[list[float] | None] = ContextVar(f"tarash_instant_{id(self)}", default=None)
        self._lock = threading.Lock()

    @property
    def slept(self) -> float:
        return self._slept

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    def monotonic(self) -> float:
        line = self._line.get()
        return line[0] if line is not None else self._base

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        line = self._line.get()
        with self._lock:
            if line is not None:
                line[0] += seconds
            else:
                self._base += seconds
            self._slept += seconds

    async def asleep(self, seconds: float) -> None:
        import asyncio

        self.sleep(seconds)
        await asyncio.sleep(0)  # still a scheduling point, like a real sleep

    @contextlib.contextmanager
    def isolated(self) -> Iterator[None]:
        """Run the block on a time line of its own, starting at the current virtual time."""
        token = self._line.set([self.monotonic()])
        try:
            yield
        finally:
            try:
                self._line.reset(token)
            except ValueError:  # closed from another context (a flow garbage-collected elsewhere)
                pass


_SYSTEM = SystemClock()
_clock: ContextVar[Clock | None] = ContextVar("tarash_clock", default=None)


def current_clock() -> Clock:
    """The clock in force: `use_clock` > `use_process_clock` > `TARASH_INSTANT_WAITS` > the system clock."""
    clock = _clock.get()
    if clock is not None:
        return clock
    if _process_clock is not None:
        return _process_clock
    if env_flag("TARASH_INSTANT_WAITS"):
        return _instant_for_env()
    return _SYSTEM


_env_instant: InstantClock | None = None


def _instant_for_env() -> InstantClock:
    global _env_instant
    if _env_instant is None:
        _env_instant = InstantClock()
    return _env_instant


_ClockT = TypeVar("_ClockT", bound=Clock)


@contextlib.contextmanager
def use_clock(clock: _ClockT) -> Iterator[_ClockT]:
    """Run a block (sync or async code, threads started inside excluded) on `clock`."""
    token = _clock.set(clock)
    try:
        yield clock
    finally:
        _clock.reset(token)


_process_clock: Clock | None = None
_process_lock = threading.Lock()


@contextlib.contextmanager
def use_process_clock(clock: _ClockT) -> Iterator[_ClockT]:
    """Run every thread of the process on `clock` for the block (a `use_clock` inside still wins).

    What the pytest plugin does around each test that uses tarash: unlike the
    environment variable, it ends with the block and is not inherited by subprocesses.
    Blocks nest; each restores the clock that was in force before it.
    """
    global _process_clock
    with _process_lock:
        previous, _process_clock = _process_clock, clock
    try:
        yield clock
    finally:
        with _process_lock:
            _process_clock = previous


def instant_waits() -> contextlib.AbstractContextManager[InstantClock]:
    """Make every simulated wait instant inside the block; usable as a decorator too."""
    return use_clock(InstantClock())
