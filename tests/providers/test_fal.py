"""fal over its queue API, against the loopback simulator (waits are instant)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tarash.tarash_gateway.call import Call
from tarash.tarash_gateway.exceptions import (
    ContentModerationError,
    GenerationFailedError,
    HTTPError,
    RateLimitError,
    TimeoutError,
    ValidationError,
    is_retryable,
)
from tarash.tarash_gateway.flow import run_sync
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
)
from tarash.tarash_gateway.providers.base import Job
from tarash.tarash_gateway.providers.fal import SPECS, FalProtocol
from tarash.tarash_gateway.simulator import Scenario

KEY = "fal-test-key"
IMAGE = "https://example.com/cat.png"
LAST = "https://example.com/last.png"


@pytest.fixture
def video_config(simulator: Any):
    def make(model: str = "fal-ai/veo3.1", **changes: Any) -> VideoGenerationConfig:
        values = {"api_key": KEY, "base_url": simulator.base_url("fal"), "poll_interval": 0.01, **changes}
        return VideoGenerationConfig(provider="fal", model=model, **values)

    return make


@pytest.fixture
def image_config(simulator: Any):
    def make(model: str = "fal-ai/flux/dev", **changes: Any) -> ImageGenerationConfig:
        values = {"api_key": KEY, "base_url": simulator.base_url("fal"), "poll_interval": 0.01, **changes}
        return ImageGenerationConfig(provider="fal", model=model, **values)

    return make


def sent_payload(simulator: Any, request_id: str) -> dict[str, Any]:
    """What reached the simulator's submit route for the job."""
    return simulator.job(request_id).payload


# -- success ----------------------------------------------------------------------------------


def test_video_success_returns_the_simulators_media(face, clock, simulator, video_config):
    request = VideoGenerationRequest(prompt="a cat surfing", duration_seconds=8, aspect_ratio="9:16", resolution="720p")

    response = face.video(video_config("fal-ai/veo3.1/fast"), request)

    assert response.video.startswith(f"{simulator.url}/media/videos/9x16_720p_8s")
    assert httpx.get(response.video).headers["content-type"] == "video/mp4"
    assert response.content_type == "video/mp4"
    assert (response.duration, response.resolution, response.aspect_ratio) == (8, "720p", "9:16")
    assert simulator.job(response.request_id).provider == "fal"
    assert response.raw_response["video"]["url"] == response.video
    assert response.origin.provider == "fal"
    path = [p for (prov, m, p) in simulator.requests if prov == "fal" and m == "POST"][-1]
    assert path == "/fal-ai/veo3.1/fast"  # the full model id on submit
    assert clock.slept > 0  # it did poll, instantly


def test_image_success_maps_the_aspect_ratio_to_an_image_size(face, clock, simulator, image_config):
    request = ImageGenerationRequest(prompt="a red fox", aspect_ratio="16:9", n=2, seed=7)

    response = face.image(image_config(), request)

    assert response.images == [f"{simulator.url}/media/images/1344x756.png"] * 2
    assert response.content_type == "image/png"
    assert sent_payload(simulator, response.request_id) == {
        "prompt": "a red fox", "seed": 7, "image_size": "landscape_16_9", "num_images": 2,
    }


def test_polls_use_the_absolute_urls_of_the_submit_answer(clock, simulator, video_config):
    from tarash.tarash_gateway import generate_video

    response = generate_video(video_config("fal-ai/veo3.1/fast"), VideoGenerationRequest(prompt="a dog"))

    paths = [p for (prov, _, p) in simulator.requests if prov == "fal" and response.request_id in p]
    # status and result live under owner/app only, not under the full model path
    assert paths[0] == f"/fal-ai/veo3.1/requests/{response.request_id}/status"
    assert paths[-1] == f"/fal-ai/veo3.1/requests/{response.request_id}"


# -- progress ---------------------------------------------------------------------------------


def test_progress_reports_queue_positions_then_logs_then_completion(face, clock, simulator, video_config):
    events: list[Any] = []
    simulator.push(Scenario(queue_polls=3, run_polls=2))

    response = face.video(video_config(), VideoGenerationRequest(prompt="a slow one"), events.append)

    assert [e.status for e in events] == ["queued", "queued", "queued", "processing", "processing", "completed"]
    assert [e.update.get("queue_position") for e in events[:3]] == [2, 1, 0]
    assert events[3].update["logs"] == ["step 1"] and events[4].update["logs"] == ["step 1", "step 2"]
    assert [e.progress_percent for e in events] == [None] * 5 + [100]  # fal gives no percentage
    assert {e.request_id for e in events} == {response.request_id}
    assert all(e.attempt == 1 for e in events)


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "error_type", "status_code", "retryable", "phase"),
    [
        ("validation", ValidationError, None, False, "submit"),
        ("moderation", ContentModerationError, None, False, "submit"),
        ("auth", HTTPError, 401, False, "submit"),
        ("rate_limit", RateLimitError, 429, True, "submit"),
        ("server_error", HTTPError, 503, True, "submit"),
        ("failed", GenerationFailedError, None, True, "poll"),
        ("moderated_output", ContentModerationError, None, False, "poll"),
    ],
)
def test_each_failure_maps_to_its_error_class(face, clock, video_config, tag, error_type, status_code, retryable, phase):
    with pytest.raises(error_type) as caught:
        face.video(video_config(), VideoGenerationRequest(prompt=f"a cat #sim:{tag}"))

    error = caught.value
    assert type(error) is error_type
    assert getattr(error, "status_code", None) == status_code
    assert is_retryable(error) is retryable
    assert error.raw_response["phase"] == phase
    assert error.provider == "fal"


def test_rate_limit_carries_retry_after_when_sent_and_none_otherwise(face, clock, video_config):
    with pytest.raises(RateLimitError) as with_header:
        face.video(video_config(), VideoGenerationRequest(prompt="x #sim:rate_limit"))
    with pytest.raises(RateLimitError) as without_header:
        face.video(video_config(), VideoGenerationRequest(prompt="x #sim:rate_limit_no_retry_after"))

    assert with_header.value.retry_after == 2.0
    assert without_header.value.retry_after is None


def test_a_failed_job_names_the_runner_failure(clock, video_config, face):
    with pytest.raises(GenerationFailedError) as caught:
        face.video(video_config(), VideoGenerationRequest(prompt="x #sim:failed"))

    assert "runner_disconnected" in str(caught.value)
    assert caught.value.request_id


def test_connection_refused_is_an_http_connection_error(face, clock):
    from tarash.tarash_gateway.exceptions import HTTPConnectionError

    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3", api_key=KEY, base_url="http://127.0.0.1:9")
    with pytest.raises(HTTPConnectionError):
        face.video(config, VideoGenerationRequest(prompt="x"))


# -- timeout and cancel -----------------------------------------------------------------------


def test_poll_budget_exhausted_cancels_the_job_then_times_out(face, clock, simulator, video_config):
    with pytest.raises(TimeoutError) as caught:
        face.video(video_config(max_poll_attempts=3), VideoGenerationRequest(prompt="x #sim:stuck"))

    request_id = caught.value.request_id
    assert ("fal", "PUT", f"/fal-ai/veo3.1/requests/{request_id}/cancel") in simulator.requests
    assert simulator.job(request_id).cancelled
    assert is_retryable(caught.value)


def test_overall_deadline_cancels_the_job_then_times_out(face, clock, simulator, video_config):
    config = video_config(timeout=0.05, poll_interval=0.02, max_poll_attempts=1000)

    with pytest.raises(TimeoutError) as caught:
        face.video(config, VideoGenerationRequest(prompt="x #sim:stuck"))

    request_id = caught.value.request_id
    assert ("fal", "PUT", f"/fal-ai/veo3.1/requests/{request_id}/cancel") in simulator.requests
    assert clock.slept == pytest.approx(0.05)


# -- validation before any request -----------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "request_", "words"),
    [
        ("fal-ai/veo3.1", VideoGenerationRequest(prompt="x", duration_seconds=5), ["duration_seconds=5", "4, 6, 7, 8"]),
        ("fal-ai/kling-video/v2.6/pro/image-to-video", VideoGenerationRequest(prompt="x", duration_seconds=8),
         ["duration_seconds=8", "5, 10"]),
        ("fal-ai/sora-2/text-to-video", VideoGenerationRequest(prompt="x", duration_seconds=10), ["4, 8, 12"]),
        ("fal-ai/wan/v2.2-14b/animate/move", VideoGenerationRequest(prompt="x"), ["video"]),
        ("veo3", VideoGenerationRequest(prompt="x"), ["owner/app"]),
    ],
)
def test_a_request_the_model_cannot_take_is_refused_before_any_request(
    face, clock, simulator, video_config, model, request_, words
):
    before = len(simulator.requests)

    with pytest.raises(ValidationError) as caught:
        face.video(video_config(model), request_)

    assert all(word in str(caught.value) for word in words), str(caught.value)
    assert len(simulator.requests) == before


def test_an_image_size_fal_cannot_take_is_refused_before_any_request(face, clock, simulator, image_config):
    before = len(simulator.requests)
    with pytest.raises(ValidationError, match="aspect_ratio='21:9'; allowed: '1:1', '4:3'"):
        face.image(image_config(), ImageGenerationRequest(prompt="x", aspect_ratio="21:9"))
    assert len(simulator.requests) == before


def test_a_missing_api_key_is_refused_before_any_request(face, clock, simulator, video_config, monkeypatch):
    monkeypatch.delenv("FAL_KEY", raising=False)
    before = len(simulator.requests)

    with pytest.raises(ValidationError, match="FAL_KEY"):
        face.video(video_config(api_key=None), VideoGenerationRequest(prompt="x"))

    assert len(simulator.requests) == before


def test_the_fal_key_variable_is_used_when_the_config_has_no_key(clock, simulator, video_config, monkeypatch):
    from tarash.tarash_gateway import generate_video

    monkeypatch.setenv("FAL_KEY", "from-env")
    response = generate_video(video_config(api_key=None), VideoGenerationRequest(prompt="x"))
    assert response.request_id


# -- field mapping per model family ----------------------------------------------------------


P = "p #sim:instant"  # finishes at the first poll: these tests are about the submitted payload


def frames(*roles: str) -> list[dict[str, str]]:
    return [{"image": IMAGE if role != "last_frame" else LAST, "type": role} for role in roles]


@pytest.mark.parametrize(
    ("model", "request_", "expected"),
    [
        (
            "fal-ai/minimax/hailuo-02/standard/image-to-video",
            VideoGenerationRequest(prompt=P, duration_seconds=6, image_list=frames("first_frame"), enhance_prompt=False),
            {"prompt": P, "duration": "6", "image_url": IMAGE, "prompt_optimizer": False},
        ),
        (
            "fal-ai/kling-video/v2.6/pro/image-to-video",
            VideoGenerationRequest(prompt=P, duration_seconds=10, image_list=frames("first_frame", "last_frame"),
                                   generate_audio=True),
            {"prompt": P, "duration": "10", "start_image_url": IMAGE, "end_image_url": LAST, "generate_audio": True},
        ),
        (
            "fal-ai/kling-video/o1/image-to-video",
            VideoGenerationRequest(prompt=P, duration_seconds=5, image_list=frames("first_frame")),
            {"prompt": P, "duration": "5", "start_image_url": IMAGE},
        ),
        (
            "fal-ai/kling-video/v3/pro/text-to-video",
            VideoGenerationRequest(prompt=P, duration_seconds=12, extra_params={"multi_prompt": [{"prompt": "a"}]}),
            {"duration": "12", "multi_prompt": [{"prompt": "a"}]},  # prompt dropped: the API takes one of them
        ),
        (
            "fal-ai/kling-video/o3/pro/image-to-video",
            VideoGenerationRequest(prompt=P, duration_seconds=3, image_list=frames("reference")),
            {"prompt": P, "duration": "3", "image_url": IMAGE, "image_urls": [IMAGE]},
        ),
        (
            "fal-ai/veo3/image-to-video",
            VideoGenerationRequest(prompt=P, duration_seconds=6, image_list=frames("reference"), seed=4,
                                   negative_prompt="blur"),
            {"prompt": P, "duration": "6s", "image_url": IMAGE, "seed": 4, "negative_prompt": "blur"},
        ),
        (
            "fal-ai/veo3.1/first-last-frame-to-video",
            VideoGenerationRequest(prompt=P, image_list=frames("first_frame", "last_frame")),
            {"prompt": P, "first_frame_url": IMAGE, "last_frame_url": LAST},
        ),
        (
            "fal-ai/sora-2/image-to-video",
            VideoGenerationRequest(prompt=P, duration_seconds=8, image_list=frames("first_frame")),
            {"prompt": P, "duration": 8, "image_url": IMAGE},
        ),
        (
            "wan/v2.6/text-to-video",
            VideoGenerationRequest(prompt=P, duration_seconds=15, enhance_prompt=True),
            {"prompt": P, "duration": "15", "enable_prompt_expansion": True},
        ),
        (
            "fal-ai/bytedance/seedance/v1/lite/reference-to-video",
            VideoGenerationRequest(prompt=P, duration_seconds=4, image_list=frames("reference", "reference")),
            {"prompt": P, "duration": "4", "image_url": IMAGE, "reference_image_urls": [IMAGE, IMAGE]},
        ),
        (
            "fal-ai/pixverse/v5.5/text-to-video",
            VideoGenerationRequest(prompt=P, duration_seconds=8, generate_audio=True),
            {"prompt": P, "duration": "8", "generate_audio_switch": True},
        ),
        (
            "fal-ai/some-new-model/text-to-video",  # the generic spec
            VideoGenerationRequest(prompt=P, duration_seconds=7, extra_params={"fps": 24}),
            {"prompt": P, "duration": 7, "fps": 24},
        ),
    ],
)
def test_video_fields_are_mapped_per_model_family(clock, simulator, video_config, model, request_, expected):
    from tarash.tarash_gateway import generate_video

    response = generate_video(video_config(model), request_)

    assert sent_payload(simulator, response.request_id) == expected


@pytest.mark.parametrize(
    ("model", "request_", "expected"),
    [
        ("fal-ai/flux/dev", ImageGenerationRequest(prompt=P, size="1024x768"),
         {"prompt": P, "image_size": {"width": 1024, "height": 768}}),
        ("fal-ai/flux-2/edit", ImageGenerationRequest(prompt=P, image_list=frames("reference", "reference")),
         {"prompt": P, "image_urls": [IMAGE, IMAGE]}),
        ("fal-ai/recraft/v3/text-to-image", ImageGenerationRequest(prompt=P, style="digital_illustration"),
         {"prompt": P, "style": "digital_illustration"}),
        ("fal-ai/ideogram/v3", ImageGenerationRequest(prompt=P, negative_prompt="n", n=1),
         {"prompt": P, "negative_prompt": "n", "num_images": 1}),
        ("fal-ai/z-image-turbo", ImageGenerationRequest(prompt=P, aspect_ratio="9:16"),
         {"prompt": P, "image_size": "portrait_16_9"}),
    ],
)
def test_image_fields_are_mapped_per_model_family(clock, simulator, image_config, model, request_, expected):
    from tarash.tarash_gateway import generate_image

    response = generate_image(image_config(model), request_)

    assert sent_payload(simulator, response.request_id) == expected


def test_media_given_as_bytes_or_local_files_travels_as_data_uris(face, clock, simulator, video_config, tmp_path):
    picture = tmp_path / "first.png"
    picture.write_bytes(b"\x89PNG first")
    request = VideoGenerationRequest(
        prompt="p",
        image_list=[
            {"image": picture.as_uri(), "type": "first_frame"},
            {"image": {"content": b"\x89PNG last", "content_type": "image/png"}, "type": "last_frame"},
        ],
    )

    response = face.video(video_config("fal-ai/veo3.1/first-last-frame-to-video"), request)

    payload = sent_payload(simulator, response.request_id)
    assert payload["first_frame_url"] == "data:image/png;base64,iVBORyBmaXJzdA=="
    assert payload["last_frame_url"] == "data:image/png;base64,iVBORyBsYXN0"


def test_every_spec_is_named_once_per_kind():
    names = [(spec.model, spec.kind) for spec in SPECS]
    assert len(names) == len(set(names))


# -- the protocol on plain values (answers the simulator does not give) ----------------------


def call_for(kind: str = "video", **request: Any) -> Call:
    if kind == "video":
        config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3", api_key=KEY)
        return Call("video", config, VideoGenerationRequest(prompt="p", **request))
    config = ImageGenerationConfig(provider="fal", model="fal-ai/flux/dev", api_key=KEY)
    return Call("image", config, ImageGenerationRequest(prompt="p", **request))


def answer(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "https://queue.fal.run/x"))


def test_a_422_content_policy_answer_at_result_time_is_moderation():
    detail = {"detail": [{"loc": ["body", "prompt"], "msg": "flagged", "type": "content_policy_violation"}]}

    error = FalProtocol().error(call_for(), answer(422, detail), "result")

    assert isinstance(error, ContentModerationError)
    assert error.raw_response["phase"] == "result"


def test_images_all_flagged_nsfw_are_moderation():
    body = {"images": [{"url": "https://x/1.png"}], "has_nsfw_concepts": [True]}

    with pytest.raises(ContentModerationError):
        FalProtocol().parse_result(call_for("image"), Job(id="r1"), answer(200, body))


def test_submit_answer_without_urls_gets_urls_built_from_owner_and_app():
    call = call_for()
    call = call.replace(config=call.config.model_copy(update={"model": "fal-ai/veo3/image-to-video"}))

    job = FalProtocol().parse_submit(call, answer(200, {"request_id": "abc"}))

    assert job.status == "queued"
    assert job.urls["status"] == "https://queue.fal.run/fal-ai/veo3/requests/abc/status"
    assert job.urls["cancel"] == "https://queue.fal.run/fal-ai/veo3/requests/abc/cancel"


@pytest.mark.parametrize(
    ("status", "mapped"),
    [("IN_QUEUE", "queued"), ("IN_PROGRESS", "processing"), ("COMPLETED", "completed"), ("FAILED", "failed"),
     ("SOMETHING_NEW", "processing")],
)
def test_states_map_onto_the_gateways(status, mapped):
    job = FalProtocol().parse_poll(call_for(), Job(id="r1"), answer(200, {"status": status}))
    assert job.status == mapped


def test_the_video_result_accepts_a_top_level_video_url():
    body = {"video_url": "https://v3.fal.media/out.mp4", "audio_url": "https://v3.fal.media/out.wav"}

    response = FalProtocol().parse_result(call_for(duration_seconds=4), Job(id="r1"), answer(200, body))

    assert (response.video, response.audio_url, response.duration) == (body["video_url"], body["audio_url"], 4)


def test_prepare_is_pure_mapping_with_no_request():
    call = call_for(duration_seconds=8, aspect_ratio="16:9", generate_audio=False)
    assert run_sync(FalProtocol().prepare(call)) == {
        "prompt": "p", "aspect_ratio": "16:9", "duration": "8s", "generate_audio": False,
    }


def test_simulated_latency_really_delays_the_answers(clock, simulator, video_config):
    from tarash.tarash_gateway import generate_video

    simulator.push(Scenario(queue_polls=0, run_polls=0, latency=0.05))
    started = time.perf_counter()

    generate_video(video_config(), VideoGenerationRequest(prompt="x"))

    assert time.perf_counter() - started >= 0.15  # submit, one status poll, the result: 0.05 s each
