"""The mock layer: serves a drawn outcome instead of calling the provider.

Per call: draw an outcome (seeded, see `chaos`), build its response or a fresh
copy of its error, spend the injected latency, play the polling timeline (the last
status becomes `failed` when an error is injected), then return or raise. Waits go
through the clock and never pass the config's overall `timeout`.
"""

from __future__ import annotations

import copy
import itertools
import os
from typing import Any

from .. import stats
from ..call import Call
from ..env import env_flag
from ..exceptions import TarashException, ValidationError
from ..flow import Blocking, Flow
from ..layers import Layer
from ..media_io import guess_content_type, load_media, to_data_uri
from ..metadata import Origin
from ..models import AnyConfig, ImageGenerationResponse, VideoGenerationResponse
from .chaos import Draw, ordered_outcome, sample_latency, source_for
from .config import MockConfig, MockPollingConfig, MockResponse
from .stock import match_image, match_video

__all__ = ["MockLayer", "effective_mock", "env_mock_enabled", "force_mock"]

_DEFAULT_PROGRESS = {"queued": 0, "processing": 50, "completed": 100, "failed": None}
_ENV_MOCK = MockConfig(enabled=True)
# Request ids: a random per-process prefix and a counter (unique, and cheaper than uuid4).
_ID_PREFIX = os.urandom(6).hex()
_ids = itertools.count(1)
_forced = False


def env_mock_enabled() -> bool:
    return env_flag("TARASH_MOCK")


def force_mock(enabled: bool = True) -> None:
    """Serve every call of the process from the mock layer (the pytest plugin's `--tarash-mock`).

    A config keeps its own enabled mock; every other config (no `mock`, or
    `MockConfig(enabled=False)`) gets the stock mock. Stronger than `TARASH_MOCK=1`,
    which leaves `enabled=False` configs real. `force_mock(False)` turns it off.
    """
    global _forced
    _forced = enabled


def effective_mock(config: AnyConfig) -> MockConfig | None:
    """The mock in force for a config: its own enabled `mock`, else stock when forced
    (`force_mock`) or, for configs without a `mock`, when `TARASH_MOCK=1`."""
    if config.mock is not None:
        return config.mock if config.mock.enabled else _ENV_MOCK if _forced else None
    return _ENV_MOCK if _forced or env_mock_enabled() else None


class MockLayer(Layer):
    """The bottom of the stack when a mock is in force (nothing below it is called)."""

    def flow(self, call: Call) -> Flow[Any]:
        mock = effective_mock(call.config) or _ENV_MOCK
        draw = source_for(mock).draw_cumulative(mock.cumulative_weights)
        if mock.order != "weighted":
            draw = draw._replace(outcome=ordered_outcome(mock.order, mock.next_call(), len(mock.responses or ())))
        chosen = (mock.responses or [])[draw.outcome]
        request_id = f"mock-{_ID_PREFIX}{next(_ids):08x}"
        latency = sample_latency(chosen.latency or mock.latency, draw.latency_u)
        polling = chosen.polling or mock.polling
        origin = _origin_fields(call, chosen, draw, latency)
        stats.count("mocked")
        if origin["injected"] is not None:
            stats.count("faults")

        error: BaseException | None = None
        result: Any = None
        if chosen.error is not None:
            error = _fresh_error(chosen.error, call, request_id, Origin(**origin))
        else:
            result = yield from _build_response(call, chosen, request_id, origin)

        if latency > 0:
            yield from call.wait(latency)
        if polling is not None and polling.enabled:
            yield from _timeline(call, polling, request_id, result, error)
        if error is not None:
            raise error
        return result


def _origin_fields(call: Call, chosen: MockResponse, draw: Draw, latency: float) -> dict[str, Any]:
    """What `Origin` will say; built once the stock file (if any) is known."""
    kind = chosen.outcome_kind
    injected = f"error:{type(chosen.error).__name__}" if chosen.error is not None else None
    if latency > 0:
        injected = f"{injected},latency:{latency:.3f}s" if injected else f"latency:{latency:.3f}s"
    return {
        "source": "stock" if kind == "stock" else "replay" if kind == "replay" else "mock",
        "provider": call.config.provider,
        "model": call.config.model,
        "outcome": draw.outcome,
        "injected": injected,
        "seed": draw.seed,
        "draw": draw.number,
    }


def _fresh_error(template: BaseException, call: Call, request_id: str, origin: Origin) -> BaseException:
    """A new exception per call, so tracebacks and attributes never leak between calls."""
    error = copy.copy(template)
    error.__traceback__ = None
    if isinstance(error, TarashException):
        error.provider = error.provider or call.config.provider
        error.model = error.model or call.config.model
        error.request_id = error.request_id or request_id
    try:
        error.origin = origin  # type: ignore[attr-defined]
    except AttributeError:
        pass
    return error


def _build_response(call: Call, chosen: MockResponse, request_id: str, origin: dict[str, Any]) -> Flow[Any]:
    kind = chosen.outcome_kind
    if kind == "replay":
        from ..cassettes.replay import replay_outcome

        assert chosen.replay is not None  # outcome_kind is "replay" only when it is set
        return (yield from replay_outcome(call, chosen.replay, Origin(**origin)))
    if kind == "response":
        return _given_response(call, chosen, request_id, origin)
    if call.kind == "video":
        return (yield from _video(call, chosen, request_id, origin))
    return (yield from _image(call, chosen, request_id, origin))


def _given_response(call: Call, chosen: MockResponse, request_id: str, origin: dict[str, Any]) -> Any:
    response = chosen.mock_response
    expected = VideoGenerationResponse if call.kind == "video" else ImageGenerationResponse
    if not isinstance(response, expected):
        raise ValidationError(f"mock_response is a {type(response).__name__}, but this is a {call.kind} call")
    return response.model_copy(update={"request_id": request_id, "is_mock": True, "origin": Origin(**origin)})


def _video(call: Call, chosen: MockResponse, request_id: str, origin: dict[str, Any]) -> Flow[VideoGenerationResponse]:
    if chosen.image_url is not None:
        raise ValidationError("image_url was given for a video call; use video_url")
    content_mode = chosen.output_type == "content"
    given = chosen.video_url if chosen.video_url is not None else chosen.output_video
    if given is None:
        request = call.request
        clip = match_video(request.aspect_ratio, request.resolution, request.duration_seconds)  # type: ignore[union-attr]
        video: Any = clip.url
        if content_mode:
            video = {"content": (yield Blocking(clip.path.read_bytes)), "content_type": clip.content_type}
        return VideoGenerationResponse(
            request_id=request_id,
            video=video,
            content_type=clip.content_type,
            duration=clip.duration,
            resolution=clip.resolution,
            aspect_ratio=clip.aspect_ratio,
            is_mock=True,
            raw_response={"mock": True, "stock": {"file": clip.file, "width": clip.width, "height": clip.height}},
            origin=Origin(**origin, stock_file=clip.file),
        )
    content_type = given["content_type"] if isinstance(given, dict) else guess_content_type(given, "video/mp4")
    if content_mode and isinstance(given, str):
        data, content_type = yield Blocking(load_media, (given, "video/mp4"))
        given = {"content": data, "content_type": content_type}
    elif not content_mode and isinstance(given, dict):
        given = to_data_uri(given["content"], given["content_type"])
    return VideoGenerationResponse(
        request_id=request_id,
        video=given,
        content_type=content_type,
        is_mock=True,
        raw_response={"mock": True, "output_video_provided": True},
        origin=Origin(**origin),
    )


def _image(call: Call, chosen: MockResponse, request_id: str, origin: dict[str, Any]) -> Flow[ImageGenerationResponse]:
    if chosen.video_url is not None or chosen.output_video is not None:
        raise ValidationError("video_url/output_video was given for an image call; use image_url")
    request = call.request
    count = getattr(request, "n", None) or 1
    content_mode = chosen.output_type == "content"
    if chosen.image_url is None:
        picture = match_image(request.size, request.aspect_ratio)  # type: ignore[union-attr]
        image, content_type = picture.url, picture.content_type
        if content_mode:
            image = to_data_uri((yield Blocking(picture.path.read_bytes)), content_type)
        raw = {"mock": True, "stock": {"file": picture.file, "width": picture.width, "height": picture.height}}
        stock_file: str | None = picture.file
    else:
        image, content_type = chosen.image_url, guess_content_type(chosen.image_url, "image/png")
        if content_mode and not image.startswith("data:"):
            data, content_type = yield Blocking(load_media, (image, "image/png"))
            image = to_data_uri(data, content_type)
        raw = {"mock": True, "output_image_provided": True}
        stock_file = None
    return ImageGenerationResponse(
        request_id=request_id,
        images=[image] * count,
        content_type=content_type,
        is_mock=True,
        raw_response=raw,
        origin=Origin(**origin, stock_file=stock_file),
    )


def _timeline(
    call: Call, polling: MockPollingConfig, request_id: str, result: Any, error: BaseException | None
) -> Flow[None]:
    statuses = list(polling.status_sequence)
    if error is not None:
        statuses[-1] = "failed"
    for i, status in enumerate(statuses):
        if i:
            yield from call.wait(polling.delay_between_updates)
        percent = polling.progress_percentages[i] if polling.progress_percentages else _DEFAULT_PROGRESS[status]
        yield from call.emit(
            request_id=request_id,
            status=status,
            progress_percent=percent,
            update=dict(polling.custom_updates[i]) if polling.custom_updates else {},
            result=result if status == "completed" else None,
            error=str(error) if status == "failed" and error is not None else None,
        )
