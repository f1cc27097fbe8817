"""Fallback chains: order, metadata on success and on failure, what stops a chain."""

from __future__ import annotations

import contextlib
from datetime import UTC

import pytest

from tarash.tarash_gateway.exceptions import (
    ContentModerationError,
    GenerationFailedError,
    HTTPError,
    RateLimitError,
    TimeoutError,
)
from tarash.tarash_gateway.fallback import collect_chain
from tarash.tarash_gateway.layers import Layer, use_middleware
from tarash.tarash_gateway.mock import MockConfig, MockPollingConfig, MockResponse
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest

REQUEST = VideoGenerationRequest(prompt="p")


def failing(name, error, fallbacks=None, **kw):
    return VideoGenerationConfig(
        provider=name, model=f"{name}-model", mock=MockConfig(responses=[MockResponse(error=error)], validate=False),
        fallback_configs=fallbacks, **kw,
    )


def ok(name, fallbacks=None):
    return VideoGenerationConfig(
        provider=name, model=f"{name}-model", mock=MockConfig(validate=False), fallback_configs=fallbacks
    )


def test_chain_is_depth_first():
    config = ok("a", [ok("b", [ok("c")]), ok("d")])
    assert [c.provider for c in collect_chain(config)] == ["a", "b", "c", "d"]


def test_success_metadata_lists_every_attempt_in_utc(face):
    config = failing("a", GenerationFailedError("x"), [failing("b", RateLimitError("y")), ok("c")])
    response = face.video(config, REQUEST)
    meta = response.execution_metadata
    assert (meta.total_attempts, meta.successful_attempt, meta.configs_in_chain) == (3, 3, 3)
    assert [a.provider for a in meta.attempts] == ["a", "b", "c"]
    assert [a.is_retryable for a in meta.attempts] == [True, True, None]
    assert all(a.started_at.tzinfo is UTC for a in meta.attempts)
    assert meta.total_elapsed_seconds >= 0
    assert response.origin.provider == "c"


def test_whole_chain_failure_raises_the_last_error_with_all_attempts(face):
    config = failing("a", GenerationFailedError("first"), [failing("b", HTTPError("down", status_code=503))])
    with pytest.raises(HTTPError) as caught:
        face.video(config, REQUEST)
    meta = caught.value.execution_metadata
    assert meta.total_attempts == 2 and meta.successful_attempt is None and meta.fallback_triggered
    assert [a.error_message for a in meta.attempts] == ["first", "down"]


@pytest.mark.parametrize("error", [ContentModerationError("no"), HTTPError("auth", status_code=401)])
def test_non_retryable_errors_stop_the_chain(face, error):
    config = failing("a", error, [ok("b")])
    with pytest.raises(type(error)) as caught:
        face.video(config, REQUEST)
    assert caught.value.execution_metadata.total_attempts == 1


def test_each_attempt_gets_its_own_deadline(face, clock):
    slow = VideoGenerationConfig(
        provider="slow", model="m", timeout=1, mock=MockConfig(latency=5, validate=False), fallback_configs=[ok("fast")]
    )
    response = face.video(slow, REQUEST)
    assert response.execution_metadata.attempts[0].error_type == "TimeoutError"
    assert response.origin.provider == "fast"


def test_an_exception_in_the_progress_callback_propagates_and_never_falls_back(face, clock):
    class MyBug(Exception):
        pass

    def on_progress(update):
        raise MyBug("callback bug")

    config = VideoGenerationConfig(
        provider="a", model="m", mock=MockConfig(polling=MockPollingConfig(), validate=False), fallback_configs=[ok("b")]
    )
    with pytest.raises(MyBug):
        face.video(config, REQUEST, on_progress)


def test_a_callback_raising_a_retryable_gateway_error_still_does_not_fall_back(face, clock):
    def on_progress(update):
        raise TimeoutError("my own timeout")

    config = VideoGenerationConfig(
        provider="a", model="m", mock=MockConfig(polling=MockPollingConfig(), validate=False), fallback_configs=[ok("b")]
    )
    with pytest.raises(TimeoutError) as caught:
        face.video(config, REQUEST, on_progress)
    assert caught.value.execution_metadata.total_attempts == 1


def test_progress_events_are_tagged_with_their_attempt(face, clock):
    events = []
    polling = MockPollingConfig(delay_between_updates=0)
    config = VideoGenerationConfig(
        provider="a", model="m",
        mock=MockConfig(polling=polling, responses=[MockResponse(error=GenerationFailedError("x"))], validate=False),
        fallback_configs=[VideoGenerationConfig(provider="b", model="m", mock=MockConfig(polling=polling, validate=False))],
    )
    face.video(config, REQUEST, events.append)
    assert [(e.attempt, e.status) for e in events] == [
        (1, "queued"), (1, "processing"), (1, "failed"), (2, "queued"), (2, "processing"), (2, "completed")]


# The walk completes a mock's response in place (its execution metadata) instead of copying
# it: only a response built for the call and seen by nobody else may be touched.


def test_each_call_gets_its_own_response_and_the_stock_answer_stays_clean(face):
    config = failing("a", GenerationFailedError("x"), [ok("b")])
    first, second = face.video(config, REQUEST), face.video(ok("c"), REQUEST)
    assert first is not second
    assert first.execution_metadata.total_attempts == 2 and second.execution_metadata.total_attempts == 1
    assert "execution_metadata" in first.model_fields_set
    third = face.video(config, REQUEST)
    assert first.execution_metadata is not third.execution_metadata
    assert first.execution_metadata.attempts is not third.execution_metadata.attempts


def test_a_given_mock_response_is_never_touched(face):
    from tarash.tarash_gateway.models import VideoGenerationResponse

    given = VideoGenerationResponse(request_id="given", video="https://example.invalid/v.mp4")
    config = VideoGenerationConfig(
        provider="fal", model="fal-model", mock=MockConfig(responses=[MockResponse(mock_response=given)], validate=False)
    )
    response = face.video(config, REQUEST)
    assert response is not given and response.execution_metadata.total_attempts == 1
    assert given.execution_metadata is None and "execution_metadata" not in given.model_fields_set


def test_what_a_progress_callback_saw_is_not_changed_afterwards(face, clock):
    updates = []
    config = VideoGenerationConfig(
        provider="fal", model="fal-model", mock=MockConfig(polling=MockPollingConfig(), validate=False)
    )
    response = face.video(config, REQUEST, on_progress=updates.append)
    seen = [u.result for u in updates if u.result is not None]
    assert seen and all(result.execution_metadata is None for result in seen)
    assert response.execution_metadata.total_attempts == 1


def test_a_middleware_that_keeps_its_responses_gets_them_back_untouched(face):
    kept = []

    class Cache(Layer):
        def flow(self, call):
            if kept:
                return kept[0]
            response = yield self.call_next(call)
            kept.append(response)
            return response

    with use_middleware(Cache):
        first = face.video(ok("a"), REQUEST)
        second = face.video(failing("b", GenerationFailedError("x"), [ok("c")]), REQUEST)
    assert kept[0].execution_metadata is None
    assert first.execution_metadata.total_attempts == 1 and second.execution_metadata.total_attempts == 1


class _OwnFaces(Layer):
    """A middleware with faces of its own: the walk reaches it through the drivers (`Next`)."""

    def handle(self, call):
        return super().handle(call)


@pytest.mark.parametrize("through", ["inline", "a middleware's own faces"])
@pytest.mark.parametrize("ends_in", ["success", "failure", "skip after a failure", "success, a config per call"])
def test_a_walk_with_failures_leaves_no_garbage_cycle(ends_in, through):
    # A failed attempt's traceback holds the walk's frame; the walk must not keep the error in
    # its locals past its end, or every such call leaves a cycle for the garbage collector. Nor
    # may the mock's state of a config object (apps that build a config per call make one each).
    # (The sync face: the async one runs the same walk, inside an event loop making its own.)
    import gc

    from tarash.tarash_gateway import generate_video
    from tarash.tarash_gateway.exceptions import TarashException, UnsupportedRequestError

    def build():
        last = {
            "failure": failing("b", RateLimitError("busy")),
            "skip after a failure": failing("b", UnsupportedRequestError("cannot")),
        }.get(ends_in) or ok("b")
        return failing("a", GenerationFailedError("x"), [last])

    config = build()
    with use_middleware(_OwnFaces) if through != "inline" else contextlib.nullcontext():
        for _ in range(3):
            try:
                generate_video(config, REQUEST)
            except TarashException:
                pass
        gc.collect()
        gc.disable()
        try:
            for _ in range(50):
                try:
                    generate_video(build() if ends_in.endswith("per call") else config, REQUEST)
                except TarashException as error:
                    assert error.execution_metadata.total_attempts == 2
                    del error
            assert gc.collect() == 0
        finally:
            gc.enable()
