"""`make demo`: the main job of tarash-gateway in one short, readable report.

Runs offline with no keys: stock mocks, a seeded chaos run, a fallback chain (a model
skipped because it cannot take the request, a fault on a status poll rescued by a retry
honouring Retry-After), then the run committed in `cassettes/demo.db` (recorded through the real
provider adapters against the loopback provider simulator) replayed with no provider and
no network. `TARASH_DEMO_RECORD=1` (`make demo-record`) records that run afresh against
the simulator first; `TARASH_DEMO_DIR` moves the cassette's folder.
"""

from __future__ import annotations

import collections
import os
import sys
import time
from pathlib import Path

from . import generate_image, generate_video, instant_waits
from .exceptions import GenerationFailedError, RateLimitError, TarashException
from .media import AspectRatio, Resolution
from .mock import Latency, MockConfig, MockResponse
from .models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
)
from .retry import Retry

__all__ = ["main"]


def say(text: str = "") -> None:
    print(text, flush=True)


def section(title: str) -> None:
    say()
    say(f"== {title} " + "=" * max(0, 66 - len(title)))


def stock() -> None:
    section("1. Stock mocks: real, playable media bundled in the package")
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", mock=MockConfig(enabled=True))
    shapes: tuple[tuple[AspectRatio, Resolution, int], ...] = (("16:9", "720p", 4), ("9:16", "1080p", 8), ("21:9", "4k", 6))
    for aspect, res, secs in shapes:
        request = VideoGenerationRequest(prompt="A cat playing piano", aspect_ratio=aspect, resolution=res, duration_seconds=secs)
        r = generate_video(config, request)
        say(f"  asked {aspect:>5} {res:>5} {secs}s -> served {r.aspect_ratio:>5} {r.resolution:>5} {r.duration:g}s  {r.video}")
    image = generate_image(
        ImageGenerationConfig(provider="openai", model="dall-e-3", mock=MockConfig(enabled=True)),
        ImageGenerationRequest(prompt="A sunset", size="1792x1024"),
    )
    say(f"  image 1792x1024 -> {image.images[0]}  (is_mock={image.is_mock})")


def chaos(calls: int = 300, seed: int = 42) -> None:
    section(f"2. Seeded chaos: {calls} calls, 80% success / 20% injected failures, seed {seed}")
    mock = MockConfig(
        seed=seed,
        latency=Latency(min=0.5, max=4.0),
        responses=[
            MockResponse(weight=0.8),
            MockResponse(weight=0.1, error=GenerationFailedError("the job failed")),
            MockResponse(weight=0.1, error=RateLimitError("slow down", retry_after=2)),
        ],
    )
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", mock=mock)
    counts: collections.Counter[str] = collections.Counter()
    first: list[str] = []
    started = time.perf_counter()
    with instant_waits() as clock:
        for _ in range(calls):
            try:
                generate_video(config, VideoGenerationRequest(prompt="chaos"))
                outcome = "ok"
            except TarashException as error:
                outcome = type(error).__name__
            counts[outcome] += 1
            if len(first) < 12:
                first.append("." if outcome == "ok" else "x")
    wall = time.perf_counter() - started
    for outcome, n in counts.most_common():
        say(f"  {outcome:<22} {n:>4}  ({100 * n / calls:.1f}%)")
    say(f"  first draws: {''.join(first)}   (same seed, same sequence, in every process)")
    say(f"  {clock.slept:.0f} s of injected latency simulated in {wall:.2f} s (instant_waits)")


def fallback() -> None:
    section("3. A fallback chain: a capability skip, a poll fault rescued by a retry")
    config = VideoGenerationConfig(
        # a real config: Kling cannot take 8 s, so it is skipped before any network call
        provider="replicate", model="kwaivgi/kling-v2.1", api_key="r8_demo",
        fallback_configs=[
            VideoGenerationConfig(
                provider="fal",
                model="fal-ai/veo3.1/fast",
                # the first job is throttled on its third status poll; the retry goes through
                mock=MockConfig(order="sequence", responses=[
                    MockResponse(error=RateLimitError("fal is saturated", retry_after=30), phase="poll", after_polls=2),
                    MockResponse(),
                ]),
                retry=Retry(attempts=2, wait_total_max=60),
            ),
            VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig(enabled=True)),
        ],
    )
    with instant_waits() as clock:
        response = generate_video(config, VideoGenerationRequest(prompt="A cat playing piano", duration_seconds=8))
    meta, video = response.execution_metadata, response.video
    assert meta is not None  # set on every response that went through a fallback chain
    assert isinstance(video, str)  # a stock mock serves a URL
    for a in meta.attempts:
        detail = f"{a.error_type}: {a.error_message}" if a.status != "success" else f"served {video.rsplit('/', 1)[-1]}"
        if a.status == "failed" and a.origin is not None and a.origin.phase:
            detail += f" (at {a.origin.phase})"
        if a.retry_wait_seconds:
            detail += f", retried after {a.retry_wait_seconds:g} s"
        target = f"{a.provider}/{a.model}"
        say(f"  attempt {a.attempt_number}  {target:<28} {a.status:<8} {detail}")
    say(f"  fallback_triggered={meta.fallback_triggered}  successful_attempt={meta.successful_attempt}  "
        f"{clock.slept:g} s simulated (status polls and the retry's wait)  "
        f"cost avoided about ${meta.cost_avoided_usd or 0:.2f}")


def record_replay(cassette: Path, *, record_first: bool) -> None:
    from .demo_record import run

    section("4. Record once, replay offline")
    run(say, cassette, record_first=record_first)


def main() -> int:
    say("tarash-gateway demo: offline, no provider keys needed")
    stock()
    chaos()
    fallback()
    record_replay(Path(os.environ.get("TARASH_DEMO_DIR", "cassettes")) / "demo.db",
                  record_first=os.environ.get("TARASH_DEMO_RECORD", "") not in ("", "0"))
    say()
    say("Done. Docs: docs/index.md; tests: make test.")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
