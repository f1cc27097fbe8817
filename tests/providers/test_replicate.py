"""Replicate over its predictions API, against the loopback simulator (waits are instant).

Real recorded traffic is replayed in ``test_replicate_real.py``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tarash.tarash_gateway import generate_image, generate_video
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
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
)
from tarash.tarash_gateway.providers.base import Job
from tarash.tarash_gateway.providers.replicate import ReplicateProtocol, parse_progress
from tarash.tarash_gateway.simulator import Scenario

TOKEN = "r8_test"
SDXL = "stability-ai/sdxl:39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"
IMAGE = "https://example.com/cat.png"
LAST = "https://example.com/last.png"
P = "p #sim:instant"  # finishes at the first poll: for tests about the submitted input


@pytest.fixture
def video_config(simulator: Any):
    def make(model: str = "google/veo-3.1", **changes: Any) -> VideoGenerationConfig:
        values = {"api_key": TOKEN, "base_url": simulator.base_url("replicate"), "poll_interval": 0.01, **changes}
        return VideoGenerationConfig(provider="replicate", model=model, **values)

    return make


@pytest.fixture
def image_config(simulator: Any):
    def make(model: str = SDXL, **changes: Any) -> ImageGenerationConfig:
        values = {"api_key": TOKEN, "base_url": simulator.base_url("replicate"), "poll_interval": 0.01, **changes}
        return ImageGenerationConfig(provider="replicate", model=model, **values)

    return make


def submitted(simulator: Any, request_id: str) -> dict[str, Any]:
    """The ``input`` that reached the simulator for the prediction."""
    return simulator.job(request_id).payload


def submit_path(simulator: Any, before: int) -> str:
    return next(p for (prov, m, p) in simulator.requests[before:] if prov == "replicate" and m == "POST")


# -- success ----------------------------------------------------------------------------------


def test_video_from_an_official_model_goes_to_the_model_endpoint(face, clock, simulator, video_config):
    before = len(simulator.requests)
    request = VideoGenerationRequest(prompt="a cat", duration_seconds=8, aspect_ratio="16:9", resolution="1080p")

    response = face.video(video_config(), request)

    assert submit_path(simulator, before) == "/models/google/veo-3.1/predictions"
    assert response.video.startswith(f"{simulator.url}/media/videos/16x9_1080p_8s")
    assert httpx.get(response.video).headers["content-type"] == "video/mp4"
    assert (response.content_type, response.duration, response.resolution) == ("video/mp4", 8, "1080p")
    assert response.raw_response["status"] == "succeeded"
    assert response.request_id == response.raw_response["id"]
    assert submitted(simulator, response.request_id)["duration"] == 8


def test_image_from_a_pinned_version_goes_to_predictions_with_the_version(face, clock, simulator, image_config):
    before = len(simulator.requests)

    response = face.image(image_config(), ImageGenerationRequest(prompt="a corgi", size="512x512", n=2, seed=1))

    assert submit_path(simulator, before) == "/predictions"
    assert response.images == [f"{simulator.url}/media/images/512x512.png"] * 2
    assert response.content_type == "image/png"
    assert response.raw_response["version"] == SDXL.split(":")[1]
    assert submitted(simulator, response.request_id) == {
        "prompt": "a corgi", "width": 512, "height": 512, "seed": 1, "num_outputs": 2,
    }


def test_a_deployment_goes_to_the_deployment_endpoint(clock, simulator, image_config):
    before = len(simulator.requests)

    generate_image(image_config("deployments/acme/my-sdxl"), ImageGenerationRequest(prompt=P))

    assert submit_path(simulator, before) == "/deployments/acme/my-sdxl/predictions"


# -- progress ---------------------------------------------------------------------------------


def test_progress_is_parsed_from_the_logs_and_reported_in_order(face, clock, simulator, video_config):
    events: list[Any] = []
    simulator.push(Scenario(queue_polls=2, run_polls=3))

    response = face.video(video_config(), VideoGenerationRequest(prompt="slow"), events.append)

    assert [e.status for e in events] == ["queued", "processing", "processing", "processing", "completed"]
    percents = [e.progress_percent for e in events]
    assert percents == [None, 25, 50, 75, 100]
    assert [e.update["provider_status"] for e in events] == ["starting", "processing", "processing", "processing",
                                                             "succeeded"]
    assert events[1].update["logs"][-1].startswith(" 25%|")
    assert {e.request_id for e in events} == {response.request_id}


@pytest.mark.parametrize(
    ("logs", "percent"),
    [
        ("", None),
        ("Using seed: 1\n  0%|          | 0/50 [00:00<?, ?it/s]\n", 0),
        (" 18%|█▊        | 9/50 [00:01<00:03, 11.76it/s]\n 38%|███▊      | 19/50 [00:01<00:01, 15.97it/s]\n", 38),
        (" 38%|███▊      | 19/50\nsaving the output\n", 38),  # the last progress line, not the last line
        ("100%|██████████| 50/50 [00:03<00:00, 14.13it/s]", 100),
        ("step 3 of 10", None),
    ],
)
def test_parse_progress_reads_the_last_tqdm_line(logs, percent):
    assert parse_progress(logs) == percent


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "error_type", "status_code", "retryable", "phase"),
    [
        ("validation", ValidationError, None, False, "submit"),
        ("auth", HTTPError, 401, False, "submit"),
        ("rate_limit", RateLimitError, 429, True, "submit"),
        ("server_error", HTTPError, 500, True, "submit"),
        ("moderation", ContentModerationError, None, False, "submit"),  # a 201 whose prediction already failed
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
    assert error.provider == "replicate"


def test_rate_limit_carries_retry_after_when_sent_and_none_otherwise(clock, video_config):
    with pytest.raises(RateLimitError) as with_header:
        generate_video(video_config(), VideoGenerationRequest(prompt="x #sim:rate_limit"))
    with pytest.raises(RateLimitError) as without_header:
        generate_video(video_config(), VideoGenerationRequest(prompt="x #sim:rate_limit_no_retry_after"))

    assert with_header.value.retry_after == 2.0
    assert without_header.value.retry_after is None


def test_failure_messages_say_where_the_failure_was_seen(clock, video_config):
    with pytest.raises(ContentModerationError, match=r"E005") as at_submit:
        generate_video(video_config(), VideoGenerationRequest(prompt="x #sim:moderation"))
    with pytest.raises(GenerationFailedError, match=r"E1001") as at_poll:
        generate_video(video_config(), VideoGenerationRequest(prompt="x #sim:failed"))

    assert "in the submit answer" in str(at_submit.value)
    assert "while polling" in str(at_poll.value)
    assert at_poll.value.raw_response["prediction"]["status"] == "failed"


def test_a_validation_answer_keeps_replicates_detail(clock, video_config):
    with pytest.raises(ValidationError, match="input.duration") as caught:
        generate_video(video_config(), VideoGenerationRequest(prompt="x #sim:validation"))

    assert caught.value.raw_response["body"]["invalid_fields"][0]["field"] == "input.duration"


# -- timeout and cancel -----------------------------------------------------------------------


def test_poll_budget_exhausted_cancels_the_prediction_then_times_out(face, clock, simulator, video_config):
    with pytest.raises(TimeoutError) as caught:
        face.video(video_config(max_poll_attempts=3), VideoGenerationRequest(prompt="x #sim:stuck"))

    request_id = caught.value.request_id
    assert ("replicate", "POST", f"/predictions/{request_id}/cancel") in simulator.requests
    assert simulator.job(request_id).state == "cancelled"


def test_overall_deadline_cancels_the_prediction_then_times_out(clock, simulator, video_config):
    with pytest.raises(TimeoutError) as caught:
        generate_video(video_config(timeout=0.05, poll_interval=0.02), VideoGenerationRequest(prompt="x #sim:stuck"))

    assert ("replicate", "POST", f"/predictions/{caught.value.request_id}/cancel") in simulator.requests
    assert clock.slept == pytest.approx(0.05)


# -- validation before any request -----------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "request_", "words"),
    [
        ("google/veo-3.1", VideoGenerationRequest(prompt="x", duration_seconds=5), ["duration_seconds=5", "4, 6, 8"]),
        ("kwaivgi/kling-v2.1", VideoGenerationRequest(prompt="x"), ["needs", "first_frame", "reference"]),
        ("kwaivgi/kling-v2.5-turbo-pro", VideoGenerationRequest(prompt="x", duration_seconds=6), ["5, 10"]),
        ("minimax/hailuo-02", VideoGenerationRequest(prompt="x", duration_seconds=8), ["6, 10"]),
        (
            "luma/ray",
            VideoGenerationRequest(prompt="x", image_list=[{"image": "data:image/png;base64,iVBO", "type": "first_frame"}]),
            ["image_list:first_frame", "http(s) URLs"],
        ),
        ("veo-3", VideoGenerationRequest(prompt="x"), ["owner/name"]),
        ("google/veo-3:", VideoGenerationRequest(prompt="x"), ["owner/name:<version>"]),
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


def test_a_missing_token_is_refused_before_any_request(clock, simulator, video_config, monkeypatch):
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.delenv("REPLICATE_API_KEY", raising=False)
    before = len(simulator.requests)

    with pytest.raises(ValidationError, match="REPLICATE_API_TOKEN"):
        generate_video(video_config(api_key=None), VideoGenerationRequest(prompt="x"))

    assert len(simulator.requests) == before


# -- field mapping per model family ----------------------------------------------------------


def frames(*roles: str) -> list[dict[str, str]]:
    return [{"image": IMAGE if role != "last_frame" else LAST, "type": role} for role in roles]


@pytest.mark.parametrize(
    ("model", "request_", "expected"),
    [
        (
            "kwaivgi/kling-v2.1",
            VideoGenerationRequest(prompt=P, duration_seconds=10, image_list=frames("first_frame"), negative_prompt="n"),
            {"prompt": P, "start_image": IMAGE, "duration": 10, "negative_prompt": "n"},
        ),
        (
            "minimax/hailuo-02",
            VideoGenerationRequest(prompt=P, duration_seconds=6, image_list=frames("reference"), enhance_prompt=True),
            {"prompt": P, "duration": 6, "first_frame_image": IMAGE, "prompt_optimizer": True},
        ),
        (
            "luma/ray-2-720p",
            VideoGenerationRequest(prompt=P, image_list=frames("first_frame", "last_frame"), aspect_ratio="9:16"),
            {"prompt": P, "start_image_url": IMAGE, "end_image_url": LAST, "aspect_ratio": "9:16"},
        ),
        (
            "wan-video/wan-2.2-t2v-fast",
            VideoGenerationRequest(prompt=P, duration_seconds=5, seed=3),
            {"prompt": P, "num_frames": 120, "seed": 3},
        ),
        (
            "google/veo-3.1",
            VideoGenerationRequest(prompt=P, image_list=frames("first_frame", "last_frame", "reference"),
                                   generate_audio=True),
            {"prompt": P, "image": IMAGE, "last_frame": LAST, "reference_images": [IMAGE], "generate_audio": True},
        ),
        (
            "someone/new-video-model",  # the generic spec; extra_params land in input
            VideoGenerationRequest(prompt=P, duration_seconds=7, extra_params={"fps": 24}),
            {"prompt": P, "duration": 7, "fps": 24},
        ),
    ],
)
def test_video_fields_are_mapped_per_model_family(clock, simulator, video_config, model, request_, expected):
    response = generate_video(video_config(model), request_)

    assert submitted(simulator, response.request_id) == expected


@pytest.mark.parametrize(
    ("model", "request_", "expected"),
    [
        ("black-forest-labs/flux-2-pro", ImageGenerationRequest(prompt=P, aspect_ratio="4:3", image_list=frames("reference")),
         {"prompt": P, "aspect_ratio": "4:3", "input_images": [IMAGE]}),
        ("stability-ai/stable-diffusion-3.5-large", ImageGenerationRequest(prompt=P, aspect_ratio="21:9"),
         {"prompt": P, "aspect_ratio": "21:9"}),
        ("tongyi-mai/z-image-turbo", ImageGenerationRequest(prompt=P, size="1024x768"),
         {"prompt": P, "width": 1024, "height": 768}),
    ],
)
def test_image_fields_are_mapped_per_model_family(clock, simulator, image_config, model, request_, expected):
    response = generate_image(image_config(model), request_)

    assert submitted(simulator, response.request_id) == expected


def test_an_aspect_ratio_the_model_cannot_take_names_the_allowed_ones(clock, simulator, image_config):
    before = len(simulator.requests)
    with pytest.raises(ValidationError, match=r"aspect_ratio='7:3'; allowed: '1:1', '16:9'"):
        generate_image(image_config("black-forest-labs/flux-2-pro"), ImageGenerationRequest(prompt="x", aspect_ratio="7:3"))
    assert len(simulator.requests) == before


# -- the protocol on plain values ------------------------------------------------------------


def call_for(model: str = "google/veo-3.1") -> Call:
    config = VideoGenerationConfig(provider="replicate", model=model, api_key=TOKEN)
    return Call("video", config, VideoGenerationRequest(prompt="p"))


def answer(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "https://api.replicate.com/v1/x"))


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        ("canceled", None, GenerationFailedError),
        ("aborted", None, GenerationFailedError),
        ("failed", "NSFW content detected", ContentModerationError),
        ("failed", "E1000 unknown", GenerationFailedError),
    ],
)
def test_terminal_failures_are_classified(status, error, expected):
    job = ReplicateProtocol().parse_poll(call_for(), Job(id="p1"), answer({"id": "p1", "status": status, "error": error}))

    assert job.status == "failed"
    assert type(job.error) is expected


@pytest.mark.parametrize(
    ("output", "video"),
    [
        ("https://replicate.delivery/a.mp4", "https://replicate.delivery/a.mp4"),
        (["https://replicate.delivery/b.mp4"], "https://replicate.delivery/b.mp4"),
        ({"video": "https://replicate.delivery/c.mp4"}, "https://replicate.delivery/c.mp4"),
    ],
)
def test_video_output_shapes_are_all_read(output, video):
    protocol = ReplicateProtocol()
    job = protocol.parse_poll(call_for(), Job(id="p1"), answer({"id": "p1", "status": "succeeded", "output": output}))

    assert protocol.parse_result(call_for(), job, None).video == video


def test_succeeded_without_output_is_a_generation_failure():
    protocol = ReplicateProtocol()
    job = protocol.parse_poll(call_for(), Job(id="p1"), answer({"id": "p1", "status": "succeeded", "output": None}))

    with pytest.raises(GenerationFailedError, match="without an output"):
        protocol.parse_result(call_for(), job, None)


def test_polls_and_cancels_are_built_from_the_base_url_not_from_urls_get():
    call = call_for().replace(config=call_for().config.model_copy(update={"base_url": "https://proxy.example/v1"}))
    job = ReplicateProtocol().parse_submit(call, answer({
        "id": "p1", "status": "starting",
        "urls": {"get": "https://api.replicate.com/v1/predictions/p1"},
    }, 201))

    assert str(ReplicateProtocol().poll(call, job).url) == "https://proxy.example/v1/predictions/p1"
    assert str(ReplicateProtocol().cancel(call, job).url) == "https://proxy.example/v1/predictions/p1/cancel"
    assert ReplicateProtocol().poll(call, job).headers["authorization"] == f"Bearer {TOKEN}"
