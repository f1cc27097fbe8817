"""The clocks: the instant clock keeps virtual time per call, so concurrent calls keep their deadlines."""

from __future__ import annotations

import asyncio

from tarash.tarash_gateway import generate_video_async, instant_waits
from tarash.tarash_gateway.mock import MockConfig, MockPollingConfig
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest


def test_concurrent_calls_under_instant_waits_do_not_share_a_deadline():
    config = VideoGenerationConfig(
        provider="fal", model="fal-ai/veo3.1", timeout=100,
        mock=MockConfig(latency=60, polling=MockPollingConfig(delay_between_updates=10)),
    )

    async def main():
        return await asyncio.gather(*(generate_video_async(config, VideoGenerationRequest(prompt="p")) for _ in range(20)))

    with instant_waits() as clock:
        responses = asyncio.run(main())
    assert len(responses) == 20 and all(r.is_mock for r in responses)
    assert clock.slept == 20 * 80  # every call's 60 s latency and 2 x 10 s timeline, counted once each


def test_an_isolated_time_line_is_shared_with_its_threads_and_left_behind_after():
    with instant_waits() as clock:
        clock.sleep(5)
        with clock.isolated():
            assert clock.monotonic() == 5

            async def inner():
                await asyncio.to_thread(clock.sleep, 3)  # a worker thread of the call
                return clock.monotonic()

            assert asyncio.run(inner()) == 8
        assert clock.monotonic() == 5 and clock.slept == 8
