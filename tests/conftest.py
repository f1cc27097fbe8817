"""Shared fixtures: both faces of the API, an instant clock, a clean environment, the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tarash.tarash_gateway import (
    InstantClock,
    clear_middleware,
    generate_image,
    generate_image_async,
    generate_video,
    generate_video_async,
    set_global_seed,
    use_clock,
)


class Face:
    """Runs the public calls on one face: ``sync`` or ``async`` (through a fresh event loop)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def video(self, config: Any, request: Any, on_progress: Any = None) -> Any:
        if self.name == "sync":
            return generate_video(config, request, on_progress)
        return asyncio.run(generate_video_async(config, request, on_progress))

    def image(self, config: Any, request: Any, on_progress: Any = None) -> Any:
        if self.name == "sync":
            return generate_image(config, request, on_progress)
        return asyncio.run(generate_image_async(config, request, on_progress))

    def __repr__(self) -> str:
        return self.name


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest) -> Face:
    """The sync and the async face, one parametrised fixture for parity."""
    return Face(request.param)


@pytest.fixture
def clock() -> Iterator[InstantClock]:
    """An instant clock for the test (simulated waits add to ``clock.slept``)."""
    instant = InstantClock()
    with use_clock(instant):
        yield instant


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("TARASH_MOCK", "TARASH_MOCK_SEED", "TARASH_CASSETTE", "TARASH_RECORD_MODE", "TARASH_CASSETTE_REPEATS", "TARASH_STRICT_FIELDS",
                 "TARASH_BUDGET_USD", "TARASH_PRICES"):
        monkeypatch.delenv(name, raising=False)
    set_global_seed(None)
    yield
    set_global_seed(None)
    clear_middleware()


@pytest.fixture(scope="session")
def simulator() -> Iterator[Any]:
    """One loopback provider simulator for the session (127.0.0.1, free port)."""
    from tarash.tarash_gateway.simulator import ProviderSimulator

    with ProviderSimulator() as sim:
        yield sim
