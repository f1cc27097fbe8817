"""The record/replay part of `make demo`: record a real run once, replay it offline.

`record` records three generations through the real provider adapters (fal video,
Replicate video, OpenAI images) into a cassette: against the loopback provider
simulator, or against the real provider for each one whose key is set in the
environment (`FAL_KEY`, `REPLICATE_API_TOKEN`, `OPENAI_API_KEY`). The generated
media are captured into the cassette. `replay` replays it with no provider, no
network and no keys: the same responses, the same progress events, the media from the
cassette. Last, the recording serves as one weighted outcome of a seeded chaos run.

`make demo` replays the run committed in `cassettes/demo.db`; `make demo-record`
(`TARASH_DEMO_RECORD=1`) records it afresh against the simulator first.
"""

from __future__ import annotations

import collections
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import generate_image, generate_video
from .cassettes import use_cassette
from .exceptions import RateLimitError, TarashException
from .mock import MockConfig, MockResponse
from .models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
)
from .simulator import ProviderSimulator, Scenario

__all__ = ["CALLS", "ProgressBar", "record", "replay", "run"]

#: (kind, provider, model, prompt, the environment variable holding a real key)
CALLS = (
    ("video", "fal", "fal-ai/veo3.1/fast", "a lighthouse at dawn", "FAL_KEY"),
    ("video", "replicate", "google/veo-3", "a cat playing piano", "REPLICATE_API_TOKEN"),
    ("image", "openai", "gpt-image-1", "rain on a neon street", "OPENAI_API_KEY"),
)


def _config(kind: str, provider: str, model: str, key_var: str, sim: ProviderSimulator | None) -> Any:
    real_key = os.environ.get(key_var)
    fields: dict[str, Any] = {"provider": provider, "model": model, "poll_interval": 0.2}
    if real_key or sim is None:
        fields["api_key"] = real_key  # the real provider (or, on replay, nothing is called)
    else:
        fields.update(api_key="simulator-key", base_url=sim.base_url(provider))
    return (VideoGenerationConfig if kind == "video" else ImageGenerationConfig)(**fields)


def _generate(kind: str, config: Any, prompt: str, events: list[str],
              on_percent: Callable[[int | None], None] | None = None) -> Any:
    def on_progress(update: Any) -> None:
        events.append(f"{update.status}" + (f" {update.progress_percent}%" if update.progress_percent is not None else ""))
        if on_percent is not None:
            on_percent(None if update.progress_percent is None else int(update.progress_percent))

    if kind == "video":
        return generate_video(config, VideoGenerationRequest(prompt=prompt, duration_seconds=8), on_progress)
    return generate_image(config, ImageGenerationRequest(prompt=prompt, size="1024x1024"), on_progress)


def _events(events: list[str]) -> str:
    return f"{len(events)} progress event" + ("" if len(events) == 1 else "s")


def _media(response: Any) -> Any:
    return response.video if hasattr(response, "video") else response.images[0]


#: Makes a progress bar: `(length, label)` -> a context manager with `update(n)`.
ProgressBar = Callable[[int, str], Any]


def _bar(length: int, label: str) -> Any:
    from .cli.common import progress  # on stderr, drawn only when it is a terminal

    return progress(length, label)


def record(report: Callable[[str], None], cassette: Path, *, progress: ProgressBar = _bar
           ) -> list[tuple[str, list[str]]]:
    """Record the three calls into `cassette` (afresh); their request ids and progress events.

    The run is recorded beside the cassette and moved into place once whole, so a failed
    recording leaves the old cassette as it was. Each call's progress, as the provider
    reports it, is drawn as a bar made by `progress` (by default on stderr, only when
    it is a terminal).
    """
    cassette.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".tarash-demo-", dir=cassette.parent) as scratch:
        fresh = Path(scratch) / cassette.name
        live = _record_into(report, fresh, cassette, progress)
        fresh.replace(cassette)
    return live


def _record_into(report: Callable[[str], None], fresh: Path, cassette: Path, progress: ProgressBar
                 ) -> list[tuple[str, list[str]]]:
    live: list[tuple[str, list[str]]] = []
    sim = ProviderSimulator(Scenario(queue_polls=1, run_polls=3, latency=0.05), max_lifetime=300)
    with sim:
        real = [var for *_, var in CALLS if os.environ.get(var)]
        where = f"real providers for {', '.join(real)}, the simulator for the rest" if real else f"the loopback provider simulator ({sim.url})"
        report(f"recording {len(CALLS)} calls through the real adapters, against {where}, into {cassette}")
        started = time.perf_counter()
        with use_cassette(fresh, record_mode="all") as recording:
            for kind, provider, model, prompt, key_var in CALLS:
                events: list[str] = []
                with progress(100, f"  {provider}/{model}") as bar:
                    done = [0]

                    def advance(percent: int | None, bar: Any = bar, done: list[int] = done) -> None:
                        # an update without a percentage (queued, polled) moves the bar a little
                        target = min(done[0] + 10, 90) if percent is None else min(percent, 100)
                        step = max(0, target - done[0])
                        done[0] += step
                        bar.update(step)

                    response = _generate(kind, _config(kind, provider, model, key_var, sim), prompt, events, advance)
                    advance(100)
                live.append((response.request_id, events))
                report(f"  {provider}/{model}: {response.request_id}, {_events(events)}, {kind} captured")
        recorded_in = time.perf_counter() - started
        assert recording is not None  # a session whenever a path is given
        report(f"  recorded {recording.recorded} calls and their media in {recorded_in:.2f} s")
    return live


def replay(report: Callable[[str], None], cassette: Path, live: list[tuple[str, list[str]]] | None = None) -> None:
    """Replay the three calls from `cassette` with no provider and no network; with `live`
    (what `record` saw), say whether each replay gave the same."""
    if not cassette.is_file():
        raise FileNotFoundError(f"{cassette} does not exist: record it with make demo-record")
    report("no simulator runs and no key is used: replaying offline ..." if live is not None
           else f"replaying the committed run in {cassette}: no simulator, no network, no key ...")
    started = time.perf_counter()
    # the media are written to a scratch directory, so a replay leaves the checkout as it was
    with tempfile.TemporaryDirectory(prefix="tarash-demo-") as media_dir, \
            use_cassette(cassette, record_mode="none", media="file", media_dir=media_dir) as session:
        for i, (kind, provider, model, prompt, key_var) in enumerate(CALLS):
            events: list[str] = []
            response = _generate(kind, _config(kind, provider, model, key_var, None), prompt, events)
            local = Path(str(_media(response)).removeprefix("file://"))
            assert response.origin is not None  # the gateway stamps every response
            same = "" if live is None else " (same as live)" if (response.request_id, events) == live[i] else " (DIFFERENT)"
            report(f"  {provider}: {response.request_id} from {response.origin.source}, {_events(events)}"
                   f"{same}, {kind} {local.name} ({local.stat().st_size // 1024} KB, local)")
        replayed_in = time.perf_counter() - started
        assert session is not None  # a session whenever a path is given
        report(f"  replayed {session.replayed} calls in {replayed_in:.3f} s instead of {session.replayed_seconds:.2f} s: "
               f"{session.replayed_seconds - replayed_in:.2f} s saved, no provider, no network, no credits")
    _chaos(report, cassette)


def run(report: Callable[[str], None], cassette: Path, *, record_first: bool = False,
        progress: ProgressBar = _bar) -> None:
    """Replay `cassette`; with `record_first` (or when it does not exist), record it first
    (with a progress bar per call, made by `progress`)."""
    live = record(report, cassette, progress=progress) if record_first or not cassette.is_file() else None
    replay(report, cassette, live)


def _chaos(report: Callable[[str], None], cassette: Path) -> None:
    chaos = VideoGenerationConfig(
        provider="fal",
        model="fal-ai/veo3.1/fast",
        mock=MockConfig(seed=7, responses=[
            MockResponse(weight=0.7, replay=str(cassette)),
            MockResponse(weight=0.3, error=RateLimitError("fal is saturated", retry_after=5)),
        ]),
    )
    outcomes: collections.Counter[str] = collections.Counter()
    for _ in range(20):
        try:
            response = generate_video(chaos, VideoGenerationRequest(prompt=CALLS[0][3], duration_seconds=8))
            assert response.origin is not None  # the gateway stamps every response
            outcomes[response.origin.source] += 1
        except TarashException as error:
            outcomes[type(error).__name__] += 1
    report("  chaos over real data (seed 7, 70% replayed recording / 30% injected 429): "
           + ", ".join(f"{n} {what}" for what, n in outcomes.most_common()))
