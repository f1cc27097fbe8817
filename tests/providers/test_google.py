"""Google against the loopback simulator: Veo (Gemini API and Vertex), Imagen, Gemini image."""

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
from tarash.tarash_gateway.mock.stock import match_image, match_video
from tarash.tarash_gateway.providers.base import Job
from tarash.tarash_gateway.providers.google import SPECS, GoogleProtocol
from tarash.tarash_gateway.providers.mapping import mapping_table
from tarash.tarash_gateway.simulator import Scenario

VEO = "veo-3.1-generate-preview"
VERTEX = {"project": "proj", "location": "us-central1"}
PNG = {"content": b"\x89PNG\r\n\x1a\nfirst", "content_type": "image/png"}
JPEG = {"content": b"\xff\xd8\xff\xe0last", "content_type": "image/jpeg"}


def video_config(simulator: Any, model: str = VEO, **changes: Any) -> VideoGenerationConfig:
    fields = {"poll_interval": 0.01, "timeout": 60, "api_key": "gemini-key", **changes}
    return VideoGenerationConfig(provider="google", model=model, base_url=simulator.base_url("google"), **fields)


def vertex_config(simulator: Any, model: str = "veo-3.1-generate-001", **changes: Any) -> VideoGenerationConfig:
    return video_config(simulator, model, api_key="ya29.token", provider_config={**VERTEX, **changes.pop("extra", {})}, **changes)


def image_config(simulator: Any, model: str = "imagen-4.0-generate-001", **changes: Any) -> ImageGenerationConfig:
    fields = {"api_key": "gemini-key", **changes}
    return ImageGenerationConfig(provider="google", model=model, base_url=simulator.base_url("google"), **fields)


def job_of(simulator: Any, request_id: str) -> Any:
    job = simulator.job(request_id.rsplit("/", 1)[-1])
    assert job is not None
    return job


def google_requests(simulator: Any, since: int) -> list[tuple[str, str, str]]:
    return [r for r in simulator.requests[since:] if r[0] == "google"]


# -- Veo on the Gemini API -------------------------------------------------------------------


def test_veo_downloads_the_video_on_both_faces(face, simulator, clock) -> None:
    simulator.push(Scenario())
    since = len(simulator.requests)
    request = VideoGenerationRequest(
        prompt="a red kite", aspect_ratio="9:16", duration_seconds=8, resolution="1080p",
        negative_prompt="rain", seed=5, generate_audio=True,
    )

    response = face.video(video_config(simulator), request)

    assert response.video == {"content": match_video("9:16", "1080p", 8).path.read_bytes(), "content_type": "video/mp4"}
    assert (response.duration, response.resolution, response.aspect_ratio) == (8.0, "1080p", "9:16")
    assert response.request_id == f"models/{VEO}/operations/{job_of(simulator, response.request_id).id}"
    assert response.raw_response["done"] is True
    response.model_dump_json()
    job = job_of(simulator, response.request_id)
    # seed and generateAudio are Vertex-only: not sent to the Gemini API
    assert job.payload["parameters"] == {
        "aspectRatio": "9:16", "durationSeconds": 8, "resolution": "1080p", "negativePrompt": "rain", "sampleCount": 1,
    }
    calls = google_requests(simulator, since)
    assert calls[0] == ("google", "POST", f"/models/{VEO}:predictLongRunning")
    assert calls[1] == ("google", "GET", f"/models/{VEO}/operations/{job.id}")
    assert calls[-1] == ("google", "GET", f"/files/{job.id}:download")  # then redirected to /media


def test_veo_progress_events_follow_the_operation_in_order(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=2, run_polls=2))
    events: list[Any] = []

    result = generate_video(video_config(simulator), VideoGenerationRequest(prompt="waves"), events.append)

    assert [(e.status, e.progress_percent, e.update.get("done")) for e in events] == [
        ("queued", None, None),
        ("processing", None, False),
        ("completed", 100, True),
    ]
    assert {e.request_id for e in events} == {result.request_id}


def test_download_video_false_returns_the_file_uri(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=0, run_polls=0))
    config = video_config(simulator, provider_config={"download_video": False})

    response = generate_video(config, VideoGenerationRequest(prompt="x"))

    job = job_of(simulator, response.request_id)
    assert response.video == f"{simulator.base_url('google')}/files/{job.id}:download?alt=media"


def test_veo_images_are_sent_inline_with_their_roles(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=0, run_polls=0), Scenario(queue_polls=0, run_polls=0))
    frames = VideoGenerationRequest(
        prompt="x", image_list=[{"image": PNG, "type": "first_frame"}, {"image": JPEG, "type": "last_frame"}]
    )
    first = generate_video(video_config(simulator), frames)
    refs = VideoGenerationRequest(
        prompt="x", image_list=[{"image": PNG, "type": "asset"}, {"image": JPEG, "type": "asset"}]
    )
    second = generate_video(video_config(simulator), refs)

    assert job_of(simulator, first.request_id).payload["instance_keys"] == ["image", "lastFrame", "prompt"]
    assert job_of(simulator, second.request_id).payload["instance_keys"] == ["prompt", "referenceImages"]


def test_moderated_veo_output_is_content_moderation(simulator, clock) -> None:
    simulator.push("moderated_output")
    events: list[Any] = []
    with pytest.raises(ContentModerationError) as caught:
        generate_video(video_config(simulator), VideoGenerationRequest(prompt="x"), events.append)
    error = caught.value
    assert "filtered by safety" in str(error) and "safety filters" in str(error)
    assert error.raw_response["body"]["response"]["generateVideoResponse"]["raiMediaFilteredCount"] == 1
    assert error.request_id == events[-1].request_id and events[-1].status == "failed"
    assert not is_retryable(error)


def test_a_failed_operation_is_a_retryable_generation_failure(simulator, clock) -> None:
    simulator.push("failed")
    with pytest.raises(GenerationFailedError) as caught:
        generate_video(video_config(simulator), VideoGenerationRequest(prompt="x"))
    assert "code 13" in str(caught.value)
    assert caught.value.raw_response["phase"] == "job"
    assert is_retryable(caught.value)


def test_a_prompt_refused_at_submit_is_content_moderation(simulator, clock) -> None:
    simulator.push("moderation")
    with pytest.raises(ContentModerationError) as caught:
        generate_video(video_config(simulator), VideoGenerationRequest(prompt="x"))
    assert caught.value.raw_response["phase"] == "submit"


def test_timeout_cancels_the_operation(face, simulator, clock) -> None:
    simulator.push("stuck")
    with pytest.raises(TimeoutError) as caught:
        face.video(video_config(simulator, timeout=1, poll_interval=0.2), VideoGenerationRequest(prompt="x"))
    name = caught.value.request_id
    assert ("google", "POST", f"/{name}:cancel") in simulator.requests
    assert job_of(simulator, name).cancelled


# -- HTTP errors -----------------------------------------------------------------------------


def test_rate_limit_takes_retry_after_from_retry_info(face, simulator, clock) -> None:
    simulator.push(Scenario(submit_error="rate_limit", retry_after=27))
    with pytest.raises(RateLimitError) as caught:
        face.video(video_config(simulator), VideoGenerationRequest(prompt="x"))
    assert (caught.value.status_code, caught.value.retry_after) == (429, 27.0)
    assert caught.value.raw_response["body"]["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert is_retryable(caught.value)


def test_rate_limit_without_retry_info_still_falls_back(simulator, clock) -> None:
    simulator.push("rate_limit_no_retry_after")
    with pytest.raises(RateLimitError) as caught:
        generate_image(image_config(simulator), ImageGenerationRequest(prompt="x"))
    assert caught.value.retry_after is None
    assert is_retryable(caught.value)


def test_403_permission_denied_is_an_auth_error_not_moderation(simulator, clock) -> None:
    simulator.push("auth")
    with pytest.raises(HTTPError) as caught:
        generate_video(video_config(simulator), VideoGenerationRequest(prompt="x"))
    assert type(caught.value) is HTTPError
    assert caught.value.status_code == 403
    assert not is_retryable(caught.value)


def test_an_invalid_api_key_is_an_auth_error_not_a_validation_error(simulator, clock) -> None:
    with pytest.raises(HTTPError) as caught:
        generate_image(image_config(simulator, api_key="invalid"), ImageGenerationRequest(prompt="x"))
    assert type(caught.value) is HTTPError
    assert caught.value.status_code == 400 and "authentication" in str(caught.value)
    assert not is_retryable(caught.value)


def test_server_error_falls_back(simulator, clock) -> None:
    simulator.push("server_error")
    with pytest.raises(HTTPError) as caught:
        generate_video(video_config(simulator), VideoGenerationRequest(prompt="x"))
    assert caught.value.status_code == 500 and is_retryable(caught.value)


def test_invalid_argument_is_a_validation_error(simulator, clock) -> None:
    simulator.push("validation")
    with pytest.raises(ValidationError) as caught:
        generate_video(video_config(simulator), VideoGenerationRequest(prompt="x"))
    assert caught.value.raw_response["body"]["error"]["status"] == "INVALID_ARGUMENT"
    assert not is_retryable(caught.value)


# -- Vertex AI --------------------------------------------------------------------------------


def test_vertex_veo_polls_fetch_predict_operation_and_decodes_inline_bytes(simulator, clock) -> None:
    simulator.push(Scenario())
    since = len(simulator.requests)
    request = VideoGenerationRequest(prompt="x", aspect_ratio="16:9", duration_seconds=6, seed=9, generate_audio=False)

    response = generate_video(vertex_config(simulator), request)

    prefix = "/projects/proj/locations/us-central1/publishers/google/models/veo-3.1-generate-001"
    assert response.request_id.startswith(prefix.lstrip("/") + "/operations/")
    assert response.video == {"content": match_video("16:9", "720p", 6).path.read_bytes(), "content_type": "video/mp4"}
    assert "<" in response.raw_response["response"]["videos"][0]["bytesBase64Encoded"]  # elided in raw_response
    job = job_of(simulator, response.request_id)
    assert (job.payload["parameters"]["seed"], job.payload["parameters"]["generateAudio"]) == (9, False)
    calls = google_requests(simulator, since)
    assert calls[0] == ("google", "POST", f"{prefix}:predictLongRunning")
    assert calls[1:] == [("google", "POST", f"{prefix}:fetchPredictOperation")] * 3


def test_vertex_storage_uri_returns_the_gcs_url(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=0, run_polls=0))
    request = VideoGenerationRequest(prompt="x", storage_uri="gs://bucket/out")

    response = generate_video(vertex_config(simulator), request)

    job = job_of(simulator, response.request_id)
    assert response.video == f"gs://bucket/out/{job.id}/sample_0.mp4"
    assert job.payload["parameters"]["storageUri"] == "gs://bucket/out"


def test_vertex_auth_failure_is_401(simulator, clock) -> None:
    simulator.push("auth")
    with pytest.raises(HTTPError) as caught:
        generate_video(vertex_config(simulator), VideoGenerationRequest(prompt="x"))
    assert caught.value.status_code == 401 and not is_retryable(caught.value)


@pytest.mark.parametrize(
    ("provider_config", "named"),
    [
        ({"project": "proj"}, "location"),
        ({"vertexai": True}, "project and location"),
        ({**VERTEX, "credentials_path": "/tmp/sa.json"}, "credentials_path / service-account files are not supported"),
        (VERTEX, "OAuth access token"),
    ],
)
def test_vertex_without_what_it_needs_fails_before_any_network_call(
    simulator, clock, provider_config: dict[str, Any], named: str
) -> None:
    before = len(simulator.requests)
    config = video_config(simulator, api_key=None, provider_config=provider_config)
    with pytest.raises(ValidationError) as caught:
        generate_video(config, VideoGenerationRequest(prompt="x"))
    assert named in str(caught.value)
    assert len(simulator.requests) == before


def test_vertex_accepts_an_access_token_in_provider_config(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=0, run_polls=0))
    config = video_config(simulator, "veo-3.0-generate-001", api_key=None, provider_config={**VERTEX, "access_token": "ya29"})
    response = generate_video(config, VideoGenerationRequest(prompt="x"))
    assert job_of(simulator, response.request_id).payload["vertex"] is True


# -- images ------------------------------------------------------------------------------------


def test_imagen_answers_inline_images_on_both_faces(face, simulator, clock) -> None:
    request = ImageGenerationRequest(prompt="a lamp", n=2, aspect_ratio="16:9", seed=3)

    response = face.image(image_config(simulator), request)

    stock = match_image(None, "16:9").path.read_bytes()
    assert [base64.b64decode(image.split(",", 1)[1]) for image in response.images] == [stock, stock]
    assert response.content_type == "image/png"
    assert response.request_id.startswith("google-image-")
    assert response.raw_response["predictions"][0]["bytesBase64Encoded"].endswith("elided>")
    body = simulator.jobs[-1].payload["body"]
    assert body == {"instances": [{"prompt": "a lamp"}], "parameters": {"sampleCount": 2, "aspectRatio": "16:9"}}


def test_imagen_on_vertex_sends_seed_and_negative_prompt(simulator, clock) -> None:
    config = image_config(simulator, api_key="ya29", provider_config=VERTEX)
    generate_image(config, ImageGenerationRequest(prompt="a lamp", seed=3, negative_prompt="dust", person_generation="dont_allow"))
    job = simulator.jobs[-1]
    assert job.payload["vertex"] is True
    assert job.payload["body"]["parameters"] == {"seed": 3, "negativePrompt": "dust", "personGeneration": "dont_allow"}


def test_imagen_with_every_image_filtered_is_content_moderation(simulator, clock) -> None:
    simulator.push("moderation")
    with pytest.raises(ContentModerationError) as caught:
        generate_image(image_config(simulator), ImageGenerationRequest(prompt="x"))
    assert "safety filters" in str(caught.value)


def test_gemini_image_models_use_generate_content(face, simulator, clock) -> None:
    request = ImageGenerationRequest(
        prompt="make it night", aspect_ratio="21:9", image_list=[{"image": PNG, "type": "reference"}], image_size="2K"
    )

    response = face.image(image_config(simulator, model="gemini-2.5-flash-image"), request)

    job = simulator.jobs[-1]
    assert response.request_id == job.id  # Gemini's responseId
    assert response.images[0].startswith("data:image/png;base64,")
    body = job.payload["body"]
    assert body["generationConfig"] == {
        "imageConfig": {"aspectRatio": "21:9", "imageSize": "2K"},
        "responseModalities": ["IMAGE"],
    }
    parts = body["contents"][0]["parts"]
    assert parts[0] == {"text": "make it night"}
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG["content"]).decode()}}


@pytest.mark.parametrize(("scenario", "reason"), [("moderation", "PROHIBITED_CONTENT"), ("moderated_output", "IMAGE_SAFETY")])
def test_gemini_image_blocks_are_content_moderation(simulator, clock, scenario: str, reason: str) -> None:
    simulator.push(scenario)
    with pytest.raises(ContentModerationError) as caught:
        generate_image(image_config(simulator, model="gemini-3-pro-image-preview"), ImageGenerationRequest(prompt="x"))
    assert reason in str(caught.value)
    assert not is_retryable(caught.value)


# -- validation before any network call -----------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fields", "named"),
    [
        (VEO, {"duration_seconds": 5}, ["duration_seconds", "4, 6, 8"]),
        (VEO, {"aspect_ratio": "1:1"}, ["aspect_ratio", "'16:9', '9:16'"]),
        ("veo-3.0-generate-001", {"resolution": "4k"}, ["resolution", "'720p', '1080p'"]),
        ("veo-2.0-generate-001", {"duration_seconds": 4}, ["duration_seconds", "5, 6, 7, 8"]),
        (VEO, {"number_of_videos": 5}, ["number_of_videos", "1..4"]),
        (VEO, {"image_list": [{"image": PNG, "type": "asset"}] * 4}, ["at most 3"]),
        (VEO, {"image_list": [{"image": PNG, "type": "first_frame"}, {"image": PNG, "type": "asset"}]}, ["cannot be combined"]),
        (VEO, {"image_list": [{"image": PNG, "type": "last_frame"}]}, ["needs a first_frame"]),
        (VEO, {"image_list": [{"image": "gs://bucket/a.png", "type": "first_frame"}]}, ["gs:// inputs need Vertex AI"]),
        ("veo-3.0-generate-001", {"image_list": [{"image": PNG, "type": "asset"}]}, ["no asset/style reference"]),
        ("veo-3.0-generate-001", {"video": "https://example.com/v.mp4"}, ["takes no video input"]),
        (VEO, {"storage_uri": "gs://b/o"}, ["needs Vertex AI"]),
        ("lumiere-1", {}, ["not a known Google video model", "base_model"]),
    ],
)
def test_requests_a_model_cannot_take_fail_before_any_network_call(
    simulator, clock, model: str, fields: dict[str, Any], named: list[str]
) -> None:
    before = len(simulator.requests)
    with pytest.raises(ValidationError) as caught:
        generate_video(video_config(simulator, model=model), VideoGenerationRequest(prompt="x", **fields))
    for text in named:
        assert text in str(caught.value)
    assert len(simulator.requests) == before


@pytest.mark.parametrize(
    ("model", "fields", "named"),
    [
        ("imagen-4.0-generate-001", {"aspect_ratio": "21:9"}, "aspect_ratio"),
        ("imagen-3.0-generate-002", {"n": 5}, "1..4"),
        ("gemini-2.5-flash-image", {"n": 2}, "n=2"),
        ("gemini-2.5-flash-image", {"aspect_ratio": "7:3"}, "aspect_ratio"),
    ],
)
def test_image_requests_a_model_cannot_take_fail_before_any_network_call(
    simulator, clock, model: str, fields: dict[str, Any], named: str
) -> None:
    before = len(simulator.requests)
    with pytest.raises(ValidationError, match=named):
        generate_image(image_config(simulator, model=model), ImageGenerationRequest(prompt="x", **fields))
    assert len(simulator.requests) == before


def test_a_missing_api_key_fails_before_any_network_call(simulator, clock, monkeypatch) -> None:
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    before = len(simulator.requests)
    with pytest.raises(ValidationError, match="GEMINI_API_KEY"):
        generate_video(video_config(simulator, api_key=None), VideoGenerationRequest(prompt="x"))
    assert len(simulator.requests) == before


def test_docs_table_lists_both_surfaces() -> None:
    table = mapping_table(SPECS)
    for model in ("veo-3.1", "veo-3.0", "veo-2.0", "imagen-4.0", "imagen-3.0", "gemini-*image*"):
        assert f"### `{model}` (" in table
    assert "Vertex AI :predictLongRunning" in table and "Gemini API :predictLongRunning" in table
    assert "| `seed` | `parameters.seed` |" in table  # on Vertex only


def test_operation_metadata_progress_is_reported_when_present() -> None:
    call = Call(kind="video", config=VideoGenerationConfig(provider="google", model=VEO, api_key="k"),
                request=VideoGenerationRequest(prompt="x"))
    body = {"name": "models/m/operations/1", "done": False, "metadata": {"progressPercent": 42}}
    response = httpx.Response(200, json=body, request=httpx.Request("GET", "https://example.invalid/x"))
    job = GoogleProtocol().parse_poll(call, Job(id="models/m/operations/1"), response)
    assert (job.status, job.progress, job.update) == ("processing", 42, {"done": False, "progress": 42})
