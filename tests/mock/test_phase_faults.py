"""Phase-targeted faults: the timeline a job plays before its fault, and the fault's class
side by side with what the real adapter raises when the provider does the same thing."""

from __future__ import annotations

import httpx
import pytest

from tarash.tarash_gateway.call import Call
from tarash.tarash_gateway.exceptions import (
    GenerationFailedError,
    HTTPConnectionError,
    HTTPError,
    RateLimitError,
    is_retryable,
)
from tarash.tarash_gateway.flow import Effect
from tarash.tarash_gateway.media_io import load_media
from tarash.tarash_gateway.mock import MockConfig, MockPollingConfig, MockResponse
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
)
from tarash.tarash_gateway.providers import get_provider
from tarash.tarash_gateway.providers.base import generation_flow
from tarash.tarash_gateway.providers.http import Send
from tests.support.polled import IDS, POLLED


def _request(provider: str, prompt: str = "a cat") -> VideoGenerationRequest:
    image = [{"image": "https://example.com/first.png", "type": "first_frame"}] if provider == "runway" else []
    return VideoGenerationRequest(prompt=prompt, image_list=image)


def real_error(simulator, provider: str, model: str, send_number: int, answer) -> BaseException:
    """Drive the real adapter against the simulator; the ``send_number``-th request gets ``answer``."""
    config = VideoGenerationConfig(
        provider=provider, model=model, api_key="k", base_url=simulator.base_url(provider), poll_interval=0.01, timeout=30
    )
    call = Call("video", config, _request(provider, "a cat #sim:slow"), None, 1, None)
    flow = generation_flow(get_provider(provider).protocol, call)
    sent, value, error = 0, None, None
    while True:
        try:
            effect: Effect = flow.throw(error) if error is not None else flow.send(value)
        except StopIteration:
            raise AssertionError("the job finished without the fault") from None
        except Exception as raised:
            return raised
        value, error = None, None
        try:
            if isinstance(effect, Send):
                sent += 1
                if sent == send_number:
                    value = answer(effect)
                    continue
            value = effect.run()
        except BaseException as raised:  # handed back into the flow, as the drivers do
            error = raised


def mock_error(face, provider: str, model: str, response: MockResponse) -> BaseException:
    config = VideoGenerationConfig(provider=provider, model=model, mock=MockConfig(responses=[response]), poll_interval=0.01)
    with pytest.raises(Exception) as caught:
        face.video(config, _request(provider))
    return caught.value


def same_classification(real: BaseException, mocked: BaseException) -> None:
    assert type(mocked) is type(real)
    assert is_retryable(mocked) is is_retryable(real)
    assert getattr(mocked, "status_code", None) == getattr(real, "status_code", None)
    assert mocked.provider == real.provider


@pytest.mark.parametrize("provider, model", POLLED, ids=IDS)
def test_a_job_the_provider_forgets_fails_as_the_adapter_fails_on_a_404_status(face, clock, simulator, provider, model):
    def not_found(effect):
        return httpx.Response(404, json={"detail": "request not found"}, request=effect.request)

    real = real_error(simulator, provider, model, 3, not_found)  # submit, one good poll, then 404
    mocked = mock_error(face, provider, model, MockResponse(fault="job_lost", after_polls=1))
    same_classification(real, mocked)
    assert isinstance(mocked, HTTPError) and mocked.status_code == 404 and not is_retryable(mocked)
    assert mocked.origin.phase == "poll" and mocked.origin.injected == "fault:job_lost"


@pytest.mark.parametrize("provider, model", POLLED, ids=IDS)
def test_a_connection_dropped_mid_poll_is_a_retryable_connection_error_as_in_the_adapter(
    face, clock, simulator, provider, model
):
    def dropped(effect):
        raise effect._mapped(httpx.RemoteProtocolError("Server disconnected without sending a response."))

    real = real_error(simulator, provider, model, 2, dropped)
    mocked = mock_error(face, provider, model, MockResponse(fault="connection_dropped"))
    same_classification(real, mocked)
    assert isinstance(mocked, HTTPConnectionError) and is_retryable(mocked)


@pytest.mark.parametrize("provider, model", POLLED, ids=IDS)
def test_a_429_on_a_poll_keeps_its_retry_after_as_in_the_adapter(face, clock, simulator, provider, model):
    def throttled(effect):
        return httpx.Response(429, headers={"retry-after": "3"}, json={"detail": "slow down"}, request=effect.request)

    real = real_error(simulator, provider, model, 3, throttled)
    mocked = mock_error(face, provider, model, MockResponse(error=RateLimitError("slow down", retry_after=3), phase="poll", after_polls=1))
    same_classification(real, mocked)
    assert mocked.retry_after == real.retry_after == 3


def test_fal_completed_with_an_error_is_a_failed_generation_as_in_the_adapter(face, clock, simulator):
    def completed_with_error(effect):
        return httpx.Response(200, json={"status": "COMPLETED", "error": "internal error"}, request=effect.request)

    real = real_error(simulator, "fal", "fal-ai/veo3.1", 3, completed_with_error)
    mocked = mock_error(face, "fal", "fal-ai/veo3.1", MockResponse(fault="completed_with_error", after_polls=1))
    same_classification(real, mocked)
    assert isinstance(mocked, GenerationFailedError) and is_retryable(mocked)


def test_an_expired_media_url_fails_as_downloading_an_expired_url_does(face, clock, simulator):
    with pytest.raises(HTTPError) as caught:
        load_media(f"{simulator.url}/media/videos/expired.mp4", "video/mp4")  # a media URL gone
    config = VideoGenerationConfig(
        provider="fal", model="fal-ai/veo3.1",
        mock=MockConfig(responses=[MockResponse(fault="media_expired", output_type="content")]),
    )
    with pytest.raises(HTTPError) as mocked:
        face.video(config, _request("fal"))
    assert type(mocked.value) is type(caught.value) and mocked.value.status_code == caught.value.status_code == 404
    assert mocked.value.origin.phase == "media"


def test_an_expired_media_url_in_url_mode_fails_to_download_as_a_real_expired_url(face, clock, simulator):
    with pytest.raises(HTTPError) as real:
        load_media(f"{simulator.url}/media/videos/expired.mp4", "video/mp4")  # a media URL gone
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig(responses=[MockResponse(fault="media_expired")]))
    response = face.video(config, _request("fal"))
    assert response.video.startswith("file://") and response.origin.injected == "fault:media_expired"
    with pytest.raises(HTTPError, match="expired") as mocked:
        load_media(response.video, "video/mp4")
    assert mocked.value.status_code == real.value.status_code == 404


# -- timelines ------------------------------------------------------------------------------


def statuses(events):
    return [(e.status, e.progress_percent) for e in events]


def test_the_stock_mock_reports_a_real_progress_timeline_without_waiting(face, clock):
    events = []
    face.video(VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig()), _request("fal"), events.append)
    assert statuses(events) == [("queued", 0), ("processing", 30), ("processing", 70), ("completed", 100)]
    assert events[-1].result is not None and clock.slept == 0


def test_a_fault_after_two_good_polls_lands_on_the_third_poll(face, clock):
    events = []
    config = VideoGenerationConfig(
        provider="fal", model="fal-ai/veo3.1", poll_interval=2,
        mock=MockConfig(responses=[MockResponse(error=HTTPError("bad gateway", status_code=502), phase="poll", after_polls=2)]),
    )
    with pytest.raises(HTTPError) as caught:
        face.video(config, _request("fal"), events.append)
    assert statuses(events) == [("queued", 0), ("processing", 30), ("processing", 70)]
    assert clock.slept == 3 * 2  # two good polls and the failing one, poll_interval apart
    assert caught.value.origin.phase == "poll"


def test_a_job_failing_after_many_polls_keeps_processing_until_then(face, clock):
    events = []
    config = VideoGenerationConfig(
        provider="fal", model="fal-ai/veo3.1", poll_interval=1,
        mock=MockConfig(responses=[MockResponse(error=GenerationFailedError("runner crashed"), phase="poll", after_polls=5)]),
    )
    with pytest.raises(GenerationFailedError):
        face.video(config, _request("fal"), events.append)
    assert [e.status for e in events] == ["queued", *["processing"] * 5, "failed"]
    assert events[-1].error == "runner crashed" and clock.slept == 6


def test_a_result_fault_comes_after_the_job_completed(face, clock):
    events = []
    config = VideoGenerationConfig(
        provider="fal", model="fal-ai/veo3.1",
        mock=MockConfig(responses=[MockResponse(error=HTTPError("gone", status_code=500), phase="result")]),
    )
    with pytest.raises(HTTPError) as caught:
        face.video(config, _request("fal"), events.append)
    assert events[-1].status == "completed" and events[-1].result is None
    assert caught.value.origin.phase == "result"


def test_a_submit_fault_raises_before_any_event(face, clock):
    events = []
    config = VideoGenerationConfig(
        provider="fal", model="fal-ai/veo3.1",
        mock=MockConfig(responses=[MockResponse(error=RateLimitError("slow down", retry_after=1), phase="submit")]),
    )
    with pytest.raises(RateLimitError) as caught:
        face.video(config, _request("fal"), events.append)
    assert events == [] and caught.value.origin.phase == "submit"


def test_a_stalled_job_stays_queued_for_its_polls_then_completes(face, clock):
    events = []
    config = VideoGenerationConfig(
        provider="replicate", model="google/veo-3", poll_interval=5, mock=MockConfig(responses=[MockResponse(stall_polls=3)])
    )
    response = face.video(config, _request("replicate"), events.append)
    assert [e.status for e in events] == ["queued"] * 4 + ["processing", "processing", "completed"]
    assert [e.update.get("queue_position") for e in events[1:4]] == [3, 2, 1]
    assert clock.slept == 6 * 5 and response.origin.injected == "stall:3"


def test_progress_can_go_backwards(face, clock):
    events = []
    config = VideoGenerationConfig(
        provider="fal", model="fal-ai/veo3.1", mock=MockConfig(responses=[MockResponse(progress_backwards=True)])
    )
    face.video(config, _request("fal"), events.append)
    progress = [e.progress_percent for e in events if e.status == "processing"]
    assert progress == [30, 70, 40, 90]
    assert events[-1].status == "completed"


def test_a_configured_timeline_still_ends_failed_when_an_error_has_no_phase(face, clock):
    events = []
    config = VideoGenerationConfig(
        provider="fal", model="fal-ai/veo3.1",
        mock=MockConfig(polling=MockPollingConfig(delay_between_updates=0.1), responses=[MockResponse(error=GenerationFailedError("x"))]),
    )
    with pytest.raises(GenerationFailedError) as caught:
        face.video(config, _request("fal"), events.append)
    assert [e.status for e in events] == ["queued", "processing", "failed"]
    assert caught.value.origin.phase == "poll"


def test_image_jobs_take_phase_faults_too(face, clock):
    config = ImageGenerationConfig(
        provider="fal", model="fal-ai/flux/dev", mock=MockConfig(responses=[MockResponse(fault="job_lost")])
    )
    with pytest.raises(HTTPError) as caught:
        face.image(config, ImageGenerationRequest(prompt="p"))
    assert caught.value.status_code == 404


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"phase": "poll"}, "neither"),
        ({"error": {"type": "HTTPError", "message": "x"}, "after_polls": 2}, "after_polls"),
        ({"error": {"type": "HTTPError", "message": "x"}, "phase": "media"}, "output_type='content'"),
        ({"fault": "job_lost", "error": {"type": "HTTPError", "message": "x"}}, "one outcome"),
    ],
)
def test_phase_options_that_cannot_work_are_refused_with_the_reason(fields, message):
    with pytest.raises(ValueError, match=message):
        MockResponse.model_validate(fields)
