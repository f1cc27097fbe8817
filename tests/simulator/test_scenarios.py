"""The simulator's scenarios met by the real adapters over loopback, each classified into the
error tree exactly as the mock's equivalent: phase faults, a forgotten job, a dropped
connection, stalls, progress going backwards, a completed job carrying an error, expired
media URLs and provider capacity."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tarash.tarash_gateway.exceptions import (
    GenerationFailedError,
    HTTPConnectionError,
    HTTPError,
    RateLimitError,
    is_retryable,
)
from tarash.tarash_gateway.media_io import load_media
from tarash.tarash_gateway.mock import MockConfig, MockResponse
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
from tarash.tarash_gateway.simulator import Capacity, ProviderSimulator, Scenario
from tests.support.polled import IDS, POLLED


@pytest.fixture(scope="module")
def sim() -> Iterator[ProviderSimulator]:
    with ProviderSimulator(max_lifetime=300) as simulator:
        yield simulator


def request_for(provider: str) -> VideoGenerationRequest:
    image = [{"image": "https://example.com/first.png", "type": "first_frame"}] if provider == "runway" else []
    return VideoGenerationRequest(prompt="a cat", image_list=image)


def live(sim: ProviderSimulator, provider: str, model: str) -> VideoGenerationConfig:
    return VideoGenerationConfig(
        provider=provider, model=model, api_key="k", base_url=sim.base_url(provider), poll_interval=0.01, timeout=30
    )


def mocked(provider: str, model: str, response: MockResponse, **mock: object) -> VideoGenerationConfig:
    return VideoGenerationConfig(
        provider=provider, model=model, poll_interval=0.01, mock=MockConfig(responses=[response], **mock)
    )


def raised(face, config: VideoGenerationConfig, events: list | None = None) -> BaseException:
    with pytest.raises(Exception) as caught:
        face.video(config, request_for(config.provider), events.append if events is not None else None)
    return caught.value


def same_classification(real: BaseException, mock: BaseException) -> None:
    assert type(mock) is type(real)
    assert is_retryable(mock) is is_retryable(real)
    assert getattr(mock, "status_code", None) == getattr(real, "status_code", None)
    assert (mock.provider, mock.origin.phase) == (real.provider, real.origin.phase)
    assert (real.origin.source, mock.origin.source) == ("provider", "mock")


# -- faults at a phase -------------------------------------------------------------------

FAULTS = {
    "poll_rate_limit": (
        Scenario(fault="rate_limit", after_polls=1, retry_after=3),
        MockResponse(error=RateLimitError("slow down", retry_after=3), phase="poll", after_polls=1),
    ),
    "dropped_mid_poll": (
        Scenario(fault="connection_dropped", after_polls=1),
        MockResponse(fault="connection_dropped", after_polls=1),
    ),
    "job_lost": (Scenario(fault="job_lost", after_polls=1), MockResponse(fault="job_lost", after_polls=1)),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("provider, model", POLLED, ids=IDS)
def test_a_phase_fault_from_the_simulator_is_classified_as_the_mocks(face, clock, sim, provider, model, fault):
    scenario, response = FAULTS[fault]
    sim.push(scenario)
    real = raised(face, live(sim, provider, model))
    mock = raised(face, mocked(provider, model, response))
    same_classification(real, mock)
    assert real.origin.phase == "poll"
    if fault == "poll_rate_limit":
        assert real.retry_after == mock.retry_after == 3
    if fault == "dropped_mid_poll":
        assert isinstance(real, HTTPConnectionError) and is_retryable(real)
    if fault == "job_lost":
        assert isinstance(real, HTTPError) and real.status_code == 404 and not is_retryable(real)


@pytest.mark.parametrize("provider, model", POLLED, ids=IDS)
def test_a_server_error_on_a_poll_is_a_retryable_http_error_in_both(face, clock, sim, provider, model):
    sim.push(Scenario(fault="server_error", after_polls=2))
    real = raised(face, live(sim, provider, model))
    mock = raised(face, mocked(provider, model, MockResponse(
        error=HTTPError("bad gateway", status_code=real.status_code), phase="poll", after_polls=2)))
    same_classification(real, mock)
    assert real.status_code >= 500 and is_retryable(real)


def test_a_poll_fault_lands_once_and_the_job_goes_on(sim):
    sim.push(Scenario(fault="server_error", after_polls=1))
    headers = {"Authorization": "Key k"}
    with httpx.Client(timeout=10) as http:
        submit = http.post(f"{sim.base_url('fal')}/fal-ai/veo3.1", json={"prompt": "a cat"}, headers=headers).json()
        codes = [http.get(submit["status_url"], headers=headers).status_code for _ in range(6)]
    assert codes[:3] == [202, 503, 202] and codes[-1] == 200


@pytest.mark.parametrize("provider, model", [("fal", "fal-ai/veo3.1"), ("openai", "sora-2"),
                                             ("google", "veo-3.1-generate-preview")], ids=["fal", "openai", "google"])
def test_a_failed_result_fetch_after_completion_is_classified_as_the_mocks(face, clock, sim, provider, model):
    sim.push(Scenario(fault="server_error", phase="result"))
    events: list = []
    real = raised(face, live(sim, provider, model), events)
    assert events[-1].status == "completed" and real.origin.phase == "result"
    mock = raised(face, mocked(provider, model, MockResponse(
        error=HTTPError("gone", status_code=real.status_code), phase="result")))
    same_classification(real, mock)


def test_fal_completed_with_an_error_is_a_failed_generation_in_both(face, clock, sim):
    sim.push("completed_with_error")
    real = raised(face, live(sim, "fal", "fal-ai/veo3.1"))
    mock = raised(face, mocked("fal", "fal-ai/veo3.1", MockResponse(fault="completed_with_error", after_polls=1)))
    same_classification(real, mock)
    assert isinstance(real, GenerationFailedError) and is_retryable(real)


# -- timelines -------------------------------------------------------------------------------


def test_a_stalled_job_stays_queued_with_a_falling_queue_position_in_both(face, clock, sim):
    sim.push(Scenario(queue_polls=1, stall_polls=3))
    real: list = []
    face.video(live(sim, "fal", "fal-ai/veo3.1"), request_for("fal"), real.append)
    mock: list = []
    face.video(mocked("fal", "fal-ai/veo3.1", MockResponse(stall_polls=3)), request_for("fal"), mock.append)
    for events in (real, mock):
        queued = [e.update.get("queue_position") for e in events if e.status == "queued"]
        positions = [q for q in queued if q is not None]
        assert len(queued) == 4 and len(positions) >= 3 and positions == sorted(set(positions), reverse=True)
        assert events[-1].status == "completed"


@pytest.mark.parametrize("provider, model", [("replicate", "google/veo-3"), ("openai", "sora-2"),
                                             ("runway", "gen4_turbo")], ids=["replicate", "openai", "runway"])
def test_progress_going_backwards_reaches_the_caller_in_both(face, clock, sim, provider, model):
    sim.push(Scenario(run_polls=3, progress_backwards=True))
    for config in (live(sim, provider, model), mocked(provider, model, MockResponse(progress_backwards=True))):
        events: list = []
        face.video(config, request_for(provider), events.append)
        progress = [e.progress_percent for e in events if e.status == "processing"]
        drops = [b < a for a, b in zip(progress, progress[1:], strict=False)]
        assert drops.count(True) == 1 and progress[-1] > progress[-2]
        assert events[-1].status == "completed"


# -- media URLs that expire -----------------------------------------------------------------


@pytest.mark.parametrize("provider, model", [p for p in POLLED if p[0] not in ("openai", "google")],
                         ids=[p for p in IDS if p not in ("openai", "google")])
def test_an_expired_output_url_fails_to_download_as_the_mocks(face, clock, sim, provider, model):
    sim.push(Scenario(media_expires_after=0))
    url = face.video(live(sim, provider, model), request_for(provider)).video
    with pytest.raises(HTTPError) as real:
        load_media(url, "video/mp4")
    mock_url = face.video(mocked(provider, model, MockResponse(media_expires_after=0)), request_for(provider)).video
    with pytest.raises(HTTPError) as mock:
        load_media(mock_url, "video/mp4")
    assert real.value.status_code == mock.value.status_code == (403 if provider == "runway" else 404)
    assert is_retryable(real.value) is is_retryable(mock.value) is False


@pytest.mark.parametrize("provider, model", [("openai", "sora-2"), ("google", "veo-3.1-generate-preview")],
                         ids=["openai", "google"])
def test_an_adapter_that_downloads_the_output_meets_the_expiry_at_the_result(face, clock, sim, provider, model):
    sim.push(Scenario(media_expires_after=0))
    real = raised(face, live(sim, provider, model))
    mock = raised(face, mocked(provider, model, MockResponse(fault="media_expired", output_type="content")))
    assert type(real) is type(mock) is HTTPError and real.status_code == mock.status_code
    assert real.origin.phase == "result" and mock.origin.phase == "media"


@pytest.mark.parametrize("fault, error", [("server_error", HTTPError), ("connection_dropped", HTTPConnectionError)])
def test_a_media_download_that_fails_once_is_classified_as_the_mocks(face, clock, sim, fault, error):
    sim.push(Scenario(fault=fault, phase="media"))
    url = face.video(live(sim, "fal", "fal-ai/veo3.1"), request_for("fal")).video
    with pytest.raises(error) as real:
        load_media(url, "video/mp4")
    assert load_media(url, "video/mp4")[0][4:8] == b"ftyp"  # once: the next download works
    given = MockResponse(error=HTTPError("unavailable", status_code=real.value.status_code), phase="media",
                         output_type="content") if fault == "server_error" else MockResponse(
        fault="connection_dropped", phase="media", output_type="content")
    mock = raised(face, mocked("fal", "fal-ai/veo3.1", given))
    assert type(mock) is type(real.value) and is_retryable(mock) is is_retryable(real.value)
    assert getattr(mock, "status_code", None) == getattr(real.value, "status_code", None)
    assert mock.origin.phase == "media"


def test_a_media_url_works_until_it_expires(sim):
    sim.push(Scenario(media_expires_after=0.3))
    headers = {"Authorization": "Key k"}
    with httpx.Client(timeout=10) as http:
        submit = http.post(f"{sim.base_url('fal')}/fal-ai/veo3.1", json={"prompt": "a cat"}, headers=headers).json()
        while http.get(submit["status_url"], headers=headers).json()["status"] != "COMPLETED":
            pass
        url = http.get(submit["response_url"], headers=headers).json()["video"]["url"]
        assert http.get(url).status_code == 200
        time.sleep(0.35)  # the simulator serves other processes: its expiry is on real time
        assert http.get(url).status_code == 404


def test_a_mock_output_url_opens_until_its_time_on_the_clock(face, clock):
    response = face.video(mocked("fal", "fal-ai/veo3.1", MockResponse(media_expires_after=30)), request_for("fal"))
    data, _ = load_media(response.video, "video/mp4")
    assert data[4:8] == b"ftyp" and response.origin.injected == "media_expires_after:30s"
    clock.sleep(30)
    with pytest.raises(HTTPError, match="expired") as caught:
        load_media(response.video, "video/mp4")
    assert caught.value.status_code == 404


# -- capacity ---------------------------------------------------------------------------------


@pytest.fixture
def capped() -> Iterator[ProviderSimulator]:
    """A simulator of its own: jobs other tests left in flight would take its slots."""
    with ProviderSimulator(max_lifetime=60) as simulator:
        yield simulator


def occupy(sim: ProviderSimulator, n: int) -> list[str]:
    """Submit `n` fal jobs straight over HTTP (never polled: they stay in flight)."""
    with httpx.Client(timeout=10) as http:
        return [http.post(f"{sim.base_url('fal')}/fal-ai/veo3.1", json={"prompt": "x"},
                          headers={"Authorization": "Key k"}).json()["status_url"] for _ in range(n)]


@pytest.mark.parametrize("provider, model", POLLED, ids=IDS)
def test_past_the_rate_limit_the_simulator_answers_429_as_the_mock_does(face, clock, capped, provider, model):
    capped.set_capacity(provider, Capacity(rate_limit_per_minute=2))
    config = live(capped, provider, model)
    for _ in range(2):
        face.video(config, request_for(provider))
    real = raised(face, config)
    mock_config = mocked(provider, model, MockResponse(), rate_limit_per_minute=2)
    for _ in range(2):
        face.video(mock_config, request_for(provider))
    mock = raised(face, mock_config)
    same_classification(real, mock)
    assert isinstance(real, RateLimitError) and real.origin.phase == "submit"
    assert real.retry_after == mock.retry_after == 60


RAW_SUBMIT = {
    "openai": ("/videos", {"files": {"prompt": (None, "x"), "model": (None, "sora-2")}}, {"Authorization": "Bearer k"}),
    "google": ("/models/veo-3.1-generate-preview:predictLongRunning", {"json": {"instances": [{"prompt": "x"}]}},
               {"x-goog-api-key": "k"}),
    "xai": ("/v1/videos/generations", {"json": {"prompt": "x", "model": "grok-imagine-video"}},
            {"Authorization": "Bearer k"}),
}


@pytest.mark.parametrize("provider, model", [p for p in POLLED if p[0] in RAW_SUBMIT], ids=sorted(RAW_SUBMIT, key=IDS.index))
def test_past_its_concurrency_a_provider_without_a_queue_refuses_with_retry_after(face, clock, capped, provider, model):
    capped.set_capacity(provider, Capacity(max_concurrency=1, retry_after=5))
    path, body, headers = RAW_SUBMIT[provider]
    with httpx.Client(timeout=10) as http:  # one job in flight, never polled
        assert http.post(capped.base_url(provider) + path, headers=headers, **body).status_code == 200
    real = raised(face, live(capped, provider, model))
    mock = raised(face, mocked(provider, model, MockResponse(
        error=RateLimitError("busy", status_code=429, retry_after=5), phase="submit")))
    same_classification(real, mock)
    assert real.retry_after == 5 and real.origin.phase == "submit"


def test_past_its_concurrency_fal_queues_the_job_until_a_slot_frees(face, clock, capped):
    capped.set_capacity("fal", Capacity(max_concurrency=1))
    (busy,) = occupy(capped, 1)
    events: list = []

    def held_until_the_busy_job_moves_on(update) -> None:
        events.append(update)
        if len(events) == 1:  # the submit's answer: held in the queue while the slot is taken
            assert capped.job(update.request_id).held and update.update["queue_position"] >= 1
            with httpx.Client(timeout=10) as http:  # now the job in the slot runs to its end
                while http.get(busy, headers={"Authorization": "Key k"}).json()["status"] != "COMPLETED":
                    pass

    response = face.video(live(capped, "fal", "fal-ai/veo3.1"), request_for("fal"), held_until_the_busy_job_moves_on)
    assert response.video.startswith(capped.url) and not capped.job(response.request_id).held
    assert events[0].status == "queued" and events[-1].status == "completed"


def test_twenty_concurrent_jobs_meet_the_providers_concurrency(capped):
    capped.set_capacity("openai", Capacity(max_concurrency=4))
    with httpx.Client(timeout=10) as http:
        codes = [http.post(capped.base_url("openai") + "/videos", headers={"Authorization": "Bearer k"},
                           files={"prompt": (None, "x")}).status_code for _ in range(20)]
    assert codes.count(200) == 4 and codes.count(429) == 16


def test_capacity_for_a_provider_the_simulator_does_not_speak_is_refused_with_the_known_ones():
    with pytest.raises(KeyError, match="'fall'.*fal, google"):
        ProviderSimulator(capacity={"fall": Capacity(max_concurrency=1)})
    with pytest.raises(ValueError, match="max_concurrency is at least 1"):
        Capacity(max_concurrency=0)


@pytest.mark.parametrize("fields, message", [
    ({"fault": "job_lost", "phase": "result"}, "phase='poll'"),
    ({"after_polls": 2}, "after_polls"),
    ({"media_expires_after": -1}, "seconds"),
])
def test_scenarios_that_cannot_happen_are_refused_with_the_reason(fields, message):
    with pytest.raises(ValueError, match=message):
        Scenario(**fields)
