"""Latency as recorded: the durations of a cassette's recordings, read once per cassette."""

from __future__ import annotations

import threading

from ..exceptions import CassetteError
from ..flow import Blocking, Flow

__all__ = ["recorded_durations"]

_cache: dict[tuple[str, str, str], tuple[float, ...]] = {}
_lock = threading.Lock()


def recorded_durations(path: str, provider: str, model: str) -> Flow[tuple[float, ...]]:
    """The sorted durations recorded for (provider, model) in `path`, else all of them."""
    key = (path, provider, model)
    found = _cache.get(key)
    if found is None:
        found = yield Blocking(_load, (key,))
    return found


def _load(key: tuple[str, str, str]) -> tuple[float, ...]:
    from ..cassettes.session import shared_session  # sqlite-utils: only when a cassette is asked for

    path, provider, model = key
    session = shared_session(path)
    if not session.ready(create=False):
        session.open(False)
    store = session.store
    rows = store.recorded_durations() if store is not None else []
    own = sorted(r["duration"] for r in rows if (r["provider"], r["model"]) == (provider, model))
    durations = tuple(own or sorted(r["duration"] for r in rows))
    if not durations:
        raise CassetteError(f"Latency(recorded={path!r}): the cassette holds no recording with a duration")
    with _lock:
        _cache[key] = durations
    return durations
