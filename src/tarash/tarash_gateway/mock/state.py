"""The call state of mock configs, kept outside the configs themselves.

A `config.MockConfig` is a value (frozen, equal to its JSON round trip), so
what changes from call to call lives here: per config *object* and per (provider,
model), a `Lane` with the call count behind `order` and `schedule`, the
seeded streams of a config with a `seed`, the outage spells drawn so far and the
jobs in flight for `max_concurrency` and `rate_limit_per_minute`.

Why by identity and not by value: two tests that each build an equal
`MockConfig(order="sequence", ...)` must each start at the first response; keyed by
value, the second would carry on where the first stopped, and results would depend on
test order. The state goes when its config object goes (a weak reference), so an
id is never reused for the wrong config.
"""

from __future__ import annotations

import functools
import itertools
import threading
import weakref
from collections import deque
from typing import Any

from .chaos import DrawSource, global_stream, stream_seed
from .config import MockConfig

__all__ = ["CallState", "Lane", "call_state", "lane_for"]


class Lane:
    """The state of one mock config object for one (provider, model)."""

    __slots__ = ("calls", "cumulative", "in_flight", "lock", "origin_time", "outages", "provider", "model", "seed",
                 "source", "spells", "submits", "waiting")

    def __init__(self, mock: MockConfig, provider: str, model: str, cumulative: list[float]) -> None:
        self.provider, self.model, self.seed = provider, model, mock.seed
        self.cumulative = cumulative  # running totals of the response weights, shared by the config's lanes
        self.lock = threading.Lock()
        self.calls = itertools.count(1)
        self.source = DrawSource(mock.seed, stream_seed(mock.seed, provider, model)) if mock.seed is not None else None
        self.outages: DrawSource | None = None
        self.spells: list[tuple[float, float]] = []  # (down from, down until), drawn lazily
        self.origin_time: float | None = None  # the clock at the first call: schedules count from it
        self.in_flight = 0
        self.waiting: deque[object] = deque()
        self.submits: deque[float] = deque()

    def next_call(self) -> int:
        """1 for this lane's first call, 2 for the next... (thread-safe in CPython)."""
        return next(self.calls)

    def stream(self) -> DrawSource:
        """Where outcomes are drawn from: the config's own stream, else the process stream."""
        return self.source if self.source is not None else global_stream(self.provider, self.model)

    def outage_stream(self) -> DrawSource:
        """A stream of its own for outage spells, so they never shift the outcome draws."""
        if self.outages is None:
            with self.lock:
                if self.outages is None:
                    seed = self.seed if self.seed is not None else self.stream().seed
                    self.outages = DrawSource(seed, stream_seed(seed, self.provider, self.model, "outages"))
        return self.outages


class _Entry:
    __slots__ = ("cumulative", "lanes", "ref")

    def __init__(self, ref: weakref.ref[MockConfig], cumulative: list[float]) -> None:
        self.ref = ref
        self.cumulative = cumulative
        self.lanes: dict[tuple[str, str], Lane] = {}


_entries: dict[int, _Entry] = {}
_lock = threading.RLock()  # re-entrant: a weak reference callback may run while it is held


def _entry(mock: MockConfig) -> _Entry:
    key = id(mock)
    entry = _entries.get(key)
    if entry is not None and entry.ref() is mock:
        return entry
    with _lock:
        entry = _entries.get(key)
        if entry is None or entry.ref() is not mock:
            ref = weakref.ref(mock, functools.partial(_forget, _entries, key))
            entry = _entries[key] = _Entry(ref, list(itertools.accumulate(r.weight for r in mock.responses or ())))
    return entry


def _forget(table: dict[int, Any], key: int, ref: weakref.ref[Any]) -> None:
    """The weak reference callback of a state: its object is gone, so is its state. (A
    partial of the key, not a closure over the state: that would make a reference cycle,
    one more piece of garbage for the collector per config object.)"""
    with _lock:
        state = table.get(key)
        if state is not None and state.ref is ref:
            del table[key]


def lane_for(mock: MockConfig, provider: str, model: str) -> Lane:
    """The state of `mock` for one (provider, model), made on first use."""
    entry = _entry(mock)
    lane = entry.lanes.get((provider, model))
    if lane is None:
        with _lock:
            lane = entry.lanes.get((provider, model))
            if lane is None:
                lane = entry.lanes[(provider, model)] = Lane(mock, provider, model, entry.cumulative)
    return lane


class CallState:
    """What one call config object needs per call, found with one lookup: the lane of its
    mock for its provider and model, the verdicts of its request checks, and the plans of
    its mock's responses (what depends on the config alone, worked out once)."""

    __slots__ = ("lane", "mock", "plans", "ref", "verdicts")

    def __init__(self, ref: weakref.ref[Any], mock: MockConfig, lane: Lane) -> None:
        self.ref, self.mock, self.lane = ref, mock, lane
        self.verdicts: Any = None  # made by mock.validate on first use
        self.plans: Any = None  # made by mock.layer on first use: what each response needs per call


_calls: dict[int, CallState] = {}


def call_state(config: Any, mock: MockConfig) -> CallState:
    """The state of a call config served by `mock` (its own, or the stock mock when forced)."""
    key = id(config)
    state = _calls.get(key)
    if state is not None and state.mock is mock and state.ref() is config:
        return state
    lane = lane_for(mock, config.provider, config.model)
    with _lock:
        created = _calls[key] = CallState(weakref.ref(config, functools.partial(_forget, _calls, key)), mock, lane)
    return created
