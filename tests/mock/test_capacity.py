"""Provider capacity on the clock: rate limits answer 429 with Retry-After, concurrency
queues where the provider queues and is refused where it does not."""

from __future__ import annotations

import asyncio

import pytest

from tarash.tarash_gateway import generate_video_async, use_clock
from tarash.tarash_gateway.clock import InstantClock
from tarash.tarash_gateway.exceptions import RateLimitError, is_retryable
from tarash.tarash_gateway.mock import Latency, MockConfig
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

REQUEST = VideoGenerationRequest(prompt="p")


def test_past_the_rate_limit_the_provider_answers_429_with_the_seconds_until_a_slot(face, clock):
    config = VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig(rate_limit_per_minute=3))
    for _ in range(3):
        face.video(config, REQUEST)
    clock.sleep(20)
    with pytest.raises(RateLimitError) as caught:
        face.video(config, REQUEST)
    assert caught.value.retry_after == 40 and is_retryable(caught.value)  # the first submit leaves the window at 60 s
    assert caught.value.provider == "openai" and caught.value.status_code == 429
    assert (caught.value.origin.injected, caught.value.origin.phase) == ("capacity:rate_limit", "submit")
    clock.sleep(caught.value.retry_after)
    assert face.video(config, REQUEST).is_mock  # waited as told: served


def test_queueing_providers_are_rate_limited_with_a_429_too(face, clock):
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(rate_limit_per_minute=1))
    face.video(config, REQUEST)
    with pytest.raises(RateLimitError):
        face.video(config, REQUEST)


def gather(config, n, events=None):
    async def one():
        try:
            return await generate_video_async(config, REQUEST, events.append if events is not None else None)
        except RateLimitError as error:
            return error

    async def main():
        return await asyncio.gather(*(one() for _ in range(n)))

    clock = InstantClock()
    with use_clock(clock):
        return asyncio.run(main()), clock


@pytest.mark.parametrize("provider, model", [("openai", "sora-2"), ("google", "veo-3.1-generate-preview"), ("xai", "grok-imagine-video")])
def test_past_its_concurrency_a_provider_without_a_queue_refuses_the_extra_jobs(provider, model):
    config = VideoGenerationConfig(
        provider=provider, model=model, mock=MockConfig(max_concurrency=4, latency=Latency(seconds=30))
    )
    results, _ = gather(config, 20)
    refused = [r for r in results if isinstance(r, RateLimitError)]
    assert len(refused) == 16 and all(r.retry_after is not None and r.provider == provider for r in refused)
    assert {r.origin.injected for r in refused} == {"capacity:concurrency"}
    assert sum(1 for r in results if not isinstance(r, RateLimitError)) == 4


@pytest.mark.parametrize("provider, model", [("fal", "fal-ai/veo3.1"), ("replicate", "google/veo-3")])
def test_past_its_concurrency_a_queueing_provider_queues_the_extra_jobs(provider, model):
    config = VideoGenerationConfig(
        provider=provider, model=model, poll_interval=5,
        mock=MockConfig(max_concurrency=4, latency=Latency(seconds=30)),
    )
    events = []
    results, clock = gather(config, 20, events)
    assert all(r.is_mock for r in results)
    positions = [e.update["queue_position"] for e in events if "queue_position" in e.update]
    assert max(positions) == 15  # the 20th job waited behind 15 others
    # 20 jobs of 30 s, 4 at a time: the last ones wait about four rounds of the queue
    assert clock.slept > 20 * 30


def test_a_queued_job_past_its_deadline_times_out_and_leaves_the_queue():
    from tarash.tarash_gateway.exceptions import TimeoutError
    from tarash.tarash_gateway.mock import MockPollingConfig

    long_job = MockPollingConfig(status_sequence=["queued", *["processing"] * 18, "completed"], delay_between_updates=1)
    config = VideoGenerationConfig(
        provider="fal", model="fal-ai/veo3.1", poll_interval=5, timeout=40,
        mock=MockConfig(max_concurrency=1, polling=long_job),
    )

    async def main():
        return await asyncio.gather(*(generate_video_async(config, REQUEST) for _ in range(3)), return_exceptions=True)

    with use_clock(InstantClock()):
        first, *queued = asyncio.run(main())
        assert first.is_mock  # 19 s of progress, holding the only slot
        assert all(isinstance(r, TimeoutError) and r.origin.injected == "capacity:queued" for r in queued)
        assert asyncio.run(generate_video_async(config, REQUEST)).is_mock  # no slot leaked


def test_a_mock_without_capacity_never_refuses(face, clock):
    config = VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig())
    assert all(face.video(config, REQUEST).is_mock for _ in range(50))
