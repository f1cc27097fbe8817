"""Seeded, reproducible randomness for mocks: draw streams, the seed in force, latency.

A `DrawSource` is a `random.Random` with its seed and a draw counter, guarded by
a lock so threads and tasks share one sequence. There is one stream per (provider,
model), derived from the seed in force and the pair's names, so a call added for one
model never shifts the outcomes of another. Which seed:

1. `MockConfig(seed=...)`: streams owned by that config object (see `state`);
2. `set_global_seed` (the pytest plugin's `--tarash-seed`);
3. `TARASH_MOCK_SEED` in the environment;
4. otherwise a process seed chosen at random, reported like the others, so a
   failing run can be repeated with `TARASH_MOCK_SEED=<seed>`.

`pick` is the pure rule that turns one uniform number into an outcome index;
`sample_latency` turns one into seconds.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import threading
from collections.abc import Sequence
from typing import NamedTuple

from ..env import env_value
from .config import Latency

__all__ = [
    "Draw",
    "DrawSource",
    "global_source",
    "global_stream",
    "ordered_outcome",
    "pick",
    "pick_cumulative",
    "sample_latency",
    "set_global_seed",
    "stream_seed",
]

# NormalDist().inv_cdf(0.99), written out: `statistics` loads only when a normal or lognormal
# latency is drawn (tests/mock pins the value).
_Z99 = 2.3263478740408408


_new_tuple = tuple.__new__


class Draw(NamedTuple):
    """One draw: which outcome, the uniform number behind the latency, and where in the sequence."""

    outcome: int
    latency_u: float
    seed: int
    number: int


def pick(weights: Sequence[float], u: float) -> int:
    """The outcome whose share of the total weight covers `u` in `[0, 1)`."""
    return pick_cumulative(list(itertools.accumulate(weights)), u)


def pick_cumulative(cumulative: Sequence[float], u: float) -> int:
    """`pick` with the running totals of the weights already summed."""
    if len(cumulative) == 1:  # one outcome (the stock mock): nothing to pick from
        return 0
    return min(bisect.bisect_right(cumulative, u * cumulative[-1]), len(cumulative) - 1)


def ordered_outcome(order: str, call_number: int, count: int) -> int:
    """The scripted outcome of the `call_number`-th call (1-based) among `count`:
    `sequence` stays on the last one once they run out, `cycle` starts again."""
    if order == "cycle":
        return (call_number - 1) % count
    return min(call_number, count) - 1


def sample_latency(latency: Latency | None, u: float, recorded: Sequence[float] = ()) -> float:
    """Seconds of injected latency for a uniform number `u` (inverse transform sampling).

    `recorded` holds the sorted durations behind `Latency(recorded=...)`.
    """
    if latency is None:
        return 0.0
    kind = latency.distribution
    if kind == "fixed":
        return float(latency.seconds if latency.seconds is not None else latency.mean or 0.0)
    if kind == "uniform":
        return latency.min + (latency.max - latency.min) * u  # type: ignore[operator]
    if kind == "recorded":
        return float(recorded[min(int(u * len(recorded)), len(recorded) - 1)]) if recorded else 0.0
    u = min(max(u, 1e-12), 1 - 1e-12)
    if kind == "exponential":
        return -latency.mean * math.log(1 - u)  # type: ignore[operator]
    from statistics import NormalDist

    if kind == "lognormal":
        mu = math.log(latency.median)  # type: ignore[arg-type]
        sigma = (math.log(latency.p99) - mu) / _Z99  # type: ignore[arg-type]
        return math.exp(mu + sigma * NormalDist().inv_cdf(u))
    return max(0.0, NormalDist(latency.mean or 0.0, latency.stddev or 0.0).inv_cdf(u) if latency.stddev else latency.mean or 0.0)


def stream_seed(seed: int, provider: str, model: str, purpose: str = "outcomes") -> str:
    """The seed of one stream: stable across processes (`random.Random` hashes strings with SHA-512)."""
    return f"{seed}/{provider}/{model}/{purpose}"


class DrawSource:
    """A seeded random sequence shared by everyone who draws from it.

    `seed` is the seed reported (the user's); `stream` the string the sequence
    really starts from (one per provider and model, see `stream_seed`).
    """

    def __init__(self, seed: int, stream: str | None = None) -> None:
        self.seed = seed
        self._random = random.Random(stream if stream is not None else seed)
        self._count = 0
        self._lock = threading.Lock()

    def draw(self, weights: Sequence[float]) -> Draw:
        """Draw an outcome index for `weights`."""
        return self.draw_cumulative(list(itertools.accumulate(weights)))

    def draw_cumulative(self, cumulative: Sequence[float]) -> Draw:
        """`draw` with the running totals of the weights already summed."""
        with self._lock:
            u, latency_u = self._random.random(), self._random.random()
            self._count += 1
            number = self._count
        outcome = 0 if len(cumulative) == 1 else pick_cumulative(cumulative, u)
        return _new_tuple(Draw, (outcome, latency_u, self.seed, number))  # `Draw(...)` without its Python `__new__`

    def uniform(self) -> float:
        """One more uniform number from the stream (for schedules' outage spells)."""
        with self._lock:
            return self._random.random()


_global_lock = threading.Lock()
_global: DrawSource | None = None
_streams: dict[tuple[str, str], DrawSource] = {}
_forced_seed: int | None = None


def set_global_seed(seed: int | None) -> None:
    """Seed every mock without a seed of its own (`None` goes back to the environment)."""
    global _forced_seed, _global
    with _global_lock:
        _forced_seed = seed
        _global = None
        _streams.clear()


def global_source() -> DrawSource:
    """The process-wide seed holder, re-seeded (with its streams) when `TARASH_MOCK_SEED` changes."""
    global _global
    wanted = _forced_seed if _forced_seed is not None else _env_seed()
    source = _global
    if source is not None and (wanted is None or source.seed == wanted):
        return source
    with _global_lock:
        if _global is None or (wanted is not None and _global.seed != wanted):
            _global = DrawSource(wanted if wanted is not None else random.SystemRandom().randrange(2**32))
            _streams.clear()
        return _global


def global_stream(provider: str, model: str) -> DrawSource:
    """The process-wide stream of one (provider, model), for mocks without a seed."""
    source, wanted = _global, _forced_seed if _forced_seed is not None else _env_seed()
    # `global_source()`, its common case (a seed holder in force, no change asked) spelled out
    seed = source.seed if source is not None and (wanted is None or source.seed == wanted) else global_source().seed
    stream = _streams.get((provider, model))
    if stream is not None and stream.seed == seed:
        return stream
    with _global_lock:
        stream = _streams.get((provider, model))
        if stream is None or stream.seed != seed:
            stream = _streams[(provider, model)] = DrawSource(seed, stream_seed(seed, provider, model))
        return stream


def _env_seed() -> int | None:
    value = env_value("TARASH_MOCK_SEED")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        from ..exceptions import ValidationError

        raise ValidationError(f"TARASH_MOCK_SEED must be a whole number, got {value!r}") from None
