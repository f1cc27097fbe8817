"""Every request of the built-in providers carries a user agent and the usual Accept headers, like the SDKs."""

from __future__ import annotations

import pytest

import tarash.tarash_gateway as package
from tarash.tarash_gateway import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
)
from tarash.tarash_gateway.providers.http import default_headers

AGENT = f"tarash-gateway/{package.__version__}"


def _received(simulator, provider, since):
    return [request for name, request in list(simulator.received)[since:] if name == provider]


@pytest.mark.parametrize("provider, model", [("fal", "fal-ai/veo3.1"), ("replicate", "google/veo-3.1"),
                                             ("runway", "gen4_turbo"), ("openai", "sora-2")])
def test_every_request_of_a_video_generation_sends_the_default_headers(face, simulator, provider, model):
    config = VideoGenerationConfig(provider=provider, model=model, api_key="k", base_url=simulator.base_url(provider),
                                   poll_interval=0.01, timeout=30)
    request = VideoGenerationRequest(prompt="a cat", image_list=[{"image": "https://example.com/a.png", "type": "reference"}]
                                     if provider == "runway" else [])
    since = len(simulator.received)
    face.video(config, request)
    received = _received(simulator, provider, since)
    assert len(received) >= 3  # submit, polls, result
    for sent in received:
        assert sent.headers["user-agent"] == AGENT
        assert sent.headers["accept-encoding"] == "gzip, deflate"
    accepts = {sent.path: sent.headers["accept"] for sent in received}
    if provider == "openai":  # the content download asks for the binary, the rest for JSON
        content = next(path for path in accepts if path.endswith("/content"))
        assert accepts.pop(content) == "application/binary"
    assert set(accepts.values()) == {"application/json"}


def test_a_providers_own_accept_header_wins_over_the_default(simulator):
    from tarash.tarash_gateway import generate_image

    config = ImageGenerationConfig(provider="stability", model="sd3.5-large", api_key="k",
                                   base_url=simulator.base_url("stability"))
    since = len(simulator.received)
    generate_image(config, ImageGenerationRequest(prompt="a cat"))
    (sent,) = _received(simulator, "stability", since)
    assert [value for name, value in sent.headers.items() if name == "accept"] == ["application/json"]
    assert sent.headers["user-agent"] == AGENT


def test_default_headers_are_a_fresh_copy_a_caller_may_change():
    first = default_headers()
    first["User-Agent"] = "other"
    assert default_headers()["user-agent"] == AGENT and default_headers() is not default_headers()
