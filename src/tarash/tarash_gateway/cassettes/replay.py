"""Replaying one recording: the response (or the same exception), its media, and its
progress timeline in recorded order.

Waits go through `call.wait` and so through the clock: `replay_speed="instant"`
waits not at all, `"realtime"` waits the recorded gaps, a factor scales them; under
`instant_waits()` even real-time replays return at once, with `slept` telling the
recorded duration.

`replay_outcome` serves `MockResponse(replay="cassettes/run.db")`: a replayed
recording as one weighted outcome of a mock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic

from .. import stats
from ..call import Call
from ..exceptions import CassetteError
from ..flow import Blocking, Emit, Flow
from ..metadata import Origin
from .codec import decode_error, decode_timeline, response_class, seconds
from .config import CassetteConfig, RecordMode
from .media import deliver_media, needs_media_io
from .session import CassetteSession, shared_session

__all__ = ["replay_origin", "replay_outcome", "replay_recording"]


def replay_origin(call: Call, session: CassetteSession) -> Origin:
    return Origin(source="replay", provider=call.config.provider, model=call.config.model, cassette=session.path)


def replay_recording(
    call: Call, session: CassetteSession, recording: dict[str, Any], cassette: CassetteConfig, origin: Origin
) -> Flow[Any]:
    """Serve `call` from `recording`: emit its timeline, then return or raise."""
    kind = call.kind
    response: Any = None
    error: BaseException | None = None
    origin = dataclasses.replace(origin, recording=recording.get("id"), sequence=recording.get("seq"))
    with _readable(session, recording):
        if recording["outcome"] == "response":
            data = json.loads(recording["response"])
            if not isinstance(data, dict):
                raise TypeError(f"the recorded response is {type(data).__name__}, not an object")
            if needs_media_io(data, kind, cassette.media):
                media_dir = Path(cassette.media_dir) if cassette.media_dir else session.media_dir()
                data = yield Blocking(
                    deliver_media, (session.store, recording["id"], data, kind, cassette.media, media_dir)
                )
            data["origin"] = origin
            response = response_class(kind).model_validate(data)
        else:
            error = decode_error(recording["error"])
            try:
                error.origin = origin  # type: ignore[attr-defined]
            except AttributeError:
                pass
        timeline = decode_timeline(kind, recording["timeline"], response)
        duration = seconds(recording["duration"] or 0.0, "the recorded duration")
    session.note_replayed(recording["id"], duration)
    stats.count("replayed")

    speed = cassette.speed_factor
    if call.on_progress is not None or speed is not None:
        previous = 0.0
        for offset, fields, raw in timeline:
            if speed is not None:
                yield from call.wait(max(offset - previous, 0.0) / speed)
            previous = offset
            if call.on_progress is None:
                continue
            if fields is None:
                yield Emit(call.on_progress, raw)
            else:
                yield from call.emit(**fields)
        if speed is not None:
            yield from call.wait(max(duration - previous, 0.0) / speed)
    if error is not None:
        raise error
    return response


@contextlib.contextmanager
def _readable(session: CassetteSession, recording: dict[str, Any]) -> Iterator[None]:
    """A recording that cannot be decoded is a clear CassetteError, not a parser's traceback."""
    try:
        yield
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, pydantic.ValidationError) as error:
        raise CassetteError(
            f"recording #{recording.get('id')} of cassette {session.path} cannot be read "
            f"(recorded by tarash-gateway {recording.get('library_version') or '?'}): {error}"
        ) from error


@functools.lru_cache(maxsize=64)
def _mock_replay_config(path: str) -> CassetteConfig:
    return CassetteConfig(path=path, record_mode=RecordMode.NONE, allow_playback_repeats=True)


def replay_outcome(call: Call, path: str, origin: Origin) -> Flow[Any]:
    """The mock outcome `MockResponse(replay=path)`: this call replayed from `path`.

    A mock draws this outcome again and again, so once a request's recordings have all
    been replayed its last one keeps being replayed. A recorded error is raised. A call
    the cassette does not hold raises `RecordingNotFoundError` naming the nearest.
    """
    cassette = _mock_replay_config(path)
    session = shared_session(path)
    if not session.ready(create=False):
        yield Blocking(session.open, (False,))
    match = session.match(call.kind, call.config, call.request, cassette)
    recording = yield Blocking(session.lookup, (match, cassette))
    if recording is None:
        raise (yield Blocking(session.miss, (match, cassette)))
    return (yield from replay_recording(call, session, recording, cassette, dataclasses.replace(origin, cassette=path)))
