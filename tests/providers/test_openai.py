"""OpenAI against the loopback simulator: Sora videos, GPT image / dall-e images, errors, cancel."""

from __future__ import annotations

import base64
import socket
from typing import Any

import httpx
import pytest

from tarash.tarash_gateway import (
    ContentModerationError,
    GenerationFailedError,
    HTTPConnectionError,
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
from tarash.tarash_gateway.providers.mapping import mapping_table
from tarash.tarash_gateway.providers.openai import SPECS, OpenAIProtocol
from tarash.tarash_gateway.simulator import Scenario

PNG = {"content": b"\x89PNG\r\n\x1a\nfake-image", "content_type": "image/png"}


def video_config(simulator: Any, model: str = "sora-2", **changes: Any) -> VideoGenerationConfig:
    fields = {"poll_interval": 0.01, "timeout": 60, "api_key": "sk-test", **changes}
    return VideoGenerationConfig(provider="openai", model=model, base_url=simulator.base_url("openai"), **fields)


def image_config(simulator: Any, model: str = "gpt-image-1.5", **changes: Any) -> ImageGenerationConfig:
    fields = {"api_key": "sk-test", **changes}
    return ImageGenerationConfig(provider="openai", model=model, base_url=simulator.base_url("openai"), **fields)


def sent(simulator: Any, request_id: str) -> dict[str, Any]:
    job = simulator.job(request_id.removeprefix("req_"))
    assert job is not None
    return job.payload


def openai_requests(simulator: Any, since: int) -> list[tuple[str, str, str]]:
    return [r for r in simulator.requests[since:] if r[0] == "openai"]


# -- Sora ------------------------------------------------------------------------------


def test_sora_video_completes_with_mp4_bytes_on_both_faces(face, simulator, clock) -> None:
    simulator.push(Scenario())
    request = VideoGenerationRequest(prompt="a paper boat", aspect_ratio="16:9", duration_seconds=8, seed=7)

    response = face.video(video_config(simulator), request)

    assert response.video == {
        "content": match_video("16:9", "720p", 8).path.read_bytes(),
        "content_type": "video/mp4",
    }
    assert (response.content_type, response.duration, response.resolution, response.aspect_ratio) == (
        "video/mp4", 8.0, "720p", "16:9",
    )
    assert response.request_id == response.raw_response["id"]
    assert response.raw_response["status"] == "completed"
    response.model_dump_json()  # raw_response is JSON-safe
    payload = sent(simulator, response.request_id)
    assert payload["multipart"] is True
    assert payload["fields"] == ["model", "prompt", "seconds", "size"]  # seed has no Sora equivalent
    assert (payload["seconds"], payload["size"], payload["auth"]) == ("8", "1280x720", "bearer")


def test_sora_progress_events_follow_the_video_states_in_order(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=2, run_polls=3))
    events: list[Any] = []

    result = generate_video(video_config(simulator), VideoGenerationRequest(prompt="waves"), events.append)

    seen = [(e.status, e.progress_percent, e.update.get("status")) for e in events]
    assert seen == [
        ("queued", 0, "queued"),
        ("processing", 25, "in_progress"),
        ("processing", 50, "in_progress"),
        ("processing", 75, "in_progress"),
        ("completed", 100, "completed"),
    ]
    assert {e.request_id for e in events} == {result.request_id}


def test_poll_waits_honour_openai_poll_after_ms_but_never_poll_faster_than_configured(simulator, clock) -> None:
    # Default scenario: three polls. The first wait follows the submit (no hint), the
    # others follow a status answer carrying openai-poll-after-ms: 100.
    simulator.push(Scenario())
    generate_video(video_config(simulator, poll_interval=0.01), VideoGenerationRequest(prompt="a"))
    assert clock.slept == pytest.approx(0.01 + 0.1 + 0.1)

    before = clock.slept
    simulator.push(Scenario())
    generate_video(video_config(simulator, poll_interval=0.5), VideoGenerationRequest(prompt="b"))
    assert clock.slept - before == pytest.approx(3 * 0.5)


def test_sora_sends_a_first_frame_as_an_input_reference_file(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=0, run_polls=0))
    request = VideoGenerationRequest(
        prompt="it moves", aspect_ratio="9:16", image_list=[{"image": PNG, "type": "first_frame"}]
    )

    response = generate_video(video_config(simulator, model="sora-2-pro"), request)

    payload = sent(simulator, response.request_id)
    assert payload["input_reference"] == len(PNG["content"])
    assert (payload["model"], payload["size"]) == ("sora-2-pro", "720x1280")
    assert (response.resolution, response.aspect_ratio) == ("720p", "9:16")


def test_extra_params_video_id_remixes_an_earlier_video(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=0, run_polls=0), Scenario(queue_polls=0, run_polls=0))
    first = generate_video(video_config(simulator), VideoGenerationRequest(prompt="a cat", aspect_ratio="16:9"))
    since = len(simulator.requests)

    remixed = generate_video(video_config(simulator), VideoGenerationRequest(prompt="now blue", video_id=first.request_id))

    assert openai_requests(simulator, since)[0] == ("openai", "POST", f"/videos/{first.request_id}/remix")
    assert remixed.raw_response["remixed_from_video_id"] == first.request_id


def test_sora_moderated_output_is_content_moderation(simulator, clock) -> None:
    simulator.push("moderated_output")
    events: list[Any] = []
    with pytest.raises(ContentModerationError) as caught:
        generate_video(video_config(simulator), VideoGenerationRequest(prompt="a cat"), events.append)
    error = caught.value
    assert "moderation_blocked" in str(error)
    assert error.raw_response["phase"] == "job"
    assert error.request_id == events[-1].request_id
    assert events[-1].status == "failed" and events[-1].error
    assert not is_retryable(error)


def test_a_failed_video_is_a_retryable_generation_failure(simulator, clock) -> None:
    simulator.push("failed")
    with pytest.raises(GenerationFailedError) as caught:
        generate_video(video_config(simulator), VideoGenerationRequest(prompt="a cat"))
    assert caught.value.raw_response["phase"] == "job"
    assert caught.value.raw_response["body"]["error"]["code"] == "internal_error"
    assert is_retryable(caught.value)


def test_timeout_deletes_the_stuck_video(face, simulator, clock) -> None:
    simulator.push("stuck")
    with pytest.raises(TimeoutError) as caught:
        face.video(video_config(simulator, timeout=1, poll_interval=0.2), VideoGenerationRequest(prompt="a cat"))
    video_id = caught.value.request_id
    assert video_id
    assert ("openai", "DELETE", f"/videos/{video_id}") in simulator.requests
    assert simulator.job(video_id).cancelled
    assert is_retryable(caught.value)


# -- errors (both kinds share the envelope) ---------------------------------------------


def test_submit_rate_limit_carries_retry_after_and_falls_back(face, simulator, clock) -> None:
    simulator.push("rate_limit")
    with pytest.raises(RateLimitError) as caught:
        face.video(video_config(simulator), VideoGenerationRequest(prompt="a cat"))
    error = caught.value
    assert (error.status_code, error.retry_after) == (429, 2.0)
    assert error.raw_response["phase"] == "submit"
    assert error.raw_response["body"]["error"]["code"] == "rate_limit_exceeded"
    assert is_retryable(error)


def test_rate_limit_without_retry_after_still_falls_back(simulator, clock) -> None:
    simulator.push("rate_limit_no_retry_after")
    with pytest.raises(RateLimitError) as caught:
        generate_image(image_config(simulator), ImageGenerationRequest(prompt="a cat"))
    assert caught.value.retry_after is None
    assert is_retryable(caught.value)


def test_auth_failure_is_an_http_error_that_does_not_fall_back(simulator, clock) -> None:
    simulator.push("auth")
    with pytest.raises(HTTPError) as caught:
        generate_video(video_config(simulator), VideoGenerationRequest(prompt="a cat"))
    assert type(caught.value) is HTTPError
    assert caught.value.status_code == 401
    assert not is_retryable(caught.value)


def test_server_error_falls_back(simulator, clock) -> None:
    simulator.push("server_error")
    with pytest.raises(HTTPError) as caught:
        generate_image(image_config(simulator), ImageGenerationRequest(prompt="a cat"))
    assert caught.value.status_code == 500
    assert is_retryable(caught.value)


def test_a_400_answer_is_a_validation_error_naming_the_param(simulator, clock) -> None:
    simulator.push("validation")
    with pytest.raises(ValidationError) as caught:
        generate_video(video_config(simulator), VideoGenerationRequest(prompt="a cat"))
    assert caught.value.raw_response["body"]["error"]["param"] == "size"
    assert "submit" in str(caught.value)
    assert not is_retryable(caught.value)


@pytest.mark.parametrize("kind", ["video", "image"])
def test_moderation_blocked_at_submit_is_content_moderation(simulator, clock, kind: str) -> None:
    simulator.push("moderation")
    with pytest.raises(ContentModerationError) as caught:
        if kind == "video":
            generate_video(video_config(simulator), VideoGenerationRequest(prompt="a cat"))
        else:
            generate_image(image_config(simulator), ImageGenerationRequest(prompt="a cat"))
    assert caught.value.raw_response["body"]["error"]["code"] == "moderation_blocked"
    assert not is_retryable(caught.value)


def test_unreachable_host_is_a_retryable_connection_error(clock) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ImageGenerationConfig(provider="openai", model="gpt-image-1", api_key="k", base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(HTTPConnectionError) as caught:
        generate_image(config, ImageGenerationRequest(prompt="a cat"))
    assert is_retryable(caught.value)


# -- images ----------------------------------------------------------------------------


def test_gpt_image_answers_b64_json_as_data_uris_on_both_faces(face, simulator, clock) -> None:
    request = ImageGenerationRequest(prompt="a teapot", size="1536x1024", quality="high", n=2)

    response = face.image(image_config(simulator), request)

    stock = match_image("1536x1024", None).path.read_bytes()
    assert len(response.images) == 2
    for image in response.images:
        head, _, data = image.partition(",")
        assert head == "data:image/png;base64"
        assert base64.b64decode(data) == stock
    assert response.content_type == "image/png"
    assert response.request_id.startswith("req_")  # OpenAI's x-request-id
    assert response.raw_response["data"][0]["b64_json"].endswith("base64 chars, in images>")
    payload = sent(simulator, response.request_id)
    assert (payload["size"], payload["n"], payload["images"]) == ("1536x1024", 2, 0)


def test_gpt_image_aspect_ratio_picks_a_size_and_an_explicit_size_wins(simulator, clock) -> None:
    portrait = generate_image(image_config(simulator), ImageGenerationRequest(prompt="a", aspect_ratio="2:3"))
    assert sent(simulator, portrait.request_id)["size"] == "1024x1536"
    both = generate_image(image_config(simulator), ImageGenerationRequest(prompt="a", aspect_ratio="2:3", size="1024x1024"))
    assert sent(simulator, both.request_id)["size"] == "1024x1024"


def test_dall_e_3_answers_a_url_and_a_revised_prompt(simulator, clock) -> None:
    request = ImageGenerationRequest(prompt="a fox", aspect_ratio="16:9", quality="hd", style="natural")

    response = generate_image(image_config(simulator, model="dall-e-3"), request)

    assert response.images == [f"{simulator.url}/media/images/1792x1024.png"]
    assert response.revised_prompt == "a fox (revised)"
    assert sent(simulator, response.request_id)["size"] == "1792x1024"


def test_input_images_and_a_mask_make_a_multipart_edit(simulator, clock) -> None:
    since = len(simulator.requests)
    request = ImageGenerationRequest(
        prompt="add a hat",
        image_list=[{"image": PNG, "type": "reference"}, {"image": base64.b64encode(b"second").decode(), "type": "reference"}],
        mask_image=PNG,
    )

    response = generate_image(image_config(simulator, model="gpt-image-1"), request)

    assert openai_requests(simulator, since) == [("openai", "POST", "/images/edits")]
    payload = sent(simulator, response.request_id)
    assert (payload["images"], payload["mask"]) == (2, True)
    assert "image[]" in payload["fields"]


def test_moderated_image_scenario_is_content_moderation(simulator, clock) -> None:
    simulator.push("moderated_output")
    with pytest.raises(ContentModerationError):
        generate_image(image_config(simulator), ImageGenerationRequest(prompt="a cat"))


# -- validation before any network call ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "model", "fields", "named"),
    [
        ("video", "sora-2", {"duration_seconds": 5}, ["duration_seconds", "4, 8, 12"]),
        ("video", "sora-2", {"aspect_ratio": "1:1"}, ["aspect_ratio", "'16:9', '9:16'"]),
        ("video", "sora-2-pro", {"resolution": "1080p"}, ["resolution", "'720p'"]),
        ("video", "sora-2", {"number_of_videos": 2}, ["number_of_videos"]),
        ("video", "sora-2", {"image_list": [{"image": PNG, "type": "last_frame"}]}, ["first_frame or reference"]),
        ("image", "gpt-image-1.5", {"quality": "hd"}, ["quality", "'low', 'medium', 'high', 'auto'"]),
        ("image", "gpt-image-1.5", {"aspect_ratio": "16:9"}, ["aspect_ratio", "'3:2'"]),
        ("image", "gpt-image-2", {"n": 11}, ["n", "1..10"]),
        ("image", "dall-e-3", {"style": "bold"}, ["style", "'vivid', 'natural'"]),
        ("image", "dall-e-3", {"n": 2}, ["n", "1"]),
        ("image", "dall-e-3", {"image_list": [{"image": PNG, "type": "reference"}]}, ["takes no input images"]),
        ("image", "dall-e-2", {"size": "1024x1536"}, ["size", "'256x256'"]),
        ("image", "dall-e-2", {"image_list": [{"image": PNG, "type": "reference"}] * 2}, ["one input image"]),
        ("image", "gpt-image-1", {"mask_image": PNG}, ["mask_image needs an input image"]),
        ("image", "gpt-image-9", {}, ["no image model", "base_model"]),
    ],
)
def test_requests_a_model_cannot_take_fail_before_any_network_call(
    simulator, clock, kind: str, model: str, fields: dict[str, Any], named: list[str]
) -> None:
    before = len(simulator.requests)
    with pytest.raises(ValidationError) as caught:
        if kind == "video":
            generate_video(video_config(simulator, model=model), VideoGenerationRequest(prompt="x", **fields))
        else:
            generate_image(image_config(simulator, model=model), ImageGenerationRequest(prompt="x", **fields))
    for text in named:
        assert text in str(caught.value)
    assert len(simulator.requests) == before


def test_a_missing_api_key_fails_before_any_network_call(simulator, clock, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    before = len(simulator.requests)
    with pytest.raises(ValidationError, match="OPENAI_API_KEY"):
        generate_image(image_config(simulator, api_key=None), ImageGenerationRequest(prompt="x"))
    assert len(simulator.requests) == before


def test_base_model_lends_its_mapping_to_a_new_model_id(simulator, clock) -> None:
    config = image_config(simulator, model="gpt-image-9", provider_config={"base_model": "gpt-image-1"})
    response = generate_image(config, ImageGenerationRequest(prompt="a", size="1024x1536"))
    assert sent(simulator, response.request_id)["model"] == "gpt-image-9"
    with pytest.raises(ValidationError, match="quality"):
        generate_image(config, ImageGenerationRequest(prompt="a", quality="hd"))


def test_docs_table_lists_every_model() -> None:
    table = mapping_table(SPECS)
    for model in ("sora-2", "sora-2-pro", "gpt-image-1", "gpt-image-1.5", "gpt-image-2", "dall-e-3", "dall-e-2"):
        assert f"### `{model}`" in table
    assert "| `resolution` | (checked, not sent) | `720p` |" in table


# -- parsing tolerance (no network) -------------------------------------------------------


def _call(kind: str = "video") -> Call:
    if kind == "video":
        return Call(kind="video", config=VideoGenerationConfig(provider="openai", model="sora-2", api_key="k"),
                    request=VideoGenerationRequest(prompt="x"))
    return Call(kind="image", config=ImageGenerationConfig(provider="openai", model="gpt-image-1", api_key="k"),
                request=ImageGenerationRequest(prompt="x"))


def test_a_complaint_about_the_moderation_param_is_not_a_refusal() -> None:
    request = httpx.Request("POST", "https://api.openai.com/v1/images/generations")
    param = {"error": {"message": "Invalid value for 'moderation'.", "param": "moderation", "code": "invalid_value"}}
    refusal = {"error": {"message": "Your request was rejected by the safety system.", "param": None, "code": None}}
    protocol = OpenAIProtocol()
    assert type(protocol.error(_call("image"), httpx.Response(400, json=param, request=request), "submit")) is ValidationError
    assert isinstance(protocol.error(_call("image"), httpx.Response(400, json=refusal, request=request), "submit"),
                      ContentModerationError)


@pytest.mark.parametrize(
    ("body", "status", "progress"),
    [
        ({"id": "video_1", "status": "queued"}, "queued", None),
        ({"id": "video_1", "status": "rendering", "progress": 40.5}, "processing", 40),  # unknown status: running
        ({"id": "video_1", "status": "cancelled"}, "failed", None),
        ({"id": "video_1", "status": "completed"}, "completed", 100),
    ],
)
def test_video_states_are_mapped_tolerantly(body: dict[str, Any], status: str, progress: int | None) -> None:
    response = httpx.Response(200, json=body, request=httpx.Request("GET", "https://api.openai.com/v1/videos/video_1"))
    job = OpenAIProtocol().parse_poll(_call(), Job(id="video_1"), response)
    assert (job.status, job.progress) == (status, progress)
    assert (job.error is not None) == (status == "failed")
