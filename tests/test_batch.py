"""Batches: a concurrency limit, per-item results and errors in order, progress, per-item fallback."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tarash.tarash_gateway import (
    BatchItem,
    generate_images,
    generate_images_async,
    generate_videos,
    generate_videos_async,
    register_provider,
    unregister_provider,
)
from tarash.tarash_gateway.exceptions import GenerationFailedError, ValidationError
from tarash.tarash_gateway.mock import MockConfig, MockResponse
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
    VideoGenerationResponse,
)

MOCKED = VideoGenerationConfig(provider="studio", model="v1", mock=MockConfig(validate=False))
FAILING = VideoGenerationConfig(provider="studio", model="v1",
                                mock=MockConfig(validate=False, responses=[MockResponse(error=GenerationFailedError("boom"))]))


def requests(n):
    return [VideoGenerationRequest(prompt=f"shot {i}") for i in range(n)]


def videos(face, *args, **kwargs):
    if face.name == "sync":
        return generate_videos(*args, **kwargs)
    return asyncio.run(generate_videos_async(*args, **kwargs))


def images(face, *args, **kwargs):
    if face.name == "sync":
        return generate_images(*args, **kwargs)
    return asyncio.run(generate_images_async(*args, **kwargs))


class Gauge:
    """A registered provider that counts calls and the most that ran at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = self.most = self.calls = 0

    def _enter(self):
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)

    def _leave(self, request):
        with self.lock:
            self.running -= 1
        return VideoGenerationResponse(request_id=request.prompt, video="https://example.invalid/v.mp4")

    def generate_video(self, config, request, on_progress=None):
        self._enter()
        threading.Event().wait(0.05)
        return self._leave(request)

    async def generate_video_async(self, config, request, on_progress=None):
        self._enter()
        await asyncio.sleep(0.05)
        return self._leave(request)


@pytest.fixture
def gauge():
    handler = Gauge()
    register_provider("gauge", handler)
    yield handler
    unregister_provider("gauge")


GAUGED = VideoGenerationConfig(provider="gauge", model="g1")


def test_no_more_than_max_concurrency_run_at_once(face, gauge):
    batch = videos(face, GAUGED, requests(10), max_concurrency=3)
    assert (batch.total, batch.succeeded, batch.failed) == (10, 10, 0)
    assert gauge.calls == 10 and gauge.most == 3


def test_results_come_back_in_the_order_given(face, gauge):
    batch = videos(face, GAUGED, requests(8), max_concurrency=4)
    assert [r.index for r in batch.results] == list(range(8))
    assert [r.response.request_id for r in batch.results] == [f"shot {i}" for i in range(8)]


def test_one_failure_never_loses_the_others(face, clock):
    items = [BatchItem(r, FAILING if i == 2 else None) for i, r in enumerate(requests(5))]
    batch = videos(face, MOCKED, items, max_concurrency=2)
    assert (batch.succeeded, batch.failed) == (4, 1)
    assert [r.status for r in batch.results] == ["completed", "completed", "failed", "completed", "completed"]
    error = batch.errors[2]
    assert isinstance(error, GenerationFailedError) and error.execution_metadata.total_attempts == 1
    assert batch.responses[2] is None and all(batch.responses[i].is_mock for i in (0, 1, 3, 4))


def test_an_invalid_item_fails_alone(face):
    batch = videos(face, MOCKED, [{"prompt": "fine"}, {"no_prompt": True}, VideoGenerationRequest(prompt="fine too")])
    assert [r.status for r in batch.results] == ["completed", "failed", "completed"]
    assert isinstance(batch.errors[1], ValidationError) and "invalid request" in str(batch.errors[1])


def test_an_item_without_any_config_fails_alone(face):
    batch = videos(face, None, [BatchItem(VideoGenerationRequest(prompt="p"), MOCKED), VideoGenerationRequest(prompt="q")])
    assert [r.status for r in batch.results] == ["completed", "failed"]
    assert "has no config" in str(batch.errors[1])


def test_fallback_applies_to_each_item(face, clock):
    chain = FAILING.model_copy(update={"fallback_configs": [MOCKED]})
    batch = videos(face, chain, requests(4), max_concurrency=4)
    assert batch.succeeded == 4
    assert all(r.response.execution_metadata.fallback_triggered for r in batch.results)


def test_progress_hears_of_every_item_in_the_callers_thread(face, gauge):
    seen, threads = [], set()

    def on_batch_progress(progress):
        seen.append((progress.completed_count, progress.total_count, progress.item_result.status))
        threads.add(threading.get_ident())

    videos(face, GAUGED, [*requests(5), {"bad": 1}], max_concurrency=3, on_batch_progress=on_batch_progress)
    assert [count for count, _, _ in seen] == [1, 2, 3, 4, 5, 6]
    assert {total for _, total, _ in seen} == {6}
    assert sorted(status for _, _, status in seen) == ["completed"] * 5 + ["failed"]
    assert threads == {threading.get_ident()}


def test_an_async_progress_callback_is_awaited(gauge):
    seen = []

    async def on_batch_progress(progress):
        await asyncio.sleep(0)
        seen.append(progress.index)

    asyncio.run(generate_videos_async(GAUGED, requests(3), on_batch_progress=on_batch_progress))
    assert sorted(seen) == [0, 1, 2]


def test_item_progress_reaches_the_callers_callback(face, clock):
    from tarash.tarash_gateway.mock import MockPollingConfig

    polled = VideoGenerationConfig(provider="studio", model="v1", mock=MockConfig(validate=False, polling=MockPollingConfig()))
    updates = []
    videos(face, polled, requests(3), on_item_progress=updates.append)
    assert len({u.request_id for u in updates}) == 3 and {u.status for u in updates} >= {"completed"}


class Stop(Exception):
    pass


def test_a_raising_progress_callback_stops_the_batch(face, gauge):
    def on_batch_progress(progress):
        raise Stop("enough")

    with pytest.raises(Stop):
        videos(face, GAUGED, requests(6), max_concurrency=1, on_batch_progress=on_batch_progress)
    assert gauge.calls <= 2  # the item running when the callback raised may finish; no other starts


def test_image_batches_work_the_same(face):
    config = ImageGenerationConfig(provider="studio", model="v1", mock=MockConfig(validate=False))
    batch = images(face, config, [ImageGenerationRequest(prompt="p", aspect_ratio="1:1")] * 3)
    assert batch.succeeded == 3 and all(r.response.images for r in batch.results)


def test_simulated_waits_stay_instant_and_per_item(face, clock):
    slow = VideoGenerationConfig(provider="studio", model="v1", timeout=30, mock=MockConfig(validate=False, latency=20))
    batch = videos(face, slow, requests(5), max_concurrency=5)
    assert batch.succeeded == 5  # five 20 s waits on one shared time line would pass the 30 s deadline
    assert clock.slept == pytest.approx(100)


def test_an_empty_batch_is_an_empty_response(face):
    batch = videos(face, MOCKED, [])
    assert (batch.total, batch.succeeded, batch.failed, batch.results) == (0, 0, 0, [])


@pytest.mark.parametrize("bad", [0, 51, 2.5, True, "4"])
def test_max_concurrency_is_checked(face, bad):
    with pytest.raises(ValidationError, match="max_concurrency must be a whole number from 1 to 50"):
        videos(face, MOCKED, requests(1), max_concurrency=bad)


def test_items_must_be_a_list(face):
    with pytest.raises(ValidationError, match="must be a list of requests or BatchItems, got str"):
        videos(face, MOCKED, "a cat")
