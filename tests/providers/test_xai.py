"""xAI against the loopback simulator: REST images and videos, polling, errors."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tarash.tarash_gateway import (
    ContentModerationError,
    GenerationFailedError,
    HTTPError,
    ImageGenerationConfig,
    ImageGenerationRequest,
    RateLimitError,
    TimeoutError,
    ValidationError,
    VideoGenerationConfig,
    VideoGenerationRequest,
    generate_image,
    generate_video,
)
from tarash.tarash_gateway.call import Call
from tarash.tarash_gateway.exceptions import is_retryable
from tarash.tarash_gateway.providers.base import Job
from tarash.tarash_gateway.providers.mapping import mapping_table
from tarash.tarash_gateway.providers.xai import SPECS, XAIProtocol
from tarash.tarash_gateway.simulator import Scenario


@pytest.fixture(autouse=True)
def _no_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XAI_API_KEY", raising=False)


def video_config(simulator: Any, model: str = "grok-imagine-video", **changes: Any) -> VideoGenerationConfig:
    fields = {"api_key": "xai-test", "poll_interval": 0.01, "timeout": 60, **changes}
    return VideoGenerationConfig(provider="xai", model=model, base_url=simulator.base_url("xai"), **fields)


def image_config(simulator: Any, model: str = "grok-imagine-image", **changes: Any) -> ImageGenerationConfig:
    fields = {"api_key": "xai-test", **changes}
    return ImageGenerationConfig(provider="xai", model=model, base_url=simulator.base_url("xai"), **fields)


def _video(simulator: Any, request: VideoGenerationRequest, on_progress: Any = None, **changes: Any) -> Any:
    return generate_video(video_config(simulator, **changes), request, on_progress)


def _image(simulator: Any, request: ImageGenerationRequest, **changes: Any) -> Any:
    return generate_image(image_config(simulator, **changes), request)


def xai_requests(simulator: Any, since: int) -> list[tuple[str, str, str]]:
    return [r for r in simulator.requests[since:] if r[0] == "xai"]


def test_video_completes_on_both_faces(face, simulator, clock) -> None:
    simulator.push(Scenario())
    request = VideoGenerationRequest(prompt="a drone over a misty forest", duration_seconds=6, resolution="480p",
                                     aspect_ratio="16:9")

    response = face.video(video_config(simulator), request)

    assert response.video.startswith(f"{simulator.url}/media/videos/16x9_480p")
    assert (response.content_type, response.duration, response.resolution, response.aspect_ratio) == (
        "video/mp4", 6.0, "480p", "16:9")
    assert response.raw_response["status"] == "done"
    assert simulator.job(response.request_id).payload == {
        "action": "generations", "model": "grok-imagine-video", "prompt": "a drone over a misty forest",
        "duration": 6, "resolution": "480p", "aspect_ratio": "16:9",
    }


def test_a_base_url_ending_in_v1_is_accepted(simulator, clock) -> None:
    before = len(simulator.requests)
    config = video_config(simulator).model_copy(update={"base_url": simulator.base_url("xai") + "/v1"})
    generate_video(config, VideoGenerationRequest(prompt="a cat"))
    assert xai_requests(simulator, before)[0] == ("xai", "POST", "/v1/videos/generations")


def test_progress_events_in_order(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=2, run_polls=2))
    events: list[Any] = []
    response = _video(simulator, VideoGenerationRequest(prompt="waves"), events.append)
    assert [(e.status, e.progress_percent, e.update.get("status")) for e in events] == [
        ("queued", None, None),
        ("processing", None, "pending"),  # 202 with no body, then 202 {"status": "pending"}
        ("completed", 100, "done"),
    ]
    assert {e.request_id for e in events} == {response.request_id}


def test_image_urls_and_revised_prompt(face, simulator, clock) -> None:
    response = face.image(image_config(simulator), ImageGenerationRequest(prompt="a cat", n=2, aspect_ratio="16:9"))
    assert len(response.images) == 2
    assert all(url.startswith(f"{simulator.url}/media/images/") for url in response.images)
    assert response.revised_prompt == "A detailed rendering of a cat"
    assert response.content_type == "image/png"


def test_b64_images_become_data_uris_and_stay_out_of_raw_response(simulator, clock) -> None:
    response = _image(simulator, ImageGenerationRequest(prompt="a cat", response_format="b64_json", resolution="2k"))
    header, _, data = response.images[0].partition(",")
    assert header == "data:image/png;base64"
    assert base64.b64decode(data).startswith(b"\x89PNG")
    assert response.raw_response["data"][0]["b64_json"].endswith("base64 chars>")
    payload = simulator.job(response.request_id).payload
    assert (payload["response_format"], payload["resolution"], payload["action"]) == ("b64_json", "2k", "generations")


def test_images_given_as_inputs_go_to_the_edits_endpoint(simulator, clock) -> None:
    one = _image(simulator, ImageGenerationRequest(prompt="p", image_list=[{"image": "https://x/a.png", "type": "reference"}]))
    two = _image(simulator, ImageGenerationRequest(prompt="p", image_list=[
        {"image": "https://x/a.png", "type": "reference"}, {"image": "https://x/b.png", "type": "reference"}]))
    assert simulator.job(one.request_id).payload["image"] == {"url": "https://x/a.png"}
    assert simulator.job(two.request_id).payload["images"] == [{"url": "https://x/a.png"}, {"url": "https://x/b.png"}]
    assert simulator.job(two.request_id).payload["action"] == "edits"


def test_video_inputs_map_to_image_reference_images_and_edits(simulator, clock) -> None:
    lone = _video(simulator, VideoGenerationRequest(prompt="p", image_list=[{"image": "https://x/a.png", "type": "reference"}]))
    assert simulator.job(lone.request_id).payload["image"] == {"url": "https://x/a.png"}  # upstream's start frame
    mixed = _video(simulator, VideoGenerationRequest(prompt="p", image_list=[
        {"image": {"content": b"\x89PNG", "content_type": "image/png"}, "type": "first_frame"},
        {"image": "https://x/r.png", "type": "reference"}]))
    payload = simulator.job(mixed.request_id).payload
    assert payload["image"]["url"].startswith("data:image/png;base64,")
    assert payload["reference_images"] == [{"url": "https://x/r.png"}]
    edit = _video(simulator, VideoGenerationRequest(prompt="grade it warm", video="https://x/clip.mp4"))
    assert simulator.job(edit.request_id).payload["video"] == {"url": "https://x/clip.mp4"}
    assert simulator.job(edit.request_id).payload["action"] == "edits"


def test_submit_rate_limit_is_retryable_with_retry_after(face, simulator, clock) -> None:
    simulator.push("rate_limit")
    with pytest.raises(RateLimitError) as caught:
        face.video(video_config(simulator), VideoGenerationRequest(prompt="a cat"))
    assert (caught.value.status_code, caught.value.retry_after) == (429, 2.0)
    assert caught.value.raw_response["phase"] == "submit"
    assert is_retryable(caught.value)


def test_rate_limit_without_retry_after_still_falls_back(simulator, clock) -> None:
    simulator.push("rate_limit_no_retry_after")
    with pytest.raises(RateLimitError) as caught:
        _image(simulator, ImageGenerationRequest(prompt="a cat"))
    assert caught.value.retry_after is None
    assert is_retryable(caught.value)


def test_resource_exhausted_is_a_rate_limit_whatever_the_status() -> None:
    """Upstream mapped gRPC RESOURCE_EXHAUSTED to a non-retryable HTTPError(status_code=0)."""
    call = Call(kind="video", config=VideoGenerationConfig(provider="xai", model="grok-imagine-video"),
                request=VideoGenerationRequest(prompt="p"))
    answer = httpx.Response(503, json={"code": "RESOURCE_EXHAUSTED", "error": "quota"}, headers={"retry-after": "7"})
    error = XAIProtocol().error(call, answer, "submit")
    assert isinstance(error, RateLimitError)
    assert (error.status_code, error.retry_after) == (429, 7.0)
    assert is_retryable(error)


@pytest.mark.parametrize(("scenario", "status", "retryable"), [("auth", 401, False), ("server_error", 500, True)])
def test_http_failures_keep_their_status(simulator, clock, scenario: str, status: int, retryable: bool) -> None:
    simulator.push(scenario)
    with pytest.raises(HTTPError) as caught:
        _video(simulator, VideoGenerationRequest(prompt="a cat"))
    assert type(caught.value) is HTTPError
    assert caught.value.status_code == status
    assert is_retryable(caught.value) is retryable


def test_a_bad_key_answered_with_400_is_an_auth_error_not_validation(simulator, clock) -> None:
    with pytest.raises(HTTPError) as caught:
        generate_image(image_config(simulator, api_key=None), ImageGenerationRequest(prompt="a cat"))
    assert type(caught.value) is HTTPError
    assert caught.value.status_code == 400
    assert "API key" in str(caught.value)


def test_unprocessable_request_is_a_validation_error(simulator, clock) -> None:
    simulator.push("validation")
    with pytest.raises(ValidationError):
        _video(simulator, VideoGenerationRequest(prompt="a cat"))


def test_moderation_at_submit_is_a_moderation_error(simulator, clock) -> None:
    simulator.push("moderation")
    with pytest.raises(ContentModerationError) as caught:
        _image(simulator, ImageGenerationRequest(prompt="a cat"))
    assert caught.value.raw_response["status_code"] == 400
    assert not is_retryable(caught.value)


def test_a_moderated_video_is_a_moderation_error(simulator, clock) -> None:
    simulator.push("moderated_output")
    events: list[Any] = []
    with pytest.raises(ContentModerationError) as caught:
        _video(simulator, VideoGenerationRequest(prompt="a cat"), events.append)
    assert caught.value.raw_response["body"]["video"]["respect_moderation"] is False
    assert events[-1].status == "failed" and caught.value.request_id == events[-1].request_id


def test_moderated_images_are_a_moderation_error(simulator, clock) -> None:
    simulator.push("moderated_output")
    with pytest.raises(ContentModerationError):
        _image(simulator, ImageGenerationRequest(prompt="a cat"))


def test_a_failed_video_is_a_retryable_generation_failure(simulator, clock) -> None:
    simulator.push("failed")
    with pytest.raises(GenerationFailedError) as caught:
        _video(simulator, VideoGenerationRequest(prompt="a cat"))
    assert "internal_error" in str(caught.value)
    assert caught.value.raw_response["phase"] == "job"
    assert is_retryable(caught.value)


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"status": "expired"}, GenerationFailedError),
        ({"status": "failed", "error": {"code": "content_moderation", "message": "blocked"}}, ContentModerationError),
        ({"status": "pending", "block_reason": "PROMPT_BLOCKED"}, ContentModerationError),
    ],
)
def test_terminal_poll_answers(body: dict[str, Any], error_type: type) -> None:
    call = Call(kind="video", config=VideoGenerationConfig(provider="xai", model="grok-imagine-video"),
                request=VideoGenerationRequest(prompt="p"))
    job = XAIProtocol().parse_poll(call, Job(id="r1"), httpx.Response(200, json=body))
    assert job.status == "failed"
    assert type(job.error) is error_type


def test_timeout_stops_polling_and_sends_no_cancel(face, simulator, clock) -> None:
    simulator.push("stuck")
    before = len(simulator.requests)
    with pytest.raises(TimeoutError) as caught:
        face.video(video_config(simulator, timeout=1.0, poll_interval=0.3), VideoGenerationRequest(prompt="a cat"))
    assert caught.value.request_id
    methods = [method for _, method, _ in xai_requests(simulator, before)]
    assert methods[0] == "POST" and set(methods[1:]) == {"GET"}  # xAI has no cancel endpoint


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"duration_seconds": 16}, "duration_seconds=16; allowed: 1, 2"),
        ({"resolution": "1080p"}, "resolution='1080p'; allowed: '480p', '720p'"),
        ({"image_list": [{"image": "https://x/a.png", "type": "last_frame"}]}, "last_frame"),
        ({"video": "https://x/v.mp4", "image_list": [{"image": "https://x/a.png", "type": "first_frame"}]}, "take no images"),
        ({"number_of_videos": 2}, "number_of_videos=2"),
    ],
)
def test_video_requests_the_model_cannot_take_fail_before_any_network_call(
    simulator, clock, fields: dict[str, Any], message: str
) -> None:
    before = len(simulator.requests)
    with pytest.raises(ValidationError) as caught:
        _video(simulator, VideoGenerationRequest(prompt="a cat", **fields))
    assert message in str(caught.value)
    assert xai_requests(simulator, before) == []


@pytest.mark.parametrize(
    ("model", "fields", "message"),
    [
        ("grok-imagine-image", {"n": 11}, "n=11; allowed: 1..10"),
        ("grok-imagine-image", {"resolution": "4k"}, "extra_params:resolution='4k'"),
        ("grok-2-image", {"response_format": "png"}, "response_format='png'"),
    ],
)
def test_image_requests_the_model_cannot_take_fail_before_any_network_call(
    simulator, clock, model: str, fields: dict[str, Any], message: str
) -> None:
    before = len(simulator.requests)
    with pytest.raises(ValidationError) as caught:
        _image(simulator, ImageGenerationRequest(prompt="a cat", **fields), model=model)
    assert message in str(caught.value)
    assert xai_requests(simulator, before) == []


def test_docs_table_lists_every_model() -> None:
    table = mapping_table(SPECS)
    for model in ("grok-imagine-video", "grok-imagine-image", "grok-2-image"):
        assert f"### `{model}`" in table
