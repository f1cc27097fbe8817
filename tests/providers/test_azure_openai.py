"""Azure OpenAI: OpenAI's protocol with Azure's host, ``api-key`` auth and ``api-version``.

The simulator has no separate Azure mount: Azure's v1 API is OpenAI's, so the configs
here use ``sim.base_url("openai")`` and the jobs record which auth and version came in.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tarash.tarash_gateway import (
    ContentModerationError,
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
from tarash.tarash_gateway.providers import get_provider
from tarash.tarash_gateway.providers.openai import AZURE_ADAPTER, AzureOpenAIProtocol
from tarash.tarash_gateway.simulator import Scenario


def video_config(simulator: Any, model: str = "my-sora-deployment", **changes: Any) -> VideoGenerationConfig:
    fields = {"poll_interval": 0.01, "timeout": 60, "api_key": "azure-key", "base_url": simulator.base_url("openai"), **changes}
    return VideoGenerationConfig(provider="azure_openai", model=model, **fields)


def image_config(simulator: Any, model: str = "my-image-deployment", **changes: Any) -> ImageGenerationConfig:
    fields = {"api_key": "azure-key", "base_url": simulator.base_url("openai"), **changes}
    return ImageGenerationConfig(provider="azure_openai", model=model, **fields)


def sent(simulator: Any, request_id: str) -> dict[str, Any]:
    job = simulator.job(request_id.removeprefix("req_"))
    assert job is not None
    return job.payload


def test_the_registry_serves_azure_from_the_openai_module() -> None:
    assert get_provider("azure_openai") is AZURE_ADAPTER


def test_sora_on_azure_uses_the_api_key_header_and_api_version(face, simulator, clock) -> None:
    simulator.push(Scenario())
    config = video_config(simulator, api_version="2025-04-01-preview")

    response = face.video(config, VideoGenerationRequest(prompt="a harbour", aspect_ratio="9:16", duration_seconds=4))

    assert response.video["content_type"] == "video/mp4" and response.video["content"]
    assert (response.duration, response.aspect_ratio) == (4.0, "9:16")
    payload = sent(simulator, response.request_id)
    assert (payload["auth"], payload["api_version"]) == ("api-key", "2025-04-01-preview")
    # a deployment name is sent as the model, mapped like sora-2
    assert (payload["model"], payload["size"], payload["seconds"]) == ("my-sora-deployment", "720x1280", "4")


def test_api_version_is_optional_and_an_entra_token_is_sent_as_bearer(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=0, run_polls=0))
    config = video_config(simulator, api_key=None, provider_config={"azure_ad_token": "entra-token"})

    response = generate_video(config, VideoGenerationRequest(prompt="a harbour"))

    payload = sent(simulator, response.request_id)
    assert (payload["auth"], payload["api_version"]) == ("bearer", None)


def test_progress_events_are_openais(simulator, clock) -> None:
    simulator.push(Scenario(queue_polls=1, run_polls=1))
    events: list[Any] = []
    generate_video(video_config(simulator), VideoGenerationRequest(prompt="x"), events.append)
    assert [(e.status, e.progress_percent) for e in events] == [("queued", 0), ("processing", 50), ("completed", 100)]


def test_images_on_azure_map_a_deployment_like_gpt_image_1(simulator, clock) -> None:
    response = generate_image(image_config(simulator, api_version="preview"), ImageGenerationRequest(prompt="a", size="1024x1536"))

    assert response.images[0].startswith("data:image/png;base64,")
    payload = sent(simulator, response.request_id)
    assert (payload["auth"], payload["api_version"], payload["size"]) == ("api-key", "preview", "1024x1536")
    with pytest.raises(ValidationError, match="quality"):
        generate_image(image_config(simulator), ImageGenerationRequest(prompt="a", quality="hd"))


def test_base_model_picks_the_mapping_of_a_deployment(simulator, clock) -> None:
    config = image_config(simulator, provider_config={"base_model": "dall-e-3"})
    response = generate_image(config, ImageGenerationRequest(prompt="a", style="vivid", aspect_ratio="16:9"))
    payload = sent(simulator, response.request_id)
    assert "style" in payload["fields"] and payload["size"] == "1792x1024"  # dall-e-3's mapping
    with pytest.raises(ValidationError, match="style"):
        generate_image(config, ImageGenerationRequest(prompt="a", style="bold"))


def test_a_missing_base_url_is_a_validation_error_before_any_network_call(simulator, clock) -> None:
    before = len(simulator.requests)
    with pytest.raises(ValidationError, match="base_url"):
        generate_video(video_config(simulator, base_url=None), VideoGenerationRequest(prompt="x"))
    assert len(simulator.requests) == before


def test_a_missing_key_is_a_validation_error_before_any_network_call(simulator, clock, monkeypatch) -> None:
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    before = len(simulator.requests)
    with pytest.raises(ValidationError, match="AZURE_OPENAI_API_KEY"):
        generate_image(image_config(simulator, api_key=None), ImageGenerationRequest(prompt="x"))
    assert len(simulator.requests) == before


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("https://res.openai.azure.com", "https://res.openai.azure.com/openai/v1"),
        ("https://res.openai.azure.com/", "https://res.openai.azure.com/openai/v1"),
        ("https://res.openai.azure.com/openai/v1/", "https://res.openai.azure.com/openai/v1"),
        ("https://res.services.ai.azure.com/openai/v1", "https://res.services.ai.azure.com/openai/v1"),
    ],
)
def test_a_bare_resource_url_gets_the_v1_path(given: str, used: str) -> None:
    config = VideoGenerationConfig(provider="azure_openai", model="sora-2", base_url=given, api_key="k")
    call = Call(kind="video", config=config, request=VideoGenerationRequest(prompt="x"))
    assert AzureOpenAIProtocol().base_url(call) == used


def test_azure_content_filter_answers_are_content_moderation() -> None:
    config = VideoGenerationConfig(provider="azure_openai", model="sora-2", base_url="https://r.openai.azure.com", api_key="k")
    call = Call(kind="video", config=config, request=VideoGenerationRequest(prompt="x"))
    body = {"error": {"code": "content_filter", "message": "The response was filtered.",
                      "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {}}}}
    response = httpx.Response(400, json=body, request=httpx.Request("POST", "https://r.openai.azure.com/openai/v1/videos"))

    error = AzureOpenAIProtocol().error(call, response, "submit")

    assert isinstance(error, ContentModerationError)
    assert error.raw_response["body"] == body
    plain = httpx.Response(400, json={"error": {"code": "invalid_value", "message": "bad size"}}, request=response.request)
    assert type(AzureOpenAIProtocol().error(call, plain, "submit")) is ValidationError


def test_rate_limit_on_azure_keeps_retry_after(simulator, clock) -> None:
    simulator.push(Scenario(submit_error="rate_limit", retry_after=7))
    with pytest.raises(RateLimitError) as caught:
        generate_video(video_config(simulator), VideoGenerationRequest(prompt="x"))
    assert caught.value.retry_after == 7.0
    assert caught.value.provider == "azure_openai"
    assert is_retryable(caught.value)


def test_auth_failure_on_azure_does_not_fall_back(simulator, clock) -> None:
    simulator.push("auth")
    with pytest.raises(HTTPError) as caught:
        generate_image(image_config(simulator), ImageGenerationRequest(prompt="x"))
    assert caught.value.status_code == 401 and not is_retryable(caught.value)


def test_timeout_on_azure_deletes_the_video(simulator, clock) -> None:
    simulator.push("stuck")
    with pytest.raises(TimeoutError) as caught:
        generate_video(video_config(simulator, timeout=0.5, poll_interval=0.1), VideoGenerationRequest(prompt="x"))
    assert ("openai", "DELETE", f"/videos/{caught.value.request_id}") in simulator.requests
