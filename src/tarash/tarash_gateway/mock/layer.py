"""The mock layer: serves a drawn or scheduled outcome instead of calling the provider.

Per call: check the request as the real adapter would (`validate`), draw an
outcome from the (provider, model) stream (`chaos`) unless a schedule takes the
call (`schedule`), take a capacity slot when the config has one
(`capacity`), build the response or a fresh copy of the error, spend the
injected latency, and play the job's timeline with its fault at its phase
(`job`). Waits go through the clock and never pass the config's `timeout`.
Whatever is not configured costs nothing per call, and its module is not even loaded
(a schedule, a capacity, faults, recorded latency, a timeline).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import itertools
import os
from typing import Any, Literal

from .. import stats
from ..call import Call
from ..clock import current_clock
from ..env import env_flag
from ..exceptions import RateLimitError, TarashException, ValidationError
from ..flow import Blocking, Flow
from ..layers import Layer
from ..media_io import guess_content_type, load_media, to_data_uri
from ..metadata import Origin
from ..models import AnyConfig, ImageGenerationResponse, VideoGenerationResponse
from ..responses import with_fields
from .chaos import Draw, global_stream, ordered_outcome, sample_latency
from .config import MockConfig, MockResponse, Schedule
from .state import CallState, Lane, call_state
from .stock import StockVideo, dead_url, match_image, match_video
from .validate import check_request

__all__ = ["MockLayer", "effective_mock", "env_mock_enabled", "force_mock"]

_ENV_MOCK = MockConfig(enabled=True)
_MOCKED, _MOCKED_FAULT = ("mocked",), ("mocked", "faults")  # what a mocked call counts (`stats`)
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

    _fresh_results = True  # every answer is built (or copied) for its call

    def flow(self, call: Call) -> Flow[Any]:
        config = call.config
        mock = config.mock
        if mock is None or not mock.enabled:  # else its own mock, as `effective_mock` says
            mock = effective_mock(config) or _ENV_MOCK
        state = call_state(config, mock)
        if mock.validate_requests:
            try:
                check_request(call, state)
            except ValidationError as error:
                error.origin = Origin(source="mock", provider=config.provider, model=config.model, phase="submit")  # type: ignore[attr-defined]
                raise
        lane = state.lane
        number = next(lane.calls)
        draw = (lane.source or global_stream(config.provider, config.model)).draw_cumulative(lane.cumulative)
        if mock.order != "weighted":
            draw = draw._replace(outcome=ordered_outcome(mock.order, number, len(mock.responses or ())))
        rule = _scheduled(mock, lane, number) if mock.schedule else None
        chosen = rule.response if rule is not None else (mock.responses or [])[draw.outcome]
        plan = _plan(state, mock, None if rule is not None else draw.outcome, chosen)
        request_id = f"mock-{_ID_PREFIX}{next(_ids):08x}"
        latency_spec = chosen.latency or mock.latency
        recorded: tuple[float, ...] = ()
        if latency_spec is not None and latency_spec.distribution == "recorded":
            from .recorded import recorded_durations

            recorded = yield from recorded_durations(latency_spec.recorded or "", config.provider, config.model)
        latency = 0.0 if latency_spec is None else sample_latency(latency_spec, draw.latency_u, recorded)
        origin = _origin(plan, config, draw, latency, number, rule)
        stats.count_each(_MOCKED if origin.injected is None else _MOCKED_FAULT)
        limited = mock.max_concurrency is not None or mock.rate_limit_per_minute is not None
        if limited:
            yield from _admitted(call, mock, lane, request_id, origin)
        try:
            if latency <= 0:  # what `_serve` would do at once, without its flow
                if plan.instant and call.on_progress is None and call.kind == "video":
                    return _stock_video_url(call, chosen, request_id, origin)
                if plan.refused:
                    raise _fresh_error(chosen.error, call, request_id, origin)  # type: ignore[arg-type]
            result = yield from _serve(call, chosen, mock, request_id, origin, latency)
            if chosen.media_expires_after is not None or chosen.fault == "media_expired":
                from .expiry import expire_media

                result = expire_media(result, config.provider, chosen.media_expires_after or 0.0)
            return result
        except TarashException as error:
            if getattr(error, "origin", None) is None:  # the deadline passed during the mock's waits
                error.origin = origin  # type: ignore[attr-defined]
            raise
        finally:
            if limited:
                from .capacity import release

                release(mock, lane)


class _Plan:
    """What one response of a mock needs on every call that depends on the configs alone
    (they are values), worked out once per call config object (kept in its `CallState`)."""

    __slots__ = ("injected", "instant", "phase", "quiet", "refused", "response", "source")

    def __init__(self, chosen: MockResponse, mock: MockConfig) -> None:
        self.response = chosen
        kind = chosen.outcome_kind
        self.source: Literal["stock", "replay", "mock"] = (
            "stock" if kind == "stock" else "replay" if kind == "replay" else "mock"
        )
        # a stock answer with nothing injected but, maybe, latency
        self.quiet = kind == "stock" and not (
            chosen.stall_polls or chosen.progress_backwards or chosen.media_expires_after is not None
        )
        self.injected = _injected(chosen, 0.0)  # what the origin names when no latency is drawn
        phase = chosen.fault_phase if chosen.error is not None or chosen.fault is not None else None
        if phase is None and chosen.error is not None:  # no phase given: where the error lands
            polling = chosen.polling or mock.polling
            phase = "poll" if polling is not None and polling.enabled else "submit"
        self.phase = phase
        # an error refused at submit with no timeline around it: `_serve` would raise it at once
        self.refused = (
            chosen.error is not None
            and phase == "submit"
            and chosen.polling is None
            and mock.polling is None
            and not (chosen.stall_polls or chosen.progress_backwards)
        )
        # and one `_serve` answers at once when no latency is drawn and nobody listens: the
        # stock URL, no timeline, no capacity, nothing expiring
        self.instant = (
            self.quiet
            and chosen.output_type != "content"
            and chosen.polling is None
            and mock.polling is None
            and mock.max_concurrency is None
            and mock.rate_limit_per_minute is None
        )


def _plan(state: CallState, mock: MockConfig, index: int | None, chosen: MockResponse) -> _Plan:
    """The plan of `chosen`, the response at `index` of `mock` (`None`: a schedule's)."""
    plans = state.plans
    if plans is None:
        plans = state.plans = [_Plan(response, mock) for response in mock.responses or ()]
    if index is not None and index < len(plans):
        plan: _Plan = plans[index]
        if plan.response is chosen:
            return plan
    return _Plan(chosen, mock)


def _scheduled(mock: MockConfig, lane: Lane, number: int) -> Schedule | None:
    from .schedule import matching_rule

    assert mock.schedule is not None  # called for configs with a schedule only
    return matching_rule(mock.schedule, lane, number, current_clock().monotonic())


def _admitted(call: Call, mock: MockConfig, lane: Lane, request_id: str, origin: Origin) -> Flow[None]:
    from .capacity import admit

    try:
        yield from admit(call, mock, lane, request_id)
    except TarashException as error:
        if getattr(error, "origin", None) is None:
            # a 429 past the capacity (an injected fault), or the deadline passing while queued
            limit = (error.raw_response or {}).get("capacity") if isinstance(error, RateLimitError) else None
            injected = f"capacity:{limit}" if limit else "capacity:queued"
            error.origin = dataclasses.replace(origin, source="mock", injected=injected, phase="submit")  # type: ignore[attr-defined]
            if limit:
                stats.count("faults")
        raise


def _serve(
    call: Call, chosen: MockResponse, mock: MockConfig, request_id: str, origin: Origin, latency: float
) -> Flow[Any]:
    error: BaseException | None = None
    result: Any = None
    if chosen.error is not None:
        error = _fresh_error(chosen.error, call, request_id, origin)
    elif chosen.fault is not None and not (chosen.fault == "media_expired" and chosen.output_type != "content"):
        from .faults import fault_error

        fault = fault_error(call, chosen.fault, request_id, chosen.fault_phase or "poll")
        error = _fresh_error(fault, call, request_id, origin)
    else:
        result = _stock_video_url(call, chosen, request_id, origin)  # the common answer, without a flow
        if result is None:
            result = yield from _build_response(call, chosen, request_id, origin)
    if latency > 0:
        yield from call.wait(latency)
    polling = chosen.polling or mock.polling
    if polling is None and not (chosen.stall_polls or chosen.progress_backwards):
        if error is not None and origin.phase == "submit":
            raise error  # refused at submit: no job, no timeline
        if error is None and chosen.fault is None and (call.on_progress is None or chosen.replay is not None):
            return result  # no timeline to wait through: nobody listens, or a replay played its own
    if polling is not None and not polling.enabled:
        if error is not None:
            raise error
        return result
    from .job import run_job

    yield from run_job(call, chosen, polling, request_id, result, error)
    return result


def _origin(
    plan: _Plan, config: AnyConfig, draw: Draw, latency: float, number: int, rule: Schedule | None
) -> Origin:
    """Where this call's result or error comes from (the stock file is added once known)."""
    injected = plan.injected if latency <= 0 else _injected(plan.response, latency)
    return Origin(  # in field order: keywords would cost as much again (see `fallback._metadata`)
        plan.source,
        config.provider,
        config.model,
        None if rule is not None else draw.outcome,  # outcome
        injected,
        draw.seed,  # seed
        draw.number,  # draw
        None,  # cassette
        None,  # stock_file
        number,  # call
        rule.label if rule is not None else None,  # schedule
        plan.phase,
    )


def _with_file(origin: Origin, stock_file: str | None) -> Origin:
    # The origin is this call's own, not yet handed out: fill it in rather than copy it.
    origin.stock_file = stock_file
    return origin


def _injected(chosen: MockResponse, latency: float) -> str | None:
    parts = []
    if chosen.error is not None:
        parts.append(f"error:{type(chosen.error).__name__}")
    if chosen.fault is not None:
        parts.append(f"fault:{chosen.fault}")
    if chosen.stall_polls:
        parts.append(f"stall:{chosen.stall_polls}")
    if chosen.progress_backwards:
        parts.append("progress_backwards")
    if chosen.media_expires_after is not None:
        parts.append(f"media_expires_after:{chosen.media_expires_after:g}s")
    if latency > 0:
        parts.append(f"latency:{latency:.3f}s")
    return ",".join(parts) or None


def _fresh_error(template: BaseException, call: Call, request_id: str, origin: Origin) -> BaseException:
    """A new exception per call, so tracebacks and attributes never leak between calls."""
    # (TarashException's own __copy__ called directly: copy.copy's dispatch costs as much again)
    error = template.__copy__() if isinstance(template, TarashException) else copy.copy(template)
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


def _build_response(call: Call, chosen: MockResponse, request_id: str, origin: Origin) -> Flow[Any]:
    # chosen.outcome_kind, read once already (it named the origin's source): no error or fault here
    if origin.source == "replay":
        from ..cassettes.replay import replay_outcome

        assert chosen.replay is not None  # the source is "replay" only when it is set
        return (yield from replay_outcome(call, chosen.replay, origin))
    if chosen.mock_response is not None:
        return _given_response(call, chosen, request_id, origin)
    if call.kind == "video":
        return (yield from _video(call, chosen, request_id, origin))
    return (yield from _image(call, chosen, request_id, origin))


def _given_response(call: Call, chosen: MockResponse, request_id: str, origin: Origin) -> Any:
    response = chosen.mock_response
    expected = VideoGenerationResponse if call.kind == "video" else ImageGenerationResponse
    if not isinstance(response, expected):
        raise ValidationError(f"mock_response is a {type(response).__name__}, but this is a {call.kind} call")
    return with_fields(response, request_id=request_id, is_mock=True, origin=origin)


def _video(call: Call, chosen: MockResponse, request_id: str, origin: Origin) -> Flow[VideoGenerationResponse]:
    if chosen.image_url is not None:
        raise ValidationError("image_url was given for a video call; use video_url")
    content_mode = chosen.output_type == "content"
    given = chosen.video_url if chosen.video_url is not None else chosen.output_video
    if given is None:
        request = call.request
        clip = match_video(request.aspect_ratio, request.resolution, request.duration_seconds)  # type: ignore[union-attr]
        if not content_mode:
            return _stock_answer(clip, chosen.fault == "media_expired", request_id, origin)
        raw = {"mock": True, "stock": {"file": clip.file, "width": clip.width, "height": clip.height}}
        video: Any = {"content": (yield Blocking(clip.path.read_bytes)), "content_type": clip.content_type}
        return VideoGenerationResponse(
            request_id=request_id,
            video=video,
            content_type=clip.content_type,
            duration=clip.duration,
            resolution=clip.resolution,
            aspect_ratio=clip.aspect_ratio,
            is_mock=True,
            raw_response=raw,
            origin=_with_file(origin, clip.file),
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
        origin=origin,
    )


def _stock_video_url(
    call: Call, chosen: MockResponse, request_id: str, origin: Origin
) -> VideoGenerationResponse | None:
    """The stock library's video in URL mode, the mock's most common answer, or `None` for
    every other answer (built by `_build_response`, a flow: content mode reads a file)."""
    if origin.source != "stock" or call.kind != "video" or chosen.output_type == "content":
        return None
    request = call.request
    clip, answer = _stock_url_answer(request.aspect_ratio, request.resolution, request.duration_seconds)  # type: ignore[union-attr]
    origin.stock_file = clip.file  # as `_with_file` does: this call's own origin
    raw = {"mock": True, "stock": {"file": clip.file, "width": clip.width, "height": clip.height}}
    return with_fields(answer, request_id=request_id, raw_response=raw, origin=origin)


@functools.lru_cache(maxsize=1024)
def _stock_url_answer(
    aspect_ratio: str | None, resolution: str | None, duration: float | None
) -> tuple[StockVideo, VideoGenerationResponse]:
    """The clip a request's shape matches and its answer in URL mode (`_stock_video`), found
    with one look-up instead of two."""
    clip = match_video(aspect_ratio, resolution, duration)
    return clip, _stock_video(clip, False)


def _stock_answer(clip: StockVideo, expired: bool, request_id: str, origin: Origin) -> VideoGenerationResponse:
    """A clip's answer in URL mode: validated once per clip, with this call's own values."""
    raw = {"mock": True, "stock": {"file": clip.file, "width": clip.width, "height": clip.height}}
    return with_fields(
        _stock_video(clip, expired), request_id=request_id, raw_response=raw, origin=_with_file(origin, clip.file)
    )


@functools.lru_cache(maxsize=256)
def _stock_video(clip: StockVideo, expired: bool) -> VideoGenerationResponse:
    """A clip's answer in URL mode, without the per-call fields (request id, raw response, origin)."""
    return VideoGenerationResponse(
        request_id="",
        video=dead_url(clip.file) if expired else clip.url,
        content_type=clip.content_type,
        duration=clip.duration,
        resolution=clip.resolution,
        aspect_ratio=clip.aspect_ratio,
        is_mock=True,
    )


def _image(call: Call, chosen: MockResponse, request_id: str, origin: Origin) -> Flow[ImageGenerationResponse]:
    if chosen.video_url is not None or chosen.output_video is not None:
        raise ValidationError("video_url/output_video was given for an image call; use image_url")
    request = call.request
    count = getattr(request, "n", None) or 1
    content_mode = chosen.output_type == "content"
    if chosen.image_url is None:
        picture = match_image(request.size, request.aspect_ratio)  # type: ignore[union-attr]
        image = dead_url(picture.file) if chosen.fault == "media_expired" else picture.url
        content_type = picture.content_type
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
        origin=_with_file(origin, stock_file),
    )
