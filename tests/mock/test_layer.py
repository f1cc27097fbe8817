"""The mock layer through the public API: outcomes, errors, latency, polling, seeds, env."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tarash.tarash_gateway import generate_video, set_global_seed, use_clock
from tarash.tarash_gateway.clock import SystemClock
from tarash.tarash_gateway.exceptions import (
    GenerationFailedError,
    RateLimitError,
    TimeoutError,
)
from tarash.tarash_gateway.mock import (
    Latency,
    MockConfig,
    MockPollingConfig,
    MockResponse,
)
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
    VideoGenerationResponse,
)

REQUEST = VideoGenerationRequest(prompt="p", aspect_ratio="9:16", resolution="1080p", duration_seconds=8)


def video_config(**mock):
    return VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(**mock))


def test_stock_response_tells_the_truth_about_the_file(face):
    response = face.video(video_config(), REQUEST)
    assert (response.aspect_ratio, response.resolution, response.duration) == ("9:16", "1080p", 8.0)
    assert response.content_type == "video/mp4"
    assert response.origin.stock_file == "videos/9x16_1080p_8s.mp4"
    assert response.raw_response["stock"]["width"] == 1080


def test_each_stock_answer_is_its_own_response_with_its_own_raw_response_and_origin(face):
    config = video_config()
    first, second = face.video(config, REQUEST), face.video(config, REQUEST)
    assert first.request_id != second.request_id
    assert first.raw_response is not second.raw_response and first.origin is not second.origin
    first.raw_response["stock"]["width"] = 0  # a caller changing one answer's dict changes no other
    assert face.video(config, REQUEST).raw_response["stock"]["width"] == 1080
    assert (second.origin.call, first.origin.call) == (2, 1)


def test_content_mode_returns_the_bytes(face):
    response = face.video(video_config(responses=[MockResponse(output_video_type="content")]), REQUEST)
    assert response.video["content_type"] == "video/mp4"
    assert response.video["content"][4:8] == b"ftyp"


def test_image_content_mode_gives_data_uris_and_n_images(face):
    config = ImageGenerationConfig(provider="openai", model="gpt-image-1", mock=MockConfig(responses=[MockResponse(output_type="content")]))
    response = face.image(config, ImageGenerationRequest(prompt="p", size="1536x1024", n=2))
    assert len(response.images) == 2
    assert response.images[0].startswith("data:image/png;base64,")
    assert response.raw_response["stock"]["width"] == 1536


def test_mock_response_is_returned_marked_as_mock(face):
    given = VideoGenerationResponse(request_id="orig", video="https://x/v.mp4", duration=5)
    response = face.video(video_config(responses=[MockResponse(mock_response=given)]), REQUEST)
    assert response.video == "https://x/v.mp4" and response.is_mock and response.request_id != "orig"


def test_an_image_response_for_a_video_call_is_a_clear_error(face):
    config = video_config(responses=[MockResponse(image_url="https://x/a.png")])
    with pytest.raises(Exception, match="image_url was given for a video call"):
        face.video(config, REQUEST)


def test_injected_errors_are_fresh_instances_with_call_details(face):
    template = RateLimitError("slow down", retry_after=3)
    config = video_config(responses=[MockResponse(error=template)])
    seen = []
    for _ in range(2):
        with pytest.raises(RateLimitError) as caught:
            face.video(config, REQUEST)
        seen.append(caught.value)
    assert seen[0] is not seen[1] and seen[0] is not template
    assert seen[0].retry_after == 3 and seen[0].provider == "fal" and seen[0].model == "fal-ai/veo3.1"
    assert template.provider is None and template.__traceback__ is None
    assert seen[0].origin.injected == "error:RateLimitError"


def test_the_seed_in_use_is_reported_and_replays_the_run(face):
    config = video_config(seed=11, responses=[MockResponse(weight=1), MockResponse(weight=1, error=GenerationFailedError("x"))])
    first = []
    for _ in range(20):
        try:
            first.append(face.video(config, REQUEST).origin.outcome)
        except GenerationFailedError as e:
            assert e.origin.seed == 11
            first.append(e.origin.outcome)
    again = video_config(seed=11, responses=config.mock.responses)
    second = []
    for _ in range(20):
        try:
            second.append(face.video(again, REQUEST).origin.outcome)
        except GenerationFailedError as e:
            second.append(e.origin.outcome)
    assert first == second and set(first) == {0, 1}


def test_unseeded_runs_report_a_process_seed_that_reproduces_them(monkeypatch):
    config = video_config(responses=[MockResponse(weight=1), MockResponse(weight=1, error=GenerationFailedError("x"))])

    def outcomes():
        out = []
        for _ in range(15):
            try:
                r = generate_video(config, REQUEST)
                out.append((r.origin.outcome, r.origin.seed))
            except GenerationFailedError as e:
                out.append((e.origin.outcome, e.origin.seed))
        return out

    run = outcomes()
    seed = run[0][1]
    assert seed is not None and all(s == seed for _, s in run)
    monkeypatch.setenv("TARASH_MOCK_SEED", str(seed))
    set_global_seed(None)  # start the sequence afresh, as a new process would
    assert [o for o, _ in outcomes()] == [o for o, _ in run]


def test_latency_is_spent_on_the_clock_even_without_a_callback(face, clock):
    face.video(video_config(latency=Latency(seconds=2.5)), REQUEST)
    assert clock.slept == pytest.approx(2.5)


def test_latency_past_the_timeout_raises_timeout_error(face, clock):
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", timeout=1.0, mock=MockConfig(latency=30))
    with pytest.raises(TimeoutError) as caught:
        face.video(config, REQUEST)
    assert caught.value.timeout_seconds == 1.0
    assert clock.slept == pytest.approx(1.0)
    assert caught.value.origin.injected == "latency:30.000s"  # where it came from: the injected latency


def test_polling_timeline_in_order_with_results(face, clock):
    events = []
    config = video_config(polling=MockPollingConfig(delay_between_updates=0.5, custom_updates=[{"a": 1}, {}, {}]))
    response = face.video(config, REQUEST, events.append)
    assert [e.status for e in events] == ["queued", "processing", "completed"]
    assert [e.progress_percent for e in events] == [0, 50, 100]
    assert events[0].update == {"a": 1}
    assert events[-1].result.video == response.video
    assert {e.request_id for e in events} == {response.request_id}
    assert all(e.attempt == 1 for e in events)
    assert clock.slept == pytest.approx(1.0)


def test_polling_with_an_error_ends_failed_then_raises(face, clock):
    events = []
    config = video_config(
        polling=MockPollingConfig(delay_between_updates=0.1),
        responses=[MockResponse(error=GenerationFailedError("broke"))],
    )
    with pytest.raises(GenerationFailedError):
        face.video(config, REQUEST, events.append)
    assert [e.status for e in events] == ["queued", "processing", "failed"]
    assert events[-1].error == "broke"


def test_disabled_polling_is_honoured(face, clock):
    events = []
    face.video(video_config(polling=MockPollingConfig(enabled=False)), REQUEST, events.append)
    assert events == [] and clock.slept == 0


def test_async_callbacks_are_awaited_on_both_faces(face, clock):
    seen = []

    async def on_progress(update):
        await asyncio.sleep(0)
        seen.append(update.status)

    face.video(video_config(polling=MockPollingConfig()), REQUEST, on_progress)
    assert seen == ["queued", "processing", "completed"]


def test_a_sync_call_with_an_async_callback_works_inside_a_running_loop():
    seen = []

    async def on_progress(update):
        seen.append(update.status)

    async def main():
        # a sync call made from async code (an app mixing styles) must not break the loop
        return generate_video(video_config(polling=MockPollingConfig(delay_between_updates=0)), REQUEST, on_progress)

    asyncio.run(main())
    assert seen == ["queued", "processing", "completed"]


def test_simulated_waits_are_real_by_default():
    import time

    config = video_config(polling=MockPollingConfig(delay_between_updates=0.05))
    with use_clock(SystemClock()):
        started = time.perf_counter()
        generate_video(config, REQUEST)
    assert time.perf_counter() - started >= 0.1


def test_instant_waits_from_the_environment(monkeypatch):
    import time

    monkeypatch.setenv("TARASH_INSTANT_WAITS", "1")
    started = time.perf_counter()
    generate_video(video_config(latency=20), REQUEST)
    assert time.perf_counter() - started < 5


def test_tarash_mock_env_turns_real_configs_into_stock_mocks(face, monkeypatch):
    monkeypatch.setenv("TARASH_MOCK", "1")
    response = face.video(VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1"), REQUEST)
    assert response.is_mock and response.origin.source == "stock"
    image = face.image(ImageGenerationConfig(provider="openai", model="dall-e-3"), ImageGenerationRequest(prompt="p"))
    assert image.is_mock


def test_an_explicitly_disabled_mock_is_not_mocked_by_the_environment(monkeypatch):
    monkeypatch.setenv("TARASH_MOCK", "1")
    config = VideoGenerationConfig(provider="nobody-knows", model="m", mock=MockConfig(enabled=False))
    with pytest.raises(Exception, match="unknown provider"):
        generate_video(config, REQUEST)


def test_threads_share_one_seeded_sequence_without_losing_draws():
    config = video_config(seed=5, responses=[MockResponse(weight=1), MockResponse(weight=1, video_url="https://x/v.mp4")])
    draws = []
    lock = threading.Lock()

    def worker():
        for _ in range(50):
            r = generate_video(config, REQUEST)
            with lock:
                draws.append(r.origin.draw)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(draws) == list(range(1, 201))


def test_a_scripted_sequence_fails_twice_then_succeeds(face, clock):
    config = video_config(
        order="sequence",
        responses=[
            MockResponse(error=RateLimitError("slow down", retry_after=1)),
            MockResponse(error=GenerationFailedError("runner crashed")),
            MockResponse(),
        ],
    )
    seen = []
    for _ in range(4):
        try:
            seen.append(face.video(config, REQUEST).origin.outcome)
        except (RateLimitError, GenerationFailedError) as error:
            seen.append(type(error).__name__)
    assert seen == ["RateLimitError", "GenerationFailedError", 2, 2]


def test_a_cycle_goes_round_and_weights_are_ignored(face, clock):
    config = video_config(
        order="cycle",
        responses=[MockResponse(weight=100), MockResponse(weight=0.001, video_url="https://x/v.mp4")],
    )
    assert [face.video(config, REQUEST).origin.outcome for _ in range(4)] == [0, 1, 0, 1]


def test_sequence_counts_are_kept_across_threads():
    config = video_config(order="sequence", responses=[MockResponse(video_url=f"https://x/{i}.mp4") for i in range(40)])
    seen = []
    lock = threading.Lock()

    def worker():
        for _ in range(10):
            outcome = generate_video(config, REQUEST).origin.outcome
            with lock:
                seen.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == list(range(40))
