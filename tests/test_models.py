"""Models: upstream's fields, no rebuild trap, dicts and JSON round trips, UTC metadata."""

from __future__ import annotations

import subprocess
import sys

import pydantic
import pytest

from tarash.tarash_gateway.exceptions import GenerationFailedError, RateLimitError
from tarash.tarash_gateway.mock import MockConfig, MockPollingConfig, MockResponse
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
    VideoGenerationResponse,
)


def test_configs_construct_in_a_fresh_interpreter_with_no_extra_imports():
    code = (
        "from tarash.tarash_gateway.models import VideoGenerationConfig, ImageGenerationConfig\n"
        "c = VideoGenerationConfig(provider='fal', model='m', mock={'enabled': True})\n"
        "i = ImageGenerationConfig(provider='openai', model='dall-e-3')\n"
        "print(type(c.mock).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "MockConfig"


def test_unknown_request_fields_land_in_extra_params():
    request = VideoGenerationRequest(prompt="p", camera_motion="pan", extra_params={"a": 1})
    assert request.extra_params == {"camera_motion": "pan", "a": 1}
    image = ImageGenerationRequest(prompt="p", background="transparent")
    assert image.extra_params == {"background": "transparent"}


def test_config_with_mock_errors_round_trips_through_json():
    config = VideoGenerationConfig(
        provider="fal",
        model="m",
        poll_interval=0.25,
        timeout=1.5,
        mock=MockConfig(
            seed=3,
            responses=[
                MockResponse(weight=2, error=RateLimitError("slow", retry_after=1.5)),
                MockResponse(weight=1, latency=0.5, polling=MockPollingConfig(progress_percentages=[0, 40, 100])),
            ],
        ),
        fallback_configs=[VideoGenerationConfig(provider="replicate", model="r")],
    )
    again = VideoGenerationConfig.model_validate_json(config.model_dump_json())
    error = again.mock.responses[0].error
    assert isinstance(error, RateLimitError) and error.retry_after == 1.5 and error.status_code == 429
    assert again.mock.responses[1].latency.seconds == 0.5
    assert again.poll_interval == 0.25 and again.timeout == 1.5
    assert again.fallback_configs[0].provider == "replicate"
    assert again.model_dump() == config.model_dump() | {"mock": again.mock.model_dump()}


def test_mock_config_loads_from_plain_dicts():
    mock = MockConfig.model_validate(
        {
            "enabled": True,
            "responses": [
                {"weight": 0.8},
                {"weight": 0.2, "error": {"type": "GenerationFailedError", "message": "boom"}},
                {"weight": 0.1, "video_url": "https://example.com/v.mp4", "output_video_type": "content"},
            ],
        }
    )
    assert isinstance(mock.responses[1].error, GenerationFailedError)
    assert str(mock.responses[1].error) == "boom"
    assert mock.responses[2].output_video_type == "content"


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"weight": 0}, "greater than 0"),
        ({"video_url": "a", "error": {"type": "GenerationFailedError"}}, "one outcome"),
        ({"error": {"type": "NoSuchError"}}, "unknown error type"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_bad_mock_responses_are_refused_with_a_clear_message(bad, message):
    with pytest.raises(Exception, match=message):
        MockResponse.model_validate(bad)


def test_polling_lengths_must_match():
    with pytest.raises(ValueError, match="progress_percentages has 2 entries"):
        MockPollingConfig(progress_percentages=[0, 100])
    with pytest.raises(ValueError, match="at least one status"):
        MockPollingConfig(status_sequence=[])


def test_response_with_bytes_round_trips_through_json():
    response = VideoGenerationResponse(request_id="r", video={"content": b"\x00\x01\xff", "content_type": "video/mp4"})
    again = VideoGenerationResponse.model_validate_json(response.model_dump_json())
    assert again.video == {"content": b"\x00\x01\xff", "content_type": "video/mp4"}


def test_api_key_is_not_in_repr():
    config = VideoGenerationConfig(provider="fal", model="m", api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(config)


def test_configs_are_immutable():
    config = ImageGenerationConfig(provider="openai", model="dall-e-3")
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        config.model = "other"  # type: ignore[misc]


def test_image_defaults_match_upstream():
    config = ImageGenerationConfig(provider="openai", model="dall-e-3")
    assert (config.timeout, config.max_poll_attempts, config.poll_interval) == (120, 60, 2)
    video = VideoGenerationConfig(provider="fal", model="m")
    assert (video.timeout, video.max_poll_attempts, video.poll_interval) == (600, 120, 5)


def test_with_fields_is_model_copy_with_an_update_and_leaves_the_original_alone():
    from tarash.tarash_gateway.responses import with_fields

    original = VideoGenerationResponse(request_id="a", video="v", raw_response={"k": 1})
    derived = with_fields(original, request_id="b", is_mock=True)
    expected = original.model_copy(update={"request_id": "b", "is_mock": True})
    assert derived == expected and type(derived) is VideoGenerationResponse
    assert derived.model_fields_set == expected.model_fields_set == {"request_id", "video", "raw_response", "is_mock"}
    assert (original.request_id, original.is_mock) == ("a", False)
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        derived.request_id = "c"  # type: ignore[misc]
