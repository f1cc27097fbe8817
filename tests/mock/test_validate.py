"""The mock refuses what the real adapter refuses, with the same error, before anything runs."""

from __future__ import annotations

import pytest

from tarash.tarash_gateway import register_provider, unregister_provider
from tarash.tarash_gateway.exceptions import ValidationError
from tarash.tarash_gateway.mock import MockConfig
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
    VideoGenerationResponse,
)

REFUSED = [
    ("fall", "fal-ai/minimax", {"prompt": "p"}, "unknown provider 'fall'"),
    ("fal", "fal-ai/minimax", {"prompt": "p", "duration_seconds": 7}, "does not take duration_seconds=7"),
    ("fal", "minimax", {"prompt": "p"}, "owner/app"),
    ("openai", "sora-3000", {"prompt": "p"}, "no video model 'sora-3000'"),
    ("stability", "sd3.5-large", {"prompt": "p"}, "does not generate videos"),
    ("replicate", "kwaivgi/kling-v2.1", {"prompt": "p", "duration_seconds": 8}, "allowed: 5, 10"),
]


def _error(face, config, request):
    with pytest.raises(ValidationError) as caught:
        face.video(config, request)
    return caught.value


@pytest.mark.parametrize("provider, model, fields, message", REFUSED, ids=[f"{p}-{m}" for p, m, _, _ in REFUSED])
def test_the_mock_refuses_a_request_with_the_real_adapters_own_error(face, simulator, provider, model, fields, message):
    request = VideoGenerationRequest(**fields)
    mocked = _error(face, VideoGenerationConfig(provider=provider, model=model, mock=MockConfig()), request)
    base_url = simulator.base_url(provider) if provider in ("fal", "openai", "stability", "replicate") else None
    real = _error(face, VideoGenerationConfig(provider=provider, model=model, api_key="k", base_url=base_url), request)
    assert message in str(mocked)
    assert str(mocked) == str(real) and mocked.provider == real.provider
    assert mocked.origin.source == "mock" and mocked.origin.phase == "submit"


def test_no_request_reaches_the_simulator_when_the_real_adapter_refuses(face, simulator):
    before = len(simulator.requests)
    request = VideoGenerationRequest(prompt="p", duration_seconds=7)
    _error(face, VideoGenerationConfig(provider="fal", model="fal-ai/minimax", api_key="k", base_url=simulator.base_url("fal")), request)
    assert len(simulator.requests) == before  # the side-by-side above compares refusals made before the network


def test_validate_false_serves_what_the_provider_would_refuse(face):
    config = VideoGenerationConfig(provider="fall", model="whatever", mock=MockConfig(validate=False))
    assert face.video(config, VideoGenerationRequest(prompt="p", duration_seconds=7)).is_mock


def test_accepted_requests_are_served_and_a_refusal_is_a_fresh_error_each_time(face):
    config = VideoGenerationConfig(provider="fal", model="fal-ai/minimax", mock=MockConfig())
    assert face.video(config, VideoGenerationRequest(prompt="p", duration_seconds=6)).is_mock
    request = VideoGenerationRequest(prompt="p", duration_seconds=7)
    first, second = _error(face, config, request), _error(face, config, request)
    assert first is not second and str(first) == str(second)


def test_a_changed_request_is_checked_again(face):
    config = VideoGenerationConfig(provider="fal", model="fal-ai/minimax", mock=MockConfig())
    request = VideoGenerationRequest(prompt="p", duration_seconds=6)
    face.video(config, request)
    request.duration_seconds = 7
    _error(face, config, request)


def test_requests_with_input_images_are_checked_without_reading_them(face):
    config = VideoGenerationConfig(provider="runway", model="gen4_turbo", mock=MockConfig())
    image = [{"image": "file:///nowhere/first.png", "type": "first_frame"}]
    assert face.video(config, VideoGenerationRequest(prompt="p", image_list=image)).is_mock
    with pytest.raises(ValidationError, match="first_frame"):
        face.video(config, VideoGenerationRequest(prompt="p"))  # gen4_turbo is image-to-video only


def test_images_are_checked_too(face):
    config = ImageGenerationConfig(provider="openai", model="dall-e-3", mock=MockConfig())
    with pytest.raises(ValidationError, match="does not take n=2"):
        face.image(config, ImageGenerationRequest(prompt="p", n=2))


def test_a_registered_provider_is_not_checked_by_the_mock(face):
    class Studio:
        def generate_video(self, config, request, on_progress=None):
            return VideoGenerationResponse(request_id="r", video="https://example.com/v.mp4")

    register_provider("studio", Studio())
    try:
        config = VideoGenerationConfig(provider="studio", model="anything", mock=MockConfig())
        assert face.video(config, VideoGenerationRequest(prompt="p", duration_seconds=99)).is_mock
    finally:
        unregister_provider("studio")


def test_the_tarash_mock_switch_checks_requests_as_production_would(face, monkeypatch):
    monkeypatch.setenv("TARASH_MOCK", "1")
    with pytest.raises(ValidationError, match="unknown provider 'fall'"):
        face.video(VideoGenerationConfig(provider="fall", model="fal-ai/minimax"), VideoGenerationRequest(prompt="p"))


def test_a_config_built_on_every_call_is_checked_once(face, monkeypatch):
    from tarash.tarash_gateway.mock import validate

    runs = []
    real = validate._dry_run
    monkeypatch.setattr(validate, "_by_value", {})  # start with nothing remembered
    monkeypatch.setattr(validate, "_dry_run", lambda call: runs.append(call) or real(call))
    for _ in range(5):
        config = VideoGenerationConfig(provider="fal", model="fal-ai/minimax/video-01", mock=MockConfig())
        face.video(config, VideoGenerationRequest(prompt="p", duration_seconds=6))
    assert len(runs) == 1
    for _ in range(3):
        with pytest.raises(ValidationError):
            face.video(VideoGenerationConfig(provider="fal", model="fal-ai/minimax/video-01", mock=MockConfig()),
                       VideoGenerationRequest(prompt="p", duration_seconds=9))
    assert len(runs) == 2
