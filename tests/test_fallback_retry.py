"""Fallback that knows capabilities: skipping refusals, retrying with Retry-After, never re-submitting blind."""

from __future__ import annotations

import socket

import pytest

from tarash.tarash_gateway import register_provider, unregister_provider
from tarash.tarash_gateway.exceptions import (
    ContentModerationError,
    HTTPConnectionError,
    HTTPError,
    RateLimitError,
    TimeoutError,
    UnsupportedRequestError,
    ValidationError,
)
from tarash.tarash_gateway.mock import MockConfig, MockResponse
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
from tarash.tarash_gateway.retry import Retry
from tarash.tarash_gateway.simulator.scenario import Scenario

REQUEST = VideoGenerationRequest(prompt="a lighthouse at dusk")
EIGHT_SECONDS = VideoGenerationRequest(prompt="a lighthouse at dusk", duration_seconds=8)
NO_JITTER = {"wait_jitter": 0}


def real(simulator, provider, model, **fields):
    return VideoGenerationConfig(
        provider=provider, model=model, api_key="k", base_url=simulator.base_url(provider), poll_interval=0.01, **fields
    )


def scripted(*responses, **fields):
    return VideoGenerationConfig(
        provider="studio", model="v1", mock=MockConfig(validate=False, responses=list(responses), order="sequence"), **fields
    )


def ok(name="backup"):
    return VideoGenerationConfig(provider=name, model=f"{name}-model", mock=MockConfig(validate=False))


# -- capability skips ---------------------------------------------------------------------


def test_the_issue_chain_skips_kling_and_reaches_sora(face, clock, simulator):
    simulator.push("server_error")  # fal answers 5xx
    config = real(simulator, "fal", "fal-ai/veo3.1", fallback_configs=[
        real(simulator, "replicate", "kwaivgi/kling-v2.1", fallback_configs=[real(simulator, "openai", "sora-2")]),
    ])
    before = len(simulator.requests)
    response = face.video(config, EIGHT_SECONDS)
    meta = response.execution_metadata
    assert response.origin.provider == "openai"
    assert [(a.provider, a.status) for a in meta.attempts] == [
        ("fal", "failed"), ("replicate", "skipped"), ("openai", "success"),
    ]
    skipped = meta.attempts[1]
    assert skipped.error_type == "UnsupportedRequestError" and skipped.is_retryable is False
    assert skipped.error_message == "kwaivgi/kling-v2.1 does not take duration_seconds=8; allowed: 5, 10"
    assert not [r for r in simulator.requests[before:] if r[0] == "replicate"]  # skipped before any network call


def test_when_every_config_is_skipped_the_error_lists_each_reason(face, simulator):
    config = real(simulator, "replicate", "kwaivgi/kling-v2.1", fallback_configs=[
        real(simulator, "openai", "sora-2"),
    ])
    request = VideoGenerationRequest(prompt="p", duration_seconds=7)
    with pytest.raises(UnsupportedRequestError) as caught:
        face.video(config, request)
    message = str(caught.value)
    assert message.startswith("no config in the chain can take this request: ")
    assert "replicate/kwaivgi/kling-v2.1: kwaivgi/kling-v2.1 does not take duration_seconds=7; allowed: 5, 10" in message
    assert "openai/sora-2: sora-2 does not take duration_seconds=7" in message
    assert isinstance(caught.value, ValidationError)  # `except ValidationError` still catches it
    assert [a.status for a in caught.value.execution_metadata.attempts] == ["skipped", "skipped"]


def test_a_single_config_refusal_is_raised_unchanged(face, simulator):
    with pytest.raises(UnsupportedRequestError, match=r"^kwaivgi/kling-v2.1 does not take duration_seconds=8; allowed: 5, 10$"):
        face.video(real(simulator, "replicate", "kwaivgi/kling-v2.1"), EIGHT_SECONDS)


def test_a_skip_after_a_real_failure_raises_that_failure(face, clock, simulator):
    simulator.push("server_error")
    config = real(simulator, "fal", "fal-ai/veo3.1", fallback_configs=[real(simulator, "replicate", "kwaivgi/kling-v2.1")])
    with pytest.raises(HTTPError) as caught:
        face.video(config, EIGHT_SECONDS)
    assert caught.value.status_code >= 500 and caught.value.provider == "fal"
    assert [a.status for a in caught.value.execution_metadata.attempts] == ["failed", "skipped"]


def test_a_providers_own_400_still_stops_the_chain(face, clock, simulator):
    simulator.push("validation")
    config = real(simulator, "fal", "fal-ai/veo3.1", fallback_configs=[ok()])
    with pytest.raises(ValidationError) as caught:
        face.video(config, REQUEST)
    assert not isinstance(caught.value, UnsupportedRequestError)
    assert caught.value.execution_metadata.total_attempts == 1


def test_a_registered_handler_can_refuse_to_be_skipped(face):
    class Picky:
        def generate_video(self, config, request, on_progress=None):
            raise UnsupportedRequestError("picky takes square videos only")

    register_provider("picky", Picky())
    try:
        config = VideoGenerationConfig(provider="picky", model="p1", fallback_configs=[ok()])
        response = face.video(config, REQUEST)
    finally:
        unregister_provider("picky")
    assert response.origin.provider == "backup"
    assert response.execution_metadata.attempts[0].error_message == "picky takes square videos only"


# -- retry --------------------------------------------------------------------------------


def test_a_429_is_retried_after_its_retry_after_on_the_clock(face, clock):
    config = scripted(
        MockResponse(error=RateLimitError("slow down", retry_after=7)), MockResponse(),
        retry=Retry(attempts=3, wait_initial=1, **NO_JITTER),
    )
    response = face.video(config, REQUEST)
    meta = response.execution_metadata
    assert clock.slept == pytest.approx(7)
    assert [(a.status, a.retry, a.retry_wait_seconds) for a in meta.attempts] == [("failed", 0, 7), ("success", 1, None)]
    assert (meta.successful_attempt, meta.fallback_triggered) == (2, False)


def test_retries_run_out_then_the_chain_falls_back(face, clock):
    down = MockResponse(error=HTTPError("down", status_code=503))
    config = scripted(down, down, down, retry=Retry(attempts=3, wait_initial=2, wait_multiplier=3, **NO_JITTER),
                      fallback_configs=[ok()])
    response = face.video(config, REQUEST)
    meta = response.execution_metadata
    assert [a.provider for a in meta.attempts] == ["studio", "studio", "studio", "backup"]
    assert [a.retry_wait_seconds for a in meta.attempts] == [2, 6, None, None]
    assert clock.slept == pytest.approx(8) and meta.fallback_triggered


def test_a_retry_after_past_the_total_wait_falls_back_without_waiting(face, clock):
    config = scripted(MockResponse(error=RateLimitError("come back in an hour", retry_after=3600)),
                      retry=Retry(wait_total_max=60), fallback_configs=[ok()])
    response = face.video(config, REQUEST)
    assert clock.slept == 0 and response.origin.provider == "backup"


def test_a_non_retryable_error_is_not_retried(face, clock):
    config = scripted(MockResponse(error=ContentModerationError("no")), MockResponse(), retry=Retry(attempts=5))
    with pytest.raises(ContentModerationError) as caught:
        face.video(config, REQUEST)
    assert caught.value.execution_metadata.total_attempts == 1 and clock.slept == 0


def test_seeded_jitter_repeats_its_waits(face, clock):
    def waits():
        down = MockResponse(error=HTTPError("down", status_code=502))
        config = scripted(down, down, MockResponse(), retry=Retry(attempts=3, wait_initial=1, wait_jitter=2, seed=42))
        return [a.retry_wait_seconds for a in face.video(config, REQUEST).execution_metadata.attempts[:2]]

    first = waits()
    assert first == waits()
    assert 1 <= first[0] < 3 and 2 <= first[1] < 4 and first[0] != 1


def test_a_retried_real_job_is_submitted_again(face, clock, simulator):
    simulator.push(Scenario(submit_error="rate_limit", retry_after=4))
    config = real(simulator, "fal", "fal-ai/veo3.1", retry=Retry(attempts=2, wait_initial=1, **NO_JITTER))
    response = face.video(config, REQUEST)
    assert [a.retry_wait_seconds for a in response.execution_metadata.attempts] == [4, None]
    assert clock.slept >= 4 and response.origin.source == "provider"


# -- a submit whose outcome is unknown ------------------------------------------------------


def slow_submit(simulator, **fields):
    simulator.push(Scenario(latency=1.0))  # the submit answers after 1 s: our 0.25 s deadline passes first
    return real(simulator, "fal", "fal-ai/veo3.1", timeout=0.25, fallback_configs=[ok()], **fields)


def test_a_submit_that_timed_out_is_neither_retried_nor_fallen_back_from(face, clock, simulator):
    config = slow_submit(simulator, retry=Retry(attempts=3))
    with pytest.raises(TimeoutError) as caught:
        face.video(config, REQUEST)
    assert caught.value.execution_metadata.total_attempts == 1


def test_resubmit_unknown_opts_in_to_falling_back(face, clock, simulator):
    config = slow_submit(simulator, retry=Retry(attempts=1, resubmit_unknown=True))
    response = face.video(config, REQUEST)
    assert [a.error_type for a in response.execution_metadata.attempts] == ["TimeoutError", None]
    assert response.origin.provider == "backup"


def test_a_refused_connection_sent_nothing_and_falls_back(face, clock):
    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", api_key="k",
                                   base_url=f"http://127.0.0.1:{port}", fallback_configs=[ok()])
    response = face.video(config, REQUEST)
    assert response.execution_metadata.attempts[0].error_type == HTTPConnectionError.__name__
    assert response.origin.provider == "backup"


# -- cancelling before falling back ---------------------------------------------------------


def test_a_job_abandoned_mid_poll_is_cancelled_before_the_fallback(face, clock, simulator):
    simulator.push("stuck")
    config = real(simulator, "fal", "fal-ai/veo3.1", timeout=1, fallback_configs=[ok()]).model_copy(
        update={"poll_interval": 0.3}
    )
    before = len(simulator.requests)
    response = face.video(config, REQUEST)
    cancels = [r for r in simulator.requests[before:] if r[0] == "fal" and r[1] == "PUT" and r[2].endswith("/cancel")]
    assert len(cancels) == 1 and response.origin.provider == "backup"
    assert response.execution_metadata.attempts[0].error_type == "TimeoutError"
