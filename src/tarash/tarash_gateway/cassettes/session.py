"""A cassette in use: its file, whether it held recordings when this run opened it, and
how many times each request has been asked for.

A `with use_cassette(...)` block has its own session. Cassettes set per config, by
`TARASH_CASSETTE` or by `MockResponse(replay=...)` share one session per file for the
whole process (`shared_session`; `close_cassettes` closes them).

The n-th time an equal request is asked for in a session, it matches the n-th recording
of that request, so repeated identical calls replay in recorded order.
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import CassetteError, RecordingNotFoundError
from ..metadata import Origin
from .config import CassetteConfig, RecordMode
from .lifecycle import describe_age, is_expired, unplayed
from .matching import (
    Candidate,
    canonical_json,
    canonical_request,
    explain_miss,
    legacy_keys,
    match_key,
    request_key,
)
from .protocol import Store, cassette_identity, display_name, is_store_url, media_dir_for, open_store
from .scrub import Scrubber
from .store import BlobSource

if TYPE_CHECKING:  # the codec loads the response models: a raw HTTP replay needs none of them
    from .codec import MediaSlot

__all__ = ["CassetteSession", "Match", "Prepared", "close_cassettes", "opened_shared", "shared_session"]

log = logging.getLogger("tarash.cassettes")


@functools.cache
def library_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # only a recording names it

    try:
        return version("tarash-gateway")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


@dataclass(frozen=True, slots=True)
class Match:
    """One call as the cassette sees it: its canonical request, keys, and how many times
    an equal request was asked for in this session (this one included)."""

    canonical: dict[str, Any]
    key: str
    match_key: str
    index: int
    scrubber: Scrubber


@dataclass(slots=True)
class Prepared:
    """A recording ready to be written (already scrubbed)."""

    kind: str
    provider: str
    model: str
    outcome: str
    response: str | None
    error: str | None
    timeline: str
    duration: float
    slots: list[MediaSlot]


class CassetteSession:
    """A cassette file as used by one `with` block, or by the process.

    `replayed`, `recorded` and `refused` count the calls served so far, and
    `replayed_seconds` adds up how long the replayed calls took when recorded.
    """

    def __init__(self, path: str) -> None:
        #: The cassette as messages and origins name it (a URL without its password).
        self.path = display_name(path)
        self._source = path
        #: What makes two paths this cassette (`protocol.cassette_identity`).
        self.identity = cassette_identity(path)
        #: The cassette file; `None` for a PostgreSQL cassette (a `postgresql://` URL).
        self.file: Path | None = None if is_store_url(path) else Path(os.path.abspath(path))
        self.started = time.time()
        self.existed: bool | None = None
        self.replayed = 0
        self.recorded = 0
        self.refused = 0
        self.replayed_seconds = 0.0
        self._store: Store | None = None
        #: Why recordings could not be written (disk full, read-only ...): the calls still
        #: returned what the provider answered; ``use_cassette`` raises these at its exit.
        self.write_failures: list[str] = []
        #: How many times each recording was replayed in this session (strict replay).
        self.played: dict[int, int] = {}
        #: The last recording id the file held when this session opened it.
        self.held_up_to = 0
        self._warned: set[int] = set()
        self._lock = threading.RLock()
        self._counts: dict[str, int] = {}
        self._slow: dict[tuple[str, ...], dict[str, list[int]]] = {}
        self._legacy: dict[str, list[int]] | None = None

    def __repr__(self) -> str:
        return f"<CassetteSession {self.path} replayed={self.replayed} recorded={self.recorded}>"

    @property
    def store(self) -> Store | None:
        return self._store

    def media_dir(self) -> Path:
        """Where `media="file"` writes media when the config names no `media_dir`."""
        return media_dir_for(self._source)

    def ready(self, *, create: bool) -> bool:
        """Whether `open` has nothing left to do (no I/O needed)."""
        return self._store is not None or (not create and self.existed is not None)

    def open(self, create: bool) -> None:
        """Open the file (blocking). Without `create` a missing file stays missing.

        An existing file is opened read-only, so replaying works on read-only checkouts;
        the store switches to writing at the first recording (see `Store.upgrade`).
        """
        with self._lock:
            if self.ready(create=create):
                return
            store = open_store(self._source, create=create)
            if store is None:
                self.existed = False
                return
            if self.existed is None:
                self.existed = store.has_recordings()
                self.held_up_to = store.max_recording_id()
            self._store = store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()

    # -- matching ----------------------------------------------------------------------

    def match(self, kind: str, config: Any, request: Any, cassette: CassetteConfig) -> Match:
        """The call's canonical request and keys; counts it as asked for once more."""
        scrubber = Scrubber.for_call(config.api_key, config.provider_config, cassette.secret_values, cassette.secret_keys,
                                     request=request.model_dump(exclude_defaults=True))
        canonical = canonical_request(kind, config, request, scrubber)
        key = request_key(canonical)
        mkey = match_key(canonical, cassette.match_on, key)
        with self._lock:
            index = self._counts[mkey] = self._counts.get(mkey, 0) + 1
        return Match(canonical, key, mkey, index, scrubber)

    def lookup(self, match: Match, cassette: CassetteConfig) -> dict[str, Any] | None:
        """The recording this call replays, or `None` (blocking)."""
        store = self._store
        if store is None:
            return None
        repeats = cassette.allow_playback_repeats
        if cassette.default_match:
            found = store.find(match.key, match.index, repeats=repeats)
            return found if found is not None else self._legacy_hit(store, match, repeats)
        ids = self._slow_ids(cassette.match_on).get(match.match_key, [])
        if match.index <= len(ids):
            return store.get(ids[match.index - 1])
        return store.get(ids[-1]) if repeats and ids else None

    def _legacy_ids(self, store: Store, key: str) -> list[int]:
        """Ids of recordings keyed before secrets were left out of keys (built once)."""
        with self._lock:
            if self._legacy is None:
                self._legacy = legacy_keys((r["id"], r["key"], r["request"]) for r in store.redacted_requests())
            return self._legacy.get(key, [])

    def _legacy_hit(self, store: Store, match: Match, repeats: bool) -> dict[str, Any] | None:
        ids = self._legacy_ids(store, match.key)
        if not ids:
            return None
        index = match.index - store.count(match.key)  # after those stored under today's key
        if 0 < index <= len(ids):
            return store.get(ids[index - 1])
        return store.get(ids[-1]) if repeats else None

    def _slow_ids(self, match_on: tuple[str, ...]) -> dict[str, list[int]]:
        """Recording ids grouped by their key under a narrower `match_on` (built once)."""
        with self._lock:
            index = self._slow.get(match_on)
            if index is None and self._store is not None:
                index = {}
                for recording_id, text in self._store.requests():
                    index.setdefault(match_key(json.loads(text), match_on, ""), []).append(recording_id)
                self._slow[match_on] = index
            return index or {}

    def miss(self, match: Match, cassette: CassetteConfig) -> RecordingNotFoundError:
        """The error for a refused call, naming the nearest recordings (blocking)."""
        store, asked = self._store, match.canonical
        count, candidates = 0, []
        if store is not None:
            if cassette.default_match:
                count = store.count(match.key) + len(self._legacy_ids(store, match.key))
            else:
                count = len(self._slow_ids(cassette.match_on).get(match.match_key, []))
            if not count:
                candidates = [
                    Candidate(r["id"], r["provider"], r["model"], r["recorded_at"], json.loads(r["request"]))
                    for r in store.candidates(asked["kind"], asked["provider"], asked["model"])
                ]
        with self._lock:
            self.refused += 1
        message = explain_miss(
            path=self.path,
            mode=cassette.record_mode.value,
            asked=asked,
            match_on=cassette.match_on,
            candidates=candidates,
            recorded_count=count,
            index=match.index,
            exists=store is not None,
        )
        error = RecordingNotFoundError(message, provider=asked["provider"], model=asked["model"])
        # where it came from, like every error: this cassette, which holds no recording for the call
        error.origin = Origin(source="replay", provider=asked["provider"], model=asked["model"],  # type: ignore[attr-defined]
                              cassette=self.path)
        return error

    # -- recording ---------------------------------------------------------------------

    def record(
        self, match: Match, cassette: CassetteConfig, prepared: Prepared, fetched: dict[str, BlobSource] | None = None,
        replace: int | None = None,
    ) -> int | None:
        """Write one recording (blocking); returns its id, or `None` when it could not be
        written.

        The provider has answered (and been paid) by now, so a failed write never costs
        the caller the response: it is logged once, kept in `write_failures`, and
        `use_cassette` raises it when its block exits. `replace` is an expired
        recording this one takes the place of.
        """
        try:
            return self._write(match, cassette, prepared, fetched, replace)
        except CassetteError as error:
            with self._lock:
                self.write_failures.append(str(error))
                first = len(self.write_failures) == 1
            if first:
                log.error("a %s call to %s/%s was not recorded: %s (the call returned normally; further "
                          "failures of this cassette are counted, not logged)", prepared.kind, prepared.provider,
                          prepared.model, error)
            return None

    def _write(
        self, match: Match, cassette: CassetteConfig, prepared: Prepared, fetched: dict[str, BlobSource] | None,
        replace: int | None,
    ) -> int:
        if not self.ready(create=True):
            self.open(True)
        assert self._store is not None
        blobs: list[BlobSource] = []
        media: list[dict[str, Any]] = []
        for slot in prepared.slots:
            source = slot.blob or (fetched or {}).get(slot.slot)
            if source is None:
                continue
            blobs.append(source)
            media.append({"slot": slot.slot, "url": slot.stored_url, "hash": source.hash,
                          "content_type": source.content_type or slot.content_type})
        now = time.time()
        row = {
            "key": match.key,
            "kind": prepared.kind,
            "provider": prepared.provider,
            "model": prepared.model,
            "request": canonical_json(match.canonical),
            "outcome": prepared.outcome,
            "response": prepared.response,
            "error": prepared.error,
            "timeline": prepared.timeline,
            "duration": round(prepared.duration, 6),
            "library_version": library_version(),
            "recorded_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
            "recorded_ts": now,
        }
        replace_before = self.started if cassette.record_mode is RecordMode.ALL else None
        recording_id, _ = self._store.add_recording(row, blobs=blobs, media=media, replace_before=replace_before,
                                                    replace=replace)
        with self._lock:
            self.recorded += 1
            for match_on, index in self._slow.items():
                ids = index.setdefault(match_key(match.canonical, match_on, ""), [])
                if replace in ids:
                    ids[ids.index(replace)] = recording_id
                else:
                    ids.append(recording_id)
        return recording_id

    def note_replayed(self, recording_id: int, duration: float) -> None:
        """Count one replayed call, which took `duration` seconds when it was recorded."""
        with self._lock:
            self.replayed += 1
            self.replayed_seconds += duration
            self.played[recording_id] = self.played.get(recording_id, 0) + 1

    # -- expiry and strict replay --------------------------------------------------------

    def expired(self, recording: dict[str, Any], cassette: CassetteConfig) -> str | None:
        """Why `recording` is expired under `cassette.max_age`, or `None`."""
        if cassette.max_age is None:
            return None
        now = time.time()
        if not is_expired(recording, now, cassette.max_age):
            return None
        return (f"recording #{recording['id']} ({recording['provider']}/{recording['model']}) of cassette "
                f"{self.path} is {describe_age(recording, now)}, older than max_age={_days(cassette.max_age)}")

    def warn_expired(self, recording: dict[str, Any], reason: str) -> None:
        with self._lock:
            if recording["id"] in self._warned:
                return
            self._warned.add(recording["id"])
        log.warning("%s; replayed anyway (on_expired='warn'). Record it afresh with on_expired='rerecord' and "
                    "record_mode='new_episodes', or prune it: tarash cassette ls --expired", reason)

    def expired_error(self, reason: str, cassette: CassetteConfig) -> CassetteError:
        if cassette.on_expired == "rerecord":
            return CassetteError(f"{reason}; on_expired='rerecord' records it afresh only with "
                                 f"record_mode='new_episodes', and this cassette's is {cassette.record_mode.value!r}")
        return CassetteError(f"{reason} (on_expired='error'); record it afresh with on_expired='rerecord' and "
                             "record_mode='new_episodes', or raise max_age")

    def strict_failure(self) -> CassetteError | None:
        """At the end of a strict block: the recordings it held and did not replay.

        The play counts are kept in the cassette, where it can be written, for
        `tarash cassette prune --unused`.
        """
        if self._store is None:
            self.open(False)  # a block that made no call: what did the cassette hold?
        store = self._store
        held = [] if store is None else store.recording_ids(self.held_up_to)
        missed = unplayed(held, self.played)
        if store is not None and held:
            try:
                store.save_plays(self.played, held, datetime.now(UTC).isoformat(timespec="seconds"))
            except CassetteError as error:
                log.warning("the play counts of this strict run were not kept: %s", error)
        if not missed and (self.replayed or self.recorded):
            return None
        if not missed:
            return CassetteError(f"strict replay: nothing was replayed from cassette {self.path}"
                                 + ("" if held else " (it holds no recordings)"))
        rows = store.recordings_by_id(missed[:10]) if store is not None else []
        named = "; ".join(f"#{r['id']} {r['provider']}/{r['model']} {_prompt(r['request'])}" for r in rows)
        more = f" and {len(missed) - 10} more" if len(missed) > 10 else ""
        return CassetteError(
            f"strict replay: {len(missed)} of the {len(held)} recording(s) of cassette {self.path} were not "
            f"replayed: {named}{more}. Remove them with tarash cassette prune --unused {self.path}")


def _days(age: Any) -> str:
    days = age.total_seconds() / 86400
    return f"{days:g} day(s)" if days >= 1 else f"{age.total_seconds() / 3600:g} hour(s)"


def _prompt(request: str) -> str:
    try:
        prompt = json.loads(request).get("request", {}).get("prompt")
    except (ValueError, AttributeError):
        return ""
    return f"prompt {prompt[:40]!r}" if isinstance(prompt, str) else ""


_shared: dict[str, CassetteSession] = {}
_shared_lock = threading.Lock()


def shared_session(path: str) -> CassetteSession:
    """The process-wide session of a cassette file (per-config, environment, mock replay)."""
    file = cassette_identity(path)
    session = _shared.get(file)
    if session is None:
        with _shared_lock:
            if not _shared:
                _close_at_exit()
            session = _shared.setdefault(file, CassetteSession(path))
    return session


def opened_shared(file: str) -> CassetteSession | None:
    """The process-wide session of a cassette identity (`cassette_identity`), if open."""
    return _shared.get(file)


@functools.cache
def _close_at_exit() -> None:
    """Registered once, on first use: the process's cassettes are left self-contained."""
    atexit.register(close_cassettes)


def close_cassettes() -> None:
    """Close the cassettes opened for per-config, environment and mock-replay use.

    They otherwise stay open for the life of the process; the next call reopens them
    (and decides afresh whether each one existed).
    """
    with _shared_lock:
        sessions = list(_shared.values())
        _shared.clear()
    for session in sessions:
        session.close()
