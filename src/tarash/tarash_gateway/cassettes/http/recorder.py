"""The HTTP level's core: one request in, replayed, recorded or refused, written once as a
flow that both transport faces drive (see `flow`).

Per request: is it in scope (`http` mode, hosts)? If not, it goes to the wrapped
transport untouched. Else its canonical key (`keys`) and its step in a provider's
job flow (`flows`) are worked out, and `policy.decide` says replay, record
or refuse, exactly as for the gateway's calls. The n-th equal request of a session
replays the n-th recording; a poll replays its job's terminal answer at once
(`collapse_polls`) and keeps getting it; captured media keeps being served.

Everything that touches the cassette (a file or a PostgreSQL cassette, through the
`protocol.Store` they share) runs as `Blocking` effects. `HttpState` holds
what one cassette session knows about HTTP (counts, hosts, media downloads in flight).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...exceptions import CassetteError, RecordingNotFoundError
from ...flow import Blocking, Effect, Flow
from ..config import CassetteConfig, RecordMode
from ..policy import Decision, decide, needs_lookup
from ..protocol import Store
from ..scope import ActiveCassette
from ..scrub import Scrubber
from ..session import CassetteSession
from ..store import BlobSource, check_digest
from .explain import explain_exchange_miss
from .flows import MEDIA, POLL, PROVIDER_HOSTS, RESULT, SUBMIT, Step, classify, host_matches, media_urls, outcome
from .keys import canonical_body, canonical_url, content_type_of, request_key, uses_secret_values

if TYPE_CHECKING:  # loaded by the first recording that names media: a replay never needs it
    from .capture import MediaCapture

__all__ = ["Answer", "HttpState", "Sent", "exchange", "finish", "state_of"]

log = logging.getLogger("tarash.cassettes")
INLINE = 8 << 20  # answers up to this size come back with the lookup; bigger ones stream
_DROPPED = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"})


@dataclass(slots=True)
class Sent:
    """A request as the cassette sees it (any HTTP module's request, as plain values)."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes = b""


@dataclass(slots=True)
class Answer:
    """An answer for the app: in memory (`body`), or a big recorded body (`blob`)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    blob: tuple[Store, str, int] | None = None
    replayed: bool = False


@dataclass(slots=True)
class _Request:
    """One request, worked out: its key, canonical JSON, step and scrubber.

    `learned` is the cassette's scrubber that has learned the secret values the request
    carries; when its key did not need them (no body, no secret query parameter) it is
    learned on first use (`scrubber`), which a replay never makes.
    """

    sent: Sent
    host: str
    path: str
    key: str
    canonical: str
    step: Step
    base: Scrubber
    learned: Scrubber | None = None
    index: int = 0
    media: bool = False

    @property
    def scrubber(self) -> Scrubber:
        if self.learned is None:
            self.learned = _learned(self.base, self.sent)
        return self.learned


@dataclass
class HttpState:
    """What one cassette session knows about its HTTP traffic (thread-safe).

    `hosts` says, per host asked about, whether the file holds exchanges of it: learned
    one indexed lookup at a time, never by reading the whole table when the file opens.
    """

    session: CassetteSession
    existed: bool | None = None
    hosts: dict[str, bool] = field(default_factory=dict)
    media_keys: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    capture: MediaCapture | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    prepared: bool = False

    def prepare(self, create: bool) -> None:
        """Open the file (blocking); learn once whether it held recordings."""
        session = self.session
        if not session.ready(create=create):
            session.open(create)
        with self.lock:
            store = session.store
            if self.existed is None or (store is not None and not self.prepared):
                held = store is not None and store.has_exchanges()
                self.existed = bool(session.existed) or held
                self.prepared = store is not None

    def holds_host(self, host: str) -> bool:
        """Whether the file holds exchanges of `host` (blocking; learned once per host)."""
        if not self.ready(False):
            self.prepare(False)  # read only: unrelated traffic creates no file
        store = self.session.store
        held = store is not None and store.holds_host(host)
        with self.lock:
            held = self.hosts[host] = self.hosts.get(host, False) or held
        return held

    def ready(self, create: bool) -> bool:
        return self.existed is not None and (self.prepared or not create) and self.session.ready(create=create)

    def count(self, key: str) -> int:
        with self.lock:
            index = self.counts[key] = self.counts.get(key, 0) + 1
        return index


_states: weakref.WeakKeyDictionary[CassetteSession, HttpState] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()
_at_exit: Callable[[], None] | None = None


def state_of(session: CassetteSession) -> HttpState:
    state = _states.get(session)
    if state is None:
        global _at_exit
        with _states_lock:
            if not _at_exit:
                # the process-wide cassette (TARASH_CASSETTE) has no block to end: its media finish at exit
                _at_exit = atexit.register(_finish_all)
            state = _states.setdefault(session, HttpState(session))
    return state


def _finish_all() -> None:
    for session in list(_states):
        finish(session)


def finish(session: CassetteSession) -> None:
    """Wait for the media downloads started for a session; then release their client."""
    state = _states.get(session)
    if state is not None and state.capture is not None:
        state.capture.finish()


def named_in_scope(config: CassetteConfig, host: str, port: int | None) -> bool:
    """Whether the settings alone put a host in scope (`all`, a provider, `http_hosts`)."""
    if config.http == "all":
        return True
    return host_matches(host, port, PROVIDER_HOSTS) or host_matches(host, port, config.http_hosts)


def exchange(active: ActiveCassette, sent: Sent, forward: Callable[[bool], Effect], read: Effect) -> Flow[Any]:
    """Serve one request: an `Answer`, or the untouched answer of `forward(False)`.

    `forward(True)` sends the request on and reads the whole answer (an `Answer`);
    `read` reads the request's body (it may be a stream).
    """
    config, state = active.config, state_of(active.session)
    parts = urlsplit(sent.url)
    host, port = (parts.hostname or "").lower(), parts.port
    if config.http == "off":
        return (yield forward(False))
    if not named_in_scope(config, host, port):  # in scope only if the cassette holds the host already
        held = state.hosts.get(host)
        if held is None:
            held = yield Blocking(state.holds_host, (host,))
        if not held:
            return (yield forward(False))
    mode = config.record_mode
    create = mode is not RecordMode.NONE
    if not state.ready(create):
        yield Blocking(state.prepare, (create,))
    sent.body = yield read
    request = _work_out(sent, host, parts.path, config, state)
    existed = bool(state.existed)
    row = None
    if needs_lookup(mode, existed=existed):
        row = yield Blocking(_lookup, (state, request, config))
    decision = decide(mode, existed=existed, hit=row is not None)
    if decision is Decision.REPLAY:
        assert row is not None
        return _answer(state.session, row)
    if decision is Decision.REFUSE:
        raise (yield Blocking(_miss, (state, request, config)))
    answer = yield forward(True)
    yield Blocking(_record, (state, request, answer, config))
    return answer


def _learned(scrubber: Scrubber, sent: Sent) -> Scrubber:
    headers: dict[str, list[str]] = {}
    for name, value in sent.headers:
        headers.setdefault(name, []).append(value)
    return scrubber.learn(headers, sent.url)


def _work_out(sent: Sent, host: str, path: str, config: CassetteConfig, state: HttpState) -> _Request:
    base = Scrubber(config.secret_values, config.secret_keys)
    # the key asks the learned values only of a body or a query with a secret name in it
    learned = _learned(base, sent) if sent.body or uses_secret_values(sent.url, base) else None
    scrubber = learned or base
    body = canonical_body(sent.body, content_type_of(sent.headers), scrubber)
    key, text = request_key(sent.method, canonical_url(sent.url, scrubber), body)
    parsed = body.get("json") if isinstance(body, dict) else None
    step = classify(sent.method, host, path, parsed)
    request = _Request(sent, host, path, key, text, step, base, learned, state.count(key))
    request.media = step.role == MEDIA or key in state.media_keys
    return request


def _lookup(state: HttpState, request: _Request, config: CassetteConfig) -> dict[str, Any] | None:
    store = state.session.store
    if store is None:
        return None
    poll = request.step.role == POLL
    if poll and config.collapse_polls:  # only a terminal answer: a job still running is polled live
        row = store.find_exchange(request.key, None, inline=INLINE)
        return row if row is not None and row["terminal"] else None
    row = store.find_exchange(request.key, request.index, inline=INLINE)
    if row is None:
        last = store.find_exchange(request.key, None, inline=INLINE)
        if last is None:
            return None
        if (poll and last["terminal"]) or request.media or last["role"] == MEDIA or config.allow_playback_repeats:
            return last
    return row


def _answer(session: CassetteSession, row: dict[str, Any]) -> Answer:
    headers = list(_headers(row["headers"]))
    digest = row["response_body"]
    if digest is None:
        return Answer(row["status"], headers, b"", replayed=True)
    where = f"cassette {session.path}, HTTP exchange #{row['id']}"
    check_digest(digest, where)
    body = row["body"]
    if body is None:
        if row["body_size"] is None:
            raise CassetteError(f"{where}: its body (blob {digest[:12]}...) is missing; the file was damaged")
        store = session.store
        assert store is not None
        return Answer(row["status"], headers, blob=(store, digest, row["body_size"]), replayed=True)
    if hashlib.sha256(body).hexdigest() != digest:
        raise CassetteError(f"{where}: its body holds other bytes than its hash says; the file was damaged or edited")
    return Answer(row["status"], headers, bytes(body), replayed=True)


@functools.lru_cache(maxsize=256)  # the answers of one API mostly carry the same headers
def _headers(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in json.loads(text))


def _miss(state: HttpState, request: _Request, config: CassetteConfig) -> RecordingNotFoundError:
    store = state.session.store
    count = store.count_exchanges(request.key) if store is not None else 0
    candidates = store.exchange_candidates(request.host, request.path) if store is not None and not count else []
    message = explain_exchange_miss(
        path=state.session.path, mode=config.record_mode.value, asked=json.loads(request.canonical),
        candidates=candidates, recorded_count=count, index=request.index, exists=store is not None,
        unfinished=request.step.role == POLL,
    )
    return RecordingNotFoundError(message, provider=request.step.provider)


def clean_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """An answer's headers as the app gets them: decoded body, so no encoding or length."""
    return [(k, v) for k, v in headers if k.lower() not in _DROPPED]


def _scrubbed_headers(scrubber: Scrubber, headers: list[tuple[str, str]]) -> list[list[str]]:
    return [[k, scrubber.headers({k: v})[k]] for k, v in headers]


def _record(state: HttpState, request: _Request, answer: Answer, config: CassetteConfig) -> None:
    """Write one exchange (blocking) and start capturing the media its answer names."""
    scrubber, sent = request.scrubber, request.sent
    ctype = content_type_of(answer.headers)
    parsed = _json(answer.body, ctype)
    terminal, job = outcome(request.step, answer.status, parsed)
    urls = _media(request, answer, parsed, terminal)
    role = MEDIA if request.media else request.step.role
    stored_request = scrubber.body(sent.body, content_type_of(sent.headers))
    stored_answer = scrubber.body(answer.body, ctype)
    blobs = [BlobSource.of(b) for b in (stored_request, stored_answer) if b]
    now = time.time()
    row = {
        "key": request.key, "method": sent.method.upper(), "url": scrubber.url(sent.url), "host": request.host,
        "path": request.path, "request": request.canonical, "status": answer.status,
        "headers": json.dumps(_scrubbed_headers(scrubber, answer.headers), separators=(",", ":")),
        "request_body": BlobSource.of(stored_request).hash if stored_request else None,
        "response_body": BlobSource.of(stored_answer).hash if stored_answer else None,
        "provider": request.step.provider, "role": role, "job": job, "terminal": int(terminal),
        "recorded_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"), "recorded_ts": now,
    }
    replace_before = state.session.started if config.record_mode is RecordMode.ALL else None
    session = state.session
    try:
        if session.store is None:
            session.open(True)
        store = session.store
        assert store is not None
        store.add_exchange(row, blobs, replace_before=replace_before)
    except CassetteError as error:  # the app keeps the answer it paid for; the block raises it at its end
        session.write_failures.append(str(error))
        log.error("HTTP exchange %s %s was not recorded: %s", row["method"], str(row["url"])[:120], error)
        return
    if urls and config.capture_media:
        _capture(state, request, urls, config)


def _json(body: bytes, ctype: str) -> Any:
    if not body or not ("json" in ctype.lower() or body[:1] in (b"{", b"[")):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _media(request: _Request, answer: Answer, parsed: Any, terminal: bool) -> list[str]:
    step = request.step
    if answer.status >= 400 or not (terminal or step.role in (RESULT, SUBMIT)):
        return []
    urls = media_urls(step, parsed)
    if step.provider == "openai" and step.role == POLL and isinstance(parsed, dict) and parsed.get("status") == "completed":
        urls.append(request.sent.url.split("?", 1)[0].rstrip("/") + "/content")
    return urls


def _capture(state: HttpState, request: _Request, urls: list[str], config: CassetteConfig) -> None:
    with state.lock:
        if state.capture is None:
            from .capture import MediaCapture

            state.capture = MediaCapture(state.session)
        capture = state.capture
    for url in urls:
        scrubber = Scrubber(config.secret_values, config.secret_keys)
        key, _ = request_key("GET", canonical_url(url, scrubber), None)
        host = (urlsplit(url).hostname or "").lower()
        with state.lock:
            if key in state.media_keys:
                continue
            state.media_keys.add(key)
            state.hosts[host] = True
        same_host = host == request.host  # OpenAI content, Google files: the request's auth applies
        headers = [(k, v) for k, v in request.sent.headers if k.lower() not in ("content-type", "content-length", "host")] \
            if same_host else []
        capture.submit(url, key, headers, request.step, scrubber.learn(dict(headers)) if headers else scrubber, config)
