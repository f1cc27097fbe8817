"""HTTP for the built-in providers: one `Send` effect, and the clients it sends with.

- Sync face: one shared `httpx.Client` for the process (thread-safe, keep-alive across
  calls), closed at exit.
- Async face: one `httpx.AsyncClient` per generation (`async_call_client`, entered
  by the adapter), closed when the generation ends. It never outlives or changes its
  event loop, keeps its connection across the submit, polls and result of that
  generation, and leaves no socket behind after `asyncio.run`. Small pools also keep
  httpcore's per-event scan of its connections short under hundreds of concurrent
  generations.

All clients share one TLS context (loading the CA bundle costs ~30 ms each time). Each
request carries its own timeout, cut to the call's deadline, and the
`default_headers` every HTTP client sends (`User-Agent: tarash-gateway/<version>`,
`Accept`, `Accept-Encoding`): requests are built as `httpx.Request` objects, which
skip a client's own defaults, and some API fronts refuse a request without a user agent.
Transport failures are mapped to the gateway's exceptions here, at one boundary.

An answer replayed by vcrpy through our `SQLitePersister` carries its mark
(`cassettes.persister.REPLAY_HEADER`): `Send` takes it off (the provider never sent
it) and notes it for `noting_replays`, so the call reports a replay.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import certifi
import httpx

from ..cassettes.http.hook import own_client
from ..exceptions import HTTPConnectionError, TimeoutError
from ..flow import Effect

__all__ = ["Send", "async_call_client", "default_headers", "noting_replays", "sync_client"]

_sync: httpx.Client | None = None
_lock = threading.Lock()
_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=16)
_call_client: ContextVar[httpx.AsyncClient | None] = ContextVar("tarash_call_client", default=None)
_replays: ContextVar[list[str] | None] = ContextVar("tarash_http_replays", default=None)
#: `cassettes.persister.REPLAY_HEADER` (spelled out: that module loads the cassette store)
_REPLAY_HEADER = "x-tarash-replay"


@contextlib.contextmanager
def noting_replays() -> Iterator[list[str]]:
    """Collect, in order, the replay marks of the answers `Send` gets inside the block."""
    marks: list[str] = []
    token = _replays.set(marks)
    try:
        yield marks
    finally:
        _replays.reset(token)


def _noted(response: httpx.Response) -> httpx.Response:
    mark = response.headers.get(_REPLAY_HEADER)
    if mark is not None:
        del response.headers[_REPLAY_HEADER]
        marks = _replays.get()
        if marks is not None:
            marks.append(mark)
    return response


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle costs ~30 ms each time."""
    return ssl.create_default_context(cafile=certifi.where())


def default_headers() -> httpx.Headers:
    """The headers every provider request starts from (a fresh copy); a provider's own win."""
    return _defaults().copy()


@functools.cache
def _defaults() -> httpx.Headers:
    # once per process: the version lookup reads package metadata, and a copy of headers
    # already normalised costs a list copy, not three encodings
    try:
        own = version("tarash-gateway")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        own = "0.0.0"
    # gzip and deflate are the encodings httpx always decodes (br and zstd need extras).
    return httpx.Headers({
        "User-Agent": f"tarash-gateway/{own}",
        "Accept": "application/json",
        "Accept-Encoding": "gzip, deflate",
    })


def _client(cls: type[Any]) -> Any:
    # marked as the gateway's own: its calls are recorded at the call level, never again as raw HTTP
    return own_client(cls(limits=_LIMITS, follow_redirects=True, verify=_tls()))


def sync_client() -> httpx.Client:
    global _sync
    if _sync is None:
        with _lock:
            if _sync is None:
                _sync = _client(httpx.Client)
                atexit.register(_sync.close)  # close pooled sockets rather than leak them at exit
    return _sync


@contextlib.asynccontextmanager
async def async_call_client() -> AsyncIterator[httpx.AsyncClient]:
    """The async client of one generation: every `Send` inside the block uses it."""
    async with _client(httpx.AsyncClient) as client:
        token = _call_client.set(client)
        try:
            yield client
        finally:
            _call_client.reset(token)


@dataclass(slots=True)
class Send(Effect):
    """Send one request; answers the `httpx.Response` whatever its status.

    `provider`/`model` name the call in the errors raised for transport failures.
    """

    request: httpx.Request
    provider: str
    model: str

    def run(self) -> httpx.Response:
        try:
            response = sync_client().send(self.request)
            response.read()
            return _noted(response)
        except httpx.HTTPError as error:
            raise self._mapped(error) from error

    async def arun(self) -> httpx.Response:
        client = _call_client.get()
        if client is None:  # a Send outside a generation: a client for this one request
            async with async_call_client():
                return await self.arun()
        try:
            response = await client.send(self.request)
            await response.aread()
            return _noted(response)
        except httpx.HTTPError as error:
            raise self._mapped(error) from error

    def _mapped(self, error: httpx.HTTPError) -> Exception:
        where = f"{self.request.method} {self.request.url.copy_with(query=None)}"
        if isinstance(error, httpx.TimeoutException):
            return TimeoutError(f"{where} timed out", provider=self.provider, model=self.model)
        return HTTPConnectionError(f"{where} failed: {error}", provider=self.provider, model=self.model)

