"""The seed guide's scenarios (../shared/seed/mock-provider-guide.txt), on both faces."""

from __future__ import annotations

import pytest

from tarash.tarash_gateway.exceptions import GenerationFailedError
from tarash.tarash_gateway.mock import MockConfig, MockResponse
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
)

REQUEST = VideoGenerationRequest(prompt="A cat playing piano")


def test_basic_usage_returns_a_stock_video_url_that_opens_offline(face):
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", mock=MockConfig(enabled=True))
    response = face.video(config, REQUEST)
    assert response.is_mock is True
    assert response.video.startswith("file://")
    from pathlib import Path
    from urllib.parse import urlparse

    assert Path(urlparse(response.video).path).read_bytes()[4:8] == b"ftyp"  # a real MP4
    assert response.origin.source == "stock"
    assert response.origin.provider == "fal"


def test_customized_video_url_is_returned(face):
    config = VideoGenerationConfig(
        provider="fal",
        model="fal-ai/veo3.1/fast",
        mock=MockConfig(enabled=True, responses=[MockResponse(weight=1.0, video_url="https://example.com/my-test-video.mp4")]),
    )
    response = face.video(config, REQUEST)
    assert response.video == "https://example.com/my-test-video.mp4"
    assert response.is_mock is True
    assert response.content_type == "video/mp4"


def test_injected_error_is_raised_with_its_message(face):
    config = VideoGenerationConfig(
        provider="fal",
        model="fal-ai/veo3.1/fast",
        mock=MockConfig(enabled=True, responses=[MockResponse(weight=1.0, error=GenerationFailedError("Simulated failure"))]),
    )
    with pytest.raises(GenerationFailedError) as caught:
        face.video(config, REQUEST)
    assert f"Caught: {caught.value}" == "Caught: Simulated failure"


def test_weighted_responses_succeed_about_80_percent(face):
    mock = MockConfig(
        enabled=True,
        seed=1234,
        responses=[
            MockResponse(weight=0.8),
            MockResponse(weight=0.2, error=GenerationFailedError("rate limited")),
        ],
    )
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", mock=mock)
    n = 400 if face.name == "async" else 2000
    ok = 0
    for _ in range(n):
        try:
            face.video(config, REQUEST)
            ok += 1
        except GenerationFailedError as e:
            assert str(e) == "rate limited"
    assert 0.74 <= ok / n <= 0.86


def test_mock_fallback_chain_is_rescued_by_its_fallback(face):
    config = VideoGenerationConfig(
        provider="fal",
        model="fal-ai/veo3.1/fast",
        mock=MockConfig(enabled=True, responses=[MockResponse(weight=1.0, error=GenerationFailedError("forced fail"))]),
        fallback_configs=[
            VideoGenerationConfig(provider="replicate", model="google/veo-3.1", mock=MockConfig(enabled=True)),
        ],
    )
    response = face.video(config, REQUEST)
    meta = response.execution_metadata
    assert meta.fallback_triggered is True
    assert meta.successful_attempt == 2
    assert [a.status for a in meta.attempts] == ["failed", "success"]
    assert meta.attempts[0].error_type == "GenerationFailedError"
    assert meta.attempts[1].provider == "replicate"


def test_image_mock_returns_a_stock_image(face):
    config = ImageGenerationConfig(provider="openai", model="dall-e-3", mock=MockConfig(enabled=True))
    response = face.image(config, ImageGenerationRequest(prompt="A sunset"))
    assert response.is_mock is True
    assert response.images[0].startswith("file://") and response.images[0].endswith(".png")
