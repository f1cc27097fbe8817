"""A job the caller stops waiting for is cancelled on the provider, whatever stopped the wait."""

from __future__ import annotations

import asyncio

import pytest

from tarash.tarash_gateway import generate_video_async, use_clock
from tarash.tarash_gateway.clock import SystemClock
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

CANCEL = {"fal": ("PUT", "/cancel"), "replicate": ("POST", "/cancel")}
MODELS = {"fal": "fal-ai/veo3.1", "replicate": "google/veo-3"}


def _config(simulator, provider):
    return VideoGenerationConfig(
        provider=provider, model=MODELS[provider], api_key="k", base_url=simulator.base_url(provider),
        poll_interval=0.01, timeout=60,
    )


def _cancels(simulator, provider, before):
    method, suffix = CANCEL[provider]
    return [r for r in simulator.requests[before:] if r[0] == provider and r[1] == method and r[2].endswith(suffix)]


class CallbackBug(Exception):
    pass


@pytest.mark.parametrize("provider", ["fal", "replicate"])
def test_a_raising_progress_callback_cancels_the_job(face, clock, simulator, provider):
    def on_progress(update):
        if update.status == "processing":
            raise CallbackBug("my bug")

    before = len(simulator.requests)
    with pytest.raises(CallbackBug):
        face.video(_config(simulator, provider), VideoGenerationRequest(prompt="x #sim:stuck"), on_progress)
    assert len(_cancels(simulator, provider, before)) == 1


@pytest.mark.parametrize("provider", ["fal", "replicate"])
def test_the_callers_own_timeout_cancels_the_job(simulator, provider):
    async def main():
        config = _config(simulator, provider).model_copy(update={"poll_interval": 0.05})
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(generate_video_async(config, VideoGenerationRequest(prompt="x #sim:stuck")), 0.3)

    before = len(simulator.requests)
    with use_clock(SystemClock()):  # asyncio.wait_for counts real seconds
        asyncio.run(main())
    assert len(_cancels(simulator, provider, before)) == 1
