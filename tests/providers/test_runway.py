"""Runway against the loopback simulator: routing, mapping, task states, errors, cancel."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tarash.tarash_gateway import (
    ContentModerationError,
    GenerationFailedError,
    HTTPConnectionError,
    HTTPError,
    RateLimitError,
    TimeoutError,
    ValidationError,
    VideoGenerationConfig,
    VideoGenerationRequest,
    generate_video,
)
from tarash.tarash_gateway.exceptions import is_retryable
from tarash.tarash_gateway.providers.mapping import mapping_table
from tarash.tarash_gateway.providers.runway import SPECS, endpoints_for
from tarash.tarash_gateway.simulator import Scenario

PNG = {"content": b"\x89PNG\r\n\x1a\nfake", "content_type": "image/png"}


def config(simulator: Any, model: str = "veo3.1", **changes: Any) -> VideoGenerationConfig:
    fields = {"poll_interval": 0.01, "timeout": 60, **changes}
    return VideoGenerationConfig(
        provider="runway", model=model, api_key="test-key", base_url=simulator.base_url("runway"), **fields
    )


def runway_requests(simulator: Any, since: int) -> list[tuple[str, str, str]]:
    return [r for r in simulator.requests[since:] if r[0] == "runway"]


def _video(simulator: Any, request: VideoGenerationRequest, on_progress: Any = None, **changes: Any) -> Any:
    return generate_video(config(simulator, **changes), request, on_progress)


def sent(simulator: Any, request_id: str) -> dict[str, Any]:
    job = simulator.job(request_id)
    assert job is not None
    return job.payload


def test_text_to_video_completes_on_both_faces(face, simulator, clock) -> None:
    simulator.push(Scenario())
    request = VideoGenerationRequest(prompt="a lighthouse at dusk", duration_seconds=8, aspect_ratio="9:16")

    response = face.video(config(simulator), request)

    assert response.video.startswith(f"{simulator.url}/media/videos/9x16_720p")
    assert response.content_type == "video/mp4"
    assert (response.duration, response.resolution, response.aspect_ratio) == (8.0, "720p", "9:16")
    assert response.raw_response["status"] == "SUCCEEDED"
    assert response.raw_response["id"] == response.request_id
    assert sent(simulator, response.request_id) == {
        "endpoint": "text_to_video",
        "model": "veo3.1",
        "promptText": "a lighthouse at dusk",
        "duration": 8,
        "ratio": "720:1280",
    }


def test_progress_events_follow_the_task_states_in_order(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=3, run_polls=3))
    events: list[Any] = []

    result = _video(simulator, VideoGenerationRequest(prompt="waves"), events.append)

    seen = [(e.status, e.progress_percent, e.update.get("status")) for e in events]
    assert seen == [
        ("queued", None, None),
        ("queued", None, "THROTTLED"),
        ("queued", None, "PENDING"),
        ("processing", 25, "RUNNING"),
        ("processing", 50, "RUNNING"),
        ("processing", 75, "RUNNING"),
        ("completed", 100, "SUCCEEDED"),
    ]
    assert {e.request_id for e in events} == {result.request_id}


def test_submit_rate_limit_carries_retry_after_and_falls_back(face, simulator, clock) -> None:
    simulator.push("rate_limit")
    with pytest.raises(RateLimitError) as caught:
        face.video(config(simulator), VideoGenerationRequest(prompt="a cat"))
    error = caught.value
    assert (error.status_code, error.retry_after) == (429, 2.0)
    assert error.raw_response["phase"] == "submit"
    assert is_retryable(error)


def test_rate_limit_without_retry_after_still_falls_back(simulator, clock) -> None:
    simulator.push("rate_limit_no_retry_after")
    with pytest.raises(RateLimitError) as caught:
        _video(simulator, VideoGenerationRequest(prompt="a cat"))
    assert caught.value.retry_after is None
    assert is_retryable(caught.value)


def test_auth_failure_is_an_http_error_that_does_not_fall_back(simulator, clock) -> None:
    simulator.push("auth")
    with pytest.raises(HTTPError) as caught:
        _video(simulator, VideoGenerationRequest(prompt="a cat"))
    assert type(caught.value) is HTTPError
    assert caught.value.status_code == 401
    assert not is_retryable(caught.value)


def test_server_error_falls_back(simulator, clock) -> None:
    simulator.push("server_error")
    with pytest.raises(HTTPError) as caught:
        _video(simulator, VideoGenerationRequest(prompt="a cat"))
    assert caught.value.status_code == 500
    assert is_retryable(caught.value)


def test_zod_validation_answer_names_the_field(simulator, clock) -> None:
    simulator.push("validation")
    with pytest.raises(ValidationError) as caught:
        _video(simulator, VideoGenerationRequest(prompt="a cat"))
    assert "ratio" in str(caught.value)
    assert caught.value.raw_response["body"]["issues"][0]["path"] == ["ratio"]
    assert not is_retryable(caught.value)


@pytest.mark.parametrize(
    ("scenario", "code"),
    [("moderation", "SAFETY.INPUT.TEXT"), ("moderated_output", "SAFETY.OUTPUT.VIDEO")],
)
def test_safety_failures_are_content_moderation(simulator, clock, scenario: str, code: str) -> None:
    simulator.push(scenario)
    events: list[Any] = []
    with pytest.raises(ContentModerationError) as caught:
        _video(simulator, VideoGenerationRequest(prompt="a cat"), events.append)
    assert code in str(caught.value)
    assert caught.value.raw_response["body"]["failureCode"] == code
    assert caught.value.request_id == events[-1].request_id
    assert events[-1].status == "failed" and events[-1].error
    assert not is_retryable(caught.value)


def test_a_failed_task_is_a_retryable_generation_failure(simulator, clock) -> None:
    simulator.push("failed")
    with pytest.raises(GenerationFailedError) as caught:
        _video(simulator, VideoGenerationRequest(prompt="a cat"))
    assert "INTERNAL.BAD_OUTPUT" in str(caught.value)
    assert caught.value.raw_response["phase"] == "job"
    assert is_retryable(caught.value)


@pytest.mark.parametrize("limit", [{"timeout": 1.0, "poll_interval": 0.3}, {"max_poll_attempts": 3}])
def test_timeout_cancels_the_task(face, simulator, clock, limit: dict[str, Any]) -> None:
    simulator.push("stuck")
    with pytest.raises(TimeoutError) as caught:
        face.video(config(simulator, **limit), VideoGenerationRequest(prompt="a cat"))
    task_id = caught.value.request_id
    assert task_id
    assert ("runway", "DELETE", f"/v1/tasks/{task_id}") in simulator.requests
    assert simulator.job(task_id).cancelled


@pytest.mark.parametrize(
    ("model", "request_fields", "message"),
    [
        ("gen4_turbo", {}, "needs an image_list entry of type first_frame"),
        ("veo3.1", {"duration_seconds": 5}, "duration_seconds=5; allowed: 4, 6, 8"),
        ("gen4_turbo", {"resolution": "1080p", "image_list": [{"image": "https://x/a.png", "type": "first_frame"}]},
         "aspect_ratio+resolution=(None, '1080p')"),
        ("gen4_aleph", {}, "set request.video"),
        ("veo3.1", {"video": "https://x/clip.mp4"}, "does not take a video input"),
        ("gen4_turbo", {"image_list": [{"image": "https://x/a.png", "type": "first_frame"},
                                       {"image": "https://x/b.png", "type": "last_frame"}]}, "last_frame"),
        ("veo3.1", {"number_of_videos": 2}, "number_of_videos=2"),
    ],
)
def test_requests_a_model_cannot_take_fail_before_any_network_call(
    simulator, clock, model: str, request_fields: dict[str, Any], message: str
) -> None:
    before = len(simulator.requests)
    with pytest.raises(ValidationError) as caught:
        _video(simulator, VideoGenerationRequest(prompt="a cat", **request_fields), model=model)
    assert message in str(caught.value)
    assert runway_requests(simulator, before) == []


def test_veo_wide_ratios_are_not_swapped(simulator, clock) -> None:
    landscape = _video(simulator, VideoGenerationRequest(prompt="p", aspect_ratio="16:9", resolution="1080p"))
    portrait = _video(simulator, VideoGenerationRequest(prompt="p", aspect_ratio="9:16", resolution="1080p"))
    assert sent(simulator, landscape.request_id)["ratio"] == "1920:1080"
    assert sent(simulator, portrait.request_id)["ratio"] == "1080:1920"
    assert (landscape.resolution, landscape.aspect_ratio) == ("1080p", "16:9")


def test_veo_image_to_video_sends_first_and_last_frames_camel_cased(simulator, clock) -> None:
    request = VideoGenerationRequest(
        prompt="a door opens",
        image_list=[{"image": PNG, "type": "first_frame"}, {"image": "https://x/last.png", "type": "last_frame"}],
        generate_audio=True,
        negative_prompt="blur",
        duration_seconds=6,
    )
    response = _video(simulator, request)
    payload = sent(simulator, response.request_id)
    assert payload["endpoint"] == "image_to_video"
    assert payload["promptImage"][0]["uri"].startswith("data:image/png;base64,")
    assert payload["promptImage"][0]["position"] == "first"
    assert payload["promptImage"][1] == {"uri": "https://x/last.png", "position": "last"}
    assert (payload["audio"], payload["negativePrompt"], payload["duration"]) == (True, "blur", 6)


def test_gen4_turbo_maps_seed_moderation_and_a_reference_as_first_frame(simulator, clock) -> None:
    request = VideoGenerationRequest(
        prompt="a runner",
        aspect_ratio="1:1",
        seed=42,
        duration_seconds=10,
        image_list=[{"image": "https://x/runner.png", "type": "reference"}],
        content_moderation={"publicFigureThreshold": "low"},
    )
    response = _video(simulator, request, model="gen4_turbo")
    assert sent(simulator, response.request_id) == {
        "endpoint": "image_to_video",
        "model": "gen4_turbo",
        "promptImage": "https://x/runner.png",
        "promptText": "a runner",
        "duration": 10,
        "ratio": "960:960",
        "seed": 42,
        "contentModeration": {"publicFigureThreshold": "low"},
    }
    assert response.aspect_ratio == "1:1"


def test_gen4_aleph_edits_a_video_with_references(simulator, clock) -> None:
    request = VideoGenerationRequest(
        prompt="make it night",
        video="https://x/clip.mp4",
        image_list=[{"image": "https://x/style.png", "type": "reference"}],
    )
    response = _video(simulator, request, model="gen4_aleph")
    payload = sent(simulator, response.request_id)
    assert payload["endpoint"] == "video_to_video"
    assert payload["videoUri"] == "https://x/clip.mp4"
    assert payload["references"] == [{"type": "image", "uri": "https://x/style.png"}]
    assert payload["ratio"] == "1280:720"


def test_routing_follows_the_specs_then_upstreams_name_rules() -> None:
    assert endpoints_for("veo3.1_fast") == ("text_to_video", "image_to_video")
    assert endpoints_for("gen4_turbo") == ("image_to_video",)
    assert endpoints_for("gen4_aleph") == ("video_to_video",)
    assert endpoints_for("aleph2") == ("video_to_video",)
    assert endpoints_for("gen5_turbo") == ("image_to_video",)
    assert endpoints_for("seedance2") == ("text_to_video", "image_to_video")


def test_unreachable_host_is_a_retryable_connection_error(clock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = VideoGenerationConfig(provider="runway", model="veo3.1", api_key="k", base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(HTTPConnectionError) as caught:
        generate_video(cfg, VideoGenerationRequest(prompt="a cat"))
    assert is_retryable(caught.value)


def test_docs_table_lists_every_model_and_endpoint() -> None:
    table = mapping_table(SPECS)
    for model in ("veo3.1", "veo3.1_fast", "veo3", "gen4.5", "gen4_turbo", "gen3a_turbo", "gen4_aleph"):
        assert f"### `{model}`" in table
    assert "POST /v1/video_to_video" in table
    assert "`16:9+1080p`" in table
