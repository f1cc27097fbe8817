"""One contract for every built-in provider, against the simulator: the same scenario gives
the same exception class, retryability and progress vocabulary whoever the provider is."""

from __future__ import annotations

import pytest

from tarash.tarash_gateway.exceptions import (
    ContentModerationError,
    GenerationFailedError,
    HTTPError,
    RateLimitError,
    ValidationError,
    is_retryable,
)
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
)

#: (provider, kind, model) served by the simulator
TARGETS = [
    ("fal", "video", "fal-ai/veo3.1"),
    ("fal", "image", "fal-ai/flux/dev"),
    ("replicate", "video", "google/veo-3"),
    ("replicate", "image", "black-forest-labs/flux-2-pro"),
    ("openai", "video", "sora-2"),
    ("openai", "image", "gpt-image-1"),
    ("google", "video", "veo-3.1-generate-preview"),
    ("google", "image", "imagen-4.0-generate-001"),
    ("runway", "video", "gen4_turbo"),
    ("stability", "image", "sd3.5-large"),
    ("xai", "video", "grok-imagine-video"),
    ("xai", "image", "grok-imagine-image"),
]
IDS = [f"{p}-{k}" for p, k, _ in TARGETS]


def run(face, simulator, provider, kind, model, prompt):
    fields = {"provider": provider, "model": model, "api_key": "k", "base_url": simulator.base_url(provider),
              "poll_interval": 0.01, "timeout": 30}
    if kind == "video":
        image = [{"image": "https://example.com/first.png", "type": "first_frame"}] if provider == "runway" else []
        request = VideoGenerationRequest(prompt=prompt, image_list=image)
        events: list = []
        return face.video(VideoGenerationConfig(**fields), request, events.append), events
    events = []
    return face.image(ImageGenerationConfig(**fields), ImageGenerationRequest(prompt=prompt), events.append), events


@pytest.mark.parametrize("provider, kind, model", TARGETS, ids=IDS)
def test_success_says_where_it_came_from_with_known_statuses(face, clock, simulator, provider, kind, model):
    response, events = run(face, simulator, provider, kind, model, "a cat")
    assert response.origin.source == "provider" and response.origin.provider == provider
    assert response.request_id
    media = response.video if kind == "video" else response.images[0]
    assert media
    assert {e.status for e in events} <= {"queued", "processing", "completed"}


@pytest.mark.parametrize("provider, kind, model", TARGETS, ids=IDS)
@pytest.mark.parametrize(
    "tag, expected, retryable",
    [
        ("rate_limit", RateLimitError, True),
        ("auth", HTTPError, False),
        ("server_error", HTTPError, True),
        ("validation", ValidationError, False),
        ("moderation", ContentModerationError, False),
    ],
)
def test_each_failure_maps_to_the_same_class_everywhere(
    face, clock, simulator, provider, kind, model, tag, expected, retryable
):
    with pytest.raises(expected) as caught:
        run(face, simulator, provider, kind, model, f"a cat #sim:{tag}")
    assert is_retryable(caught.value) is retryable
    assert caught.value.provider == provider
    if tag == "rate_limit":
        assert caught.value.retry_after is not None
    if tag == "auth":
        assert caught.value.status_code in (401, 403)


ASYNC_JOBS = [t for t in TARGETS if not (t[1] == "image" and t[0] in ("openai", "google", "stability", "xai"))]


@pytest.mark.parametrize("provider, kind, model", ASYNC_JOBS, ids=[f"{p}-{k}" for p, k, _ in ASYNC_JOBS])
def test_a_job_that_fails_after_polls_is_a_retryable_generation_failure(face, clock, simulator, provider, kind, model):
    with pytest.raises(GenerationFailedError) as caught:
        run(face, simulator, provider, kind, model, "a cat #sim:failed")
    assert is_retryable(caught.value)


@pytest.mark.parametrize("provider, kind, model", ASYNC_JOBS, ids=[f"{p}-{k}" for p, k, _ in ASYNC_JOBS])
def test_a_stuck_job_times_out_at_the_deadline(face, clock, simulator, provider, kind, model):
    from tarash.tarash_gateway.exceptions import TimeoutError

    fields = {"provider": provider, "model": model, "api_key": "k", "base_url": simulator.base_url(provider),
              "poll_interval": 0.5, "timeout": 5}
    image = [{"image": "https://example.com/first.png", "type": "first_frame"}] if provider == "runway" else []
    with pytest.raises(TimeoutError) as caught:
        if kind == "video":
            face.video(VideoGenerationConfig(**fields), VideoGenerationRequest(prompt="x #sim:stuck", image_list=image))
        else:
            face.image(ImageGenerationConfig(**fields), ImageGenerationRequest(prompt="x #sim:stuck"))
    assert is_retryable(caught.value) and caught.value.provider == provider
    assert 5 <= clock.slept <= 5.5  # the overall deadline, not max_poll_attempts x poll_interval
