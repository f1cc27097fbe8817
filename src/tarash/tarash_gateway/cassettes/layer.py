"""The record layer: replays a hit, records a miss, or refuses, per record mode.

It sits above the mock or provider leaf of each attempt's stack (see `stack`),
and only when a cassette is in force, so calls without one pay nothing. The decision is
`policy.decide`; everything that touches the file runs as `Blocking` effects,
inline on the sync face and in a worker thread on the async face.
"""

from __future__ import annotations

from typing import Any

from .. import stats
from ..call import Call
from ..clock import current_clock
from ..flow import Blocking, Flow
from ..layers import Layer
from .codec import encode_error, encode_response, encode_timeline, is_recordable
from .config import RecordMode
from .media import close_fetched, fetch_media
from .policy import Decision, decide, needs_lookup
from .replay import replay_origin, replay_recording
from .scope import ActiveCassette
from .session import Match, Prepared

__all__ = ["RecordLayer"]


class RecordLayer(Layer):
    """Records and replays the calls of one attempt through `active` (config + session)."""

    def __init__(self, next: Layer, active: ActiveCassette) -> None:  # noqa: A002 - the stack's word
        super().__init__(next)
        self.active = active

    def flow(self, call: Call) -> Flow[Any]:
        cassette, session = self.active.config, self.active.session
        mode = cassette.record_mode
        create = mode is not RecordMode.NONE
        if not session.ready(create=create):
            yield Blocking(session.open, (create,))
        match = session.match(call.kind, call.config, call.request, cassette)
        existed = bool(session.existed)
        recording = None
        if needs_lookup(mode, existed=existed):
            recording = yield Blocking(session.lookup, (match, cassette))
        expired = None if recording is None else session.expired(recording, cassette)
        decision = decide(mode, existed=existed, hit=recording is not None, expired=expired is not None,
                          on_expired=cassette.on_expired)
        if decision is Decision.REPLAY:
            assert recording is not None
            if expired is not None:
                session.warn_expired(recording, expired)
            return (yield from replay_recording(call, session, recording, cassette, replay_origin(call, session)))
        if decision is Decision.REFUSE:
            raise (yield Blocking(session.miss, (match, cassette)))
        if decision is Decision.EXPIRED:
            assert expired is not None
            raise session.expired_error(expired, cassette)
        return (yield from self._record(call, match, None if expired is None or recording is None else recording["id"]))

    def _record(self, call: Call, match: Match, replace: int | None = None) -> Flow[Any]:
        cassette, session = self.active.config, self.active.session
        clock = current_clock()
        started = clock.monotonic()
        timeline: list[tuple[float, Any]] = []
        user_callback = call.on_progress

        def capture(update: Any) -> Any:
            timeline.append((clock.monotonic() - started, update))
            return None if user_callback is None else user_callback(update)

        config = call.config
        try:
            response = yield self.call_next(call.replace(on_progress=capture))
        except Exception as error:
            if is_recordable(error):
                prepared = Prepared(
                    kind=call.kind, provider=config.provider, model=config.model, outcome="error",
                    response=None, error=encode_error(error, match.scrubber),
                    timeline=encode_timeline(timeline, None, match.scrubber),
                    duration=clock.monotonic() - started, slots=[],
                )
                if (yield Blocking(session.record, (match, cassette, prepared, None, replace))) is not None:
                    stats.count("recorded")
            raise
        duration = clock.monotonic() - started
        body, slots = encode_response(call.kind, response, match.scrubber)
        prepared = Prepared(
            kind=call.kind, provider=config.provider, model=config.model, outcome="response",
            response=body, error=None, timeline=encode_timeline(timeline, response, match.scrubber),
            duration=duration, slots=slots,
        )
        fetched = None
        try:
            if cassette.capture_media and any(slot.url for slot in slots):
                fetched = yield Blocking(fetch_media, (slots,))
            if (yield Blocking(session.record, (match, cassette, prepared, fetched, replace))) is not None:
                stats.count("recorded")
        finally:
            close_fetched(fetched)
        return response
