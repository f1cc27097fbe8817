"""Where every result and every error came from, on every attempt; configs as values;
lognormal and as-recorded latency."""

from __future__ import annotations

import statistics

import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.exceptions import GenerationFailedError, HTTPError, RateLimitError
from tarash.tarash_gateway.mock import Latency, MockConfig, MockResponse, Outage, Schedule
from tarash.tarash_gateway.mock.chaos import sample_latency
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

REQUEST = VideoGenerationRequest(prompt="p")


def live(simulator, provider="fal", model="fal-ai/veo3.1", **fields):
    return VideoGenerationConfig(
        provider=provider, model=model, api_key="k", base_url=simulator.base_url(provider), poll_interval=0.01, **fields
    )


def test_an_error_from_a_live_provider_says_where_it_came_from(face, clock, simulator):
    with pytest.raises(HTTPError) as caught:
        face.video(live(simulator), VideoGenerationRequest(prompt="x #sim:server_error"))
    origin = caught.value.origin
    assert (origin.source, origin.provider, origin.model, origin.phase) == ("provider", "fal", "fal-ai/veo3.1", "submit")


def test_every_failed_attempt_of_a_chain_carries_its_origin(face, clock, simulator):
    config = live(simulator, fallback_configs=[
        VideoGenerationConfig(provider="replicate", model="google/veo-3", mock=MockConfig(responses=[
            MockResponse(error=GenerationFailedError("runner crashed"), phase="poll", after_polls=1)])),
        VideoGenerationConfig(provider="openai", model="sora-2", mock=MockConfig()),
    ])
    response = face.video(config, VideoGenerationRequest(prompt="x #sim:server_error"))
    first, second, third = response.execution_metadata.attempts
    assert (first.origin.source, first.origin.provider, first.status) == ("provider", "fal", "failed")
    assert (second.origin.source, second.origin.phase, second.origin.injected) == ("mock", "poll", "error:GenerationFailedError")
    assert (third.origin.source, third.origin.provider, third.status) == ("stock", "openai", "success")
    assert third.origin == response.origin


def test_a_replay_names_its_cassette_recording_and_sequence(face, clock, tmp_path):
    path = tmp_path / "run.db"
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig())
    with use_cassette(path, record_mode="all"):
        face.video(config, REQUEST)
        face.video(config, REQUEST)
    with use_cassette(path, record_mode="none"):
        first, second = face.video(config, REQUEST), face.video(config, REQUEST)
    assert first.origin.source == second.origin.source == "replay"
    assert first.origin.cassette == second.origin.cassette == str(path)
    assert (first.origin.sequence, second.origin.sequence) == (1, 2)
    assert first.origin.recording != second.origin.recording and first.origin.recording is not None


def test_a_config_with_a_used_mock_equals_its_json_round_trip():
    mock = MockConfig(
        seed=3, order="sequence", responses=[MockResponse(error=RateLimitError("slow", retry_after=2), phase="poll"), MockResponse()],
        schedule=[Schedule(every=4, response=MockResponse(fault="job_lost")), Schedule(outage=Outage(start=1, duration=2), response=MockResponse())],
        max_concurrency=2, rate_limit_per_minute=10, latency=Latency(median=20, p99=90),
    )
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=mock)
    from tarash.tarash_gateway import generate_video, instant_waits

    with instant_waits(), pytest.raises(RateLimitError):
        generate_video(config, REQUEST)  # the call state moved on...
    assert VideoGenerationConfig.model_validate_json(config.model_dump_json()) == config  # ...the value did not


def test_a_copy_of_a_sequenced_config_starts_at_the_beginning(face, clock):
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(
        order="sequence", responses=[MockResponse(error=GenerationFailedError("x")), MockResponse()]))
    with pytest.raises(GenerationFailedError):
        face.video(config, REQUEST)
    assert face.video(config, REQUEST).origin.call == 2
    copy = VideoGenerationConfig.model_validate_json(config.model_dump_json())
    with pytest.raises(GenerationFailedError):
        face.video(copy, REQUEST)  # its own count: call 1 again


def test_lognormal_latency_has_the_median_and_p99_it_was_given():
    latency = Latency(median=40, p99=180)
    assert sample_latency(latency, 0.5) == pytest.approx(40)
    assert sample_latency(latency, 0.99) == pytest.approx(180)


def test_lognormal_latency_drawn_by_the_mock_matches_statistically(face, clock):
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", timeout=10_000,
                                   mock=MockConfig(seed=21, latency=Latency(median=40, p99=180)))
    spent = []
    for _ in range(400):
        before = clock.slept
        face.video(config, REQUEST)
        spent.append(clock.slept - before)
    assert statistics.median(spent) == pytest.approx(40, rel=0.15)
    assert sorted(spent)[int(0.99 * len(spent))] == pytest.approx(180, rel=0.35)


def test_latency_as_recorded_is_drawn_from_the_cassettes_durations(face, clock, tmp_path):
    path = tmp_path / "timings.db"
    with use_cassette(path, record_mode="all"):
        for seconds in (2, 4, 6):
            config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(latency=seconds))
            face.video(config, VideoGenerationRequest(prompt=f"clip {seconds}"))
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(seed=4, latency=Latency(recorded=str(path))))
    spent = set()
    for _ in range(60):
        before = clock.slept
        face.video(config, REQUEST)
        spent.add(round(clock.slept - before, 6))
    assert spent == {2.0, 4.0, 6.0}


def test_latency_as_recorded_from_an_empty_cassette_is_a_clear_error(face, clock, tmp_path):
    from tarash.tarash_gateway.exceptions import CassetteError

    path = tmp_path / "empty.db"
    with use_cassette(path, record_mode="all"):
        pass
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(latency=Latency(recorded=str(path))))
    with pytest.raises(CassetteError):
        face.video(config, REQUEST)


def test_a_budget_refusal_and_a_replay_miss_say_where_they_came_from(face, clock, tmp_path, monkeypatch):
    from tarash.tarash_gateway.exceptions import BudgetExceededError, RecordingNotFoundError

    real = VideoGenerationConfig(provider="openai", model="sora-2", api_key="k", base_url="http://127.0.0.1:9")
    eight = VideoGenerationRequest(prompt="p", duration_seconds=8)
    monkeypatch.setenv("TARASH_BUDGET_USD", "0.01")
    with pytest.raises(BudgetExceededError) as refused:
        face.video(real, eight)
    monkeypatch.delenv("TARASH_BUDGET_USD")
    assert (refused.value.origin.source, refused.value.origin.provider, refused.value.origin.phase) == (
        "provider", "openai", "submit")
    path = tmp_path / "empty.db"
    with use_cassette(path, record_mode="none"), pytest.raises(RecordingNotFoundError) as missed:
        face.video(real, eight)
    assert (missed.value.origin.source, missed.value.origin.cassette) == ("replay", str(path))
