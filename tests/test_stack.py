"""The stack: user middleware, registered providers in upstream's shape, foreign errors."""

from __future__ import annotations

import asyncio
import functools

import httpx
import pytest

from tarash.tarash_gateway import (
    Layer,
    add_middleware,
    register_provider,
    unregister_provider,
    use_middleware,
)
from tarash.tarash_gateway.exceptions import (
    HTTPConnectionError,
    RateLimitError,
    TimeoutError,
    ValidationError,
)
from tarash.tarash_gateway.flow import Sleep
from tarash.tarash_gateway.mock import MockConfig
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    ImageGenerationResponse,
    VideoGenerationConfig,
    VideoGenerationRequest,
    VideoGenerationResponse,
    VideoGenerationUpdate,
)

REQUEST = VideoGenerationRequest(prompt="p")


class Recorder(Layer):
    def __init__(self, next, log, tag="r"):
        super().__init__(next)
        self.log, self.tag = log, tag

    def flow(self, call):
        self.log.append(f"{self.tag}:before:{call.attempt}")
        yield Sleep(1)
        response = yield self.call_next(call)
        self.log.append(f"{self.tag}:after")
        return response.model_copy(update={"raw_response": {**response.raw_response, self.tag: True}})


def test_scoped_middleware_wraps_every_attempt_outermost_first(face, clock):
    log = []
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig())
    with use_middleware(functools.partial(Recorder, log=log, tag="outer"), functools.partial(Recorder, log=log, tag="inner")):
        response = face.video(config, REQUEST)
    assert log == ["outer:before:1", "inner:before:1", "inner:after", "outer:after"]
    assert response.raw_response["outer"] and response.raw_response["inner"]
    assert clock.slept == 2
    face.video(config, REQUEST)
    assert len(log) == 4  # the block ended: no middleware any more


def test_process_wide_middleware(face):
    log = []
    add_middleware(functools.partial(Recorder, log=log))
    face.video(VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig()), REQUEST)
    assert log == ["r:before:1", "r:after"]


class Handler:
    def __init__(self):
        self.calls = []

    def generate_video(self, config, request, on_progress=None):
        self.calls.append("sync")
        if on_progress:
            on_progress(VideoGenerationUpdate(request_id="h1", status="processing", progress_percent=10))
        return VideoGenerationResponse(request_id="h1", video="https://h/v.mp4")

    async def generate_video_async(self, config, request, on_progress=None):
        self.calls.append("async")
        if on_progress:
            await on_progress(VideoGenerationUpdate(request_id="h1", status="processing", progress_percent=10))
        return VideoGenerationResponse(request_id="h1", video="https://h/v.mp4")


@pytest.fixture
def handler():
    h = Handler()
    register_provider("acme", h)
    yield h
    unregister_provider("acme")


def test_registered_handler_serves_each_face_with_its_own_method(face, handler):
    events = []
    response = face.video(VideoGenerationConfig(provider="acme", model="m"), REQUEST, events.append)
    assert handler.calls == [face.name]
    assert response.origin.source == "provider" and response.origin.provider == "acme"
    assert events[0].attempt == 1 and events[0].progress_percent == 10


def test_a_sync_only_handler_serves_the_async_face_and_vice_versa():
    class SyncOnly:
        def generate_image(self, config, request, on_progress=None):
            return ImageGenerationResponse(request_id="s", images=["https://s/i.png"])

    class AsyncOnly:
        async def generate_image_async(self, config, request, on_progress=None):
            return ImageGenerationResponse(request_id="a", images=["https://a/i.png"])

    from tarash.tarash_gateway import generate_image, generate_image_async

    register_provider("sync-only", SyncOnly())
    register_provider("async-only", AsyncOnly())
    try:
        req = ImageGenerationRequest(prompt="p")
        assert asyncio.run(generate_image_async(ImageGenerationConfig(provider="sync-only", model="m"), req)).request_id == "s"
        assert generate_image(ImageGenerationConfig(provider="async-only", model="m"), req).request_id == "a"
    finally:
        unregister_provider("sync-only")
        unregister_provider("async-only")


@pytest.mark.parametrize(
    "raised, expected",
    [
        (httpx.ConnectError("refused"), HTTPConnectionError),
        (httpx.ReadTimeout("slow"), TimeoutError),
        (ConnectionResetError("reset"), HTTPConnectionError),
        (
            httpx.HTTPStatusError(
                "429", request=httpx.Request("GET", "http://x"), response=httpx.Response(429, headers={"retry-after": "7"})
            ),
            RateLimitError,
        ),
    ],
)
def test_foreign_errors_from_a_handler_are_mapped_and_fall_back(face, raised, expected):
    class Failing:
        def generate_video(self, config, request, on_progress=None):
            raise raised

        async def generate_video_async(self, config, request, on_progress=None):
            raise raised

    register_provider("flaky", Failing())
    try:
        config = VideoGenerationConfig(
            provider="flaky", model="m", fallback_configs=[VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig())]
        )
        response = face.video(config, REQUEST)
        assert response.execution_metadata.attempts[0].error_type == expected.__name__
        with pytest.raises(expected) as caught:
            face.video(config.model_copy(update={"fallback_configs": None}), REQUEST)
        assert caught.value.__cause__ is raised
        if expected is RateLimitError:
            assert caught.value.retry_after == 7
    finally:
        unregister_provider("flaky")


def test_an_unknown_provider_is_a_clear_validation_error(face):
    with pytest.raises(ValidationError, match="unknown provider 'nope'"):
        face.video(VideoGenerationConfig(provider="nope", model="m"), REQUEST)


def test_a_handler_that_cannot_make_images_says_so(handler):
    from tarash.tarash_gateway import generate_image

    with pytest.raises(ValidationError, match="does not generate images"):
        generate_image(ImageGenerationConfig(provider="acme", model="m"), ImageGenerationRequest(prompt="p"))


def test_bad_arguments_give_clear_errors():
    from tarash.tarash_gateway import generate_video

    with pytest.raises(ValidationError, match="config must be a VideoGenerationConfig"):
        generate_video("fal", REQUEST)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="invalid request"):
        generate_video({"provider": "fal", "model": "m", "mock": {}}, {"prompt": 3})
    response = generate_video({"provider": "fal", "model": "fal-ai/veo3.1", "mock": {}}, {"prompt": "dicts work"})
    assert response.is_mock


def test_register_provider_refuses_an_object_without_generate_methods():
    with pytest.raises(TypeError, match="at least one of"):
        register_provider("x", object())


def test_an_async_only_handler_on_the_sync_face_awaits_progress_and_keeps_the_context(clock):
    from tarash.tarash_gateway import generate_video
    from tarash.tarash_gateway.clock import current_clock

    seen_clocks = []

    class AsyncOnly:
        async def generate_video_async(self, config, request, on_progress=None):
            seen_clocks.append(current_clock())
            await on_progress(VideoGenerationUpdate(request_id="a1", status="processing", progress_percent=50))
            return VideoGenerationResponse(request_id="a1", video="https://a/v.mp4")

    register_provider("async-only-video", AsyncOnly())
    try:
        events = []
        response = generate_video(VideoGenerationConfig(provider="async-only-video", model="m"), REQUEST, events.append)
    finally:
        unregister_provider("async-only-video")
    assert response.request_id == "a1" and events[0].progress_percent == 50
    assert seen_clocks == [clock]  # the caller's clock (a context variable) reached the private loop


def test_a_sync_only_handler_on_the_async_face_reports_on_the_callers_loop():
    class SyncOnly:
        def generate_video(self, config, request, on_progress=None):
            on_progress(VideoGenerationUpdate(request_id="s1", status="processing", progress_percent=30))
            return VideoGenerationResponse(request_id="s1", video="https://s/v.mp4")

    from tarash.tarash_gateway import generate_video_async

    async def main():
        caller = asyncio.get_running_loop()
        loops = []

        async def on_progress(update):
            loops.append(asyncio.get_running_loop())
            await asyncio.sleep(0)

        await generate_video_async(VideoGenerationConfig(provider="sync-only-video", model="m"), REQUEST, on_progress)
        return caller, loops

    register_provider("sync-only-video", SyncOnly())
    try:
        caller, loops = asyncio.run(main())
    finally:
        unregister_provider("sync-only-video")
    assert loops == [caller]


class OwnFaces(Layer):
    """A middleware with faces of its own (no flow): the stack must call them, not its flow."""

    def __init__(self, next, log):
        super().__init__(next)
        self.log = log

    def handle(self, call):
        self.log.append("handle")
        return self.next.handle(call)

    async def ahandle(self, call):
        self.log.append("ahandle")
        return await self.next.ahandle(call)


def test_a_middleware_with_its_own_handle_and_ahandle_is_served_on_the_face_of_the_call(face, clock):
    log: list[str] = []
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig())
    with use_middleware(lambda layer: OwnFaces(layer, log)):
        assert face.video(config, REQUEST).is_mock
    assert log == ["handle" if face.name == "sync" else "ahandle"]


def test_a_flow_middleware_s_effects_and_errors_reach_the_chain_as_before(face, clock):
    # Flow layers run inline on the chain's driver: their waits still happen on the clock and
    # their errors still fall back.
    log: list[str] = []

    class Failing(Recorder):
        def flow(self, call):
            yield Sleep(2)
            if call.config.model == "broken":
                raise RateLimitError("busy", retry_after=1)
            return (yield from super().flow(call))

    ok = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", mock=MockConfig())
    config = ok.model_copy(update={"model": "broken", "fallback_configs": [ok]})
    with use_middleware(lambda layer: Failing(layer, log)):
        response = face.video(config, REQUEST)
    assert response.execution_metadata.fallback_triggered
    assert [a.status for a in response.execution_metadata.attempts] == ["failed", "success"]
    assert log == ["r:before:2", "r:after"] and response.raw_response["r"] is True
    assert clock.slept == 2 + 2 + 1
