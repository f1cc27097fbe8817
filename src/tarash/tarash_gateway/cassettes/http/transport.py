"""`CassetteTransport` and `AsyncCassetteTransport`: httpx transports that record and
replay through a cassette, wrapping another transport.

As httpx's own transports: two classes, one method each (`handle_request`,
`handle_async_request`), over one core (`recorder.exchange`, a flow); the faces
only do their I/O. They serve `httpx` and `httpx2` clients alike: the answer is built
with the module of the request it answers.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from ...exceptions import CassetteError
from ...flow import Effect, Flow, run_async, run_sync
from ..config import CassetteConfig
from ..protocol import Store, cassette_identity
from ..scope import ActiveCassette, effective_cassette
from ..session import CassetteSession, shared_session
from ..store import CHUNK
from .recorder import Answer, Sent, clean_headers, exchange, finish

__all__ = ["AsyncCassetteTransport", "CassetteTransport"]


@dataclass(frozen=True, slots=True)
class _Own:
    """What `scope.effective_cassette` reads of a config: its own cassette."""

    cassette: CassetteConfig | None


_NOTHING = _Own(None)


@dataclass(slots=True)
class _Forward(Effect):
    """Send the request on; with `whole`, read the whole (decoded) answer into an `Answer`."""

    transport: Any
    request: Any
    whole: bool

    def run(self) -> Any:
        response = self.transport.handle_request(self.request)
        if not self.whole:
            return response
        try:
            return Answer(response.status_code, clean_headers(response.headers.multi_items()), response.read())
        finally:
            response.close()

    async def arun(self) -> Any:
        response = await self.transport.handle_async_request(self.request)
        if not self.whole:
            return response
        try:
            return Answer(response.status_code, clean_headers(response.headers.multi_items()), await response.aread())
        finally:
            await response.aclose()


@dataclass(slots=True)
class _ReadBody(Effect):
    """The request's body, read (it may be a stream)."""

    request: Any

    def run(self) -> bytes:
        return self.request.read()

    async def arun(self) -> bytes:
        return await self.request.aread()


def _module(request: Any) -> Any:
    """`httpx` or `httpx2`: the module whose request this is."""
    return sys.modules[type(request).__module__.partition(".")[0]]


class _CassetteTransportBase:
    """What both faces share: the cassette settings and the flow of one request."""

    _next: Any
    _fixed: ActiveCassette | None

    def __init__(self, path: str | None = None, *, transport: Any = None, **options: Any) -> None:
        options.setdefault("http", "all")  # a transport given to a client records what that client sends
        if path is not None:
            options["path"] = path
        self._config = _Own(CassetteConfig(**options))
        self._next = transport
        self._fixed = None
        self._session: CassetteSession | None = None

    @classmethod
    def _wrapping(cls, transport: Any, active: ActiveCassette) -> Any:
        """A transport for one request of a client the installer covers."""
        wrapper = cls.__new__(cls)
        wrapper._next, wrapper._fixed, wrapper._session = transport, active, None
        return wrapper

    def _active(self) -> ActiveCassette | None:
        if self._fixed is not None:
            return self._fixed
        own = self._config.cassette
        assert own is not None
        if own.path is None and effective_cassette(_NOTHING) is None:
            return None  # no path of its own and no cassette in force: a plain transport
        active = effective_cassette(self._config)
        if active is None or own.path is None or active.session.identity != cassette_identity(own.path):
            return active
        if active.session is shared_session(own.path):  # not the block's: a session of its own, as a block has
            if self._session is None:
                self._session = CassetteSession(own.path)
            return ActiveCassette(active.config, self._session)
        return active

    def _flow(self, request: Any, active: ActiveCassette, transport: Any) -> Flow[Any]:
        sent = Sent(request.method, str(request.url), list(request.headers.multi_items()))
        return exchange(active, sent, lambda whole: _Forward(transport, request, whole), _ReadBody(request))

    def _finish(self) -> None:
        """Wait for the media downloads started through this transport; close its session."""
        if self._fixed is None and self._session is not None:
            finish(self._session)
            self._session.close()

    @staticmethod
    def _response(request: Any, answer: Answer, content: Any) -> Any:
        return _module(request).Response(answer.status, headers=answer.headers, content=content, request=request)


class CassetteTransport(_CassetteTransportBase, httpx.BaseTransport):
    """An httpx transport that records and replays through a cassette.

    Args:
        path: the cassette file (or a `postgresql://` URL); left out, the cassette in force (`use_cassette`,
            `TARASH_CASSETTE`) is used, and without one requests pass through.
        transport: the transport to wrap (default: a new `HTTPTransport`).
        **options: any `config.CassetteConfig` field (`record_mode`,
            `collapse_polls`, `secret_keys` ...). `http` defaults to `"all"`:
            everything the client sends goes through the cassette.

    Examples:
        >>> client = httpx.Client(transport=CassetteTransport("cassettes/run.db"))  # doctest: +SKIP
        >>> OpenAI(http_client=client).images.generate(prompt="a red fox")  # doctest: +SKIP
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._next
        if transport is None:
            transport = self._next = _module(request).HTTPTransport()
        active = self._active()
        if active is None:
            return transport.handle_request(request)
        result = run_sync(self._flow(request, active, transport))
        if not isinstance(result, Answer):
            return result
        content = _blob_chunks(*result.blob) if result.blob is not None else result.body
        return self._response(request, result, content)

    def close(self) -> None:
        self._finish()
        if self._next is not None:
            self._next.close()


class AsyncCassetteTransport(_CassetteTransportBase, httpx.AsyncBaseTransport):
    """The async face of `CassetteTransport` (same arguments).

    Examples:
        >>> client = httpx.AsyncClient(transport=AsyncCassetteTransport("cassettes/run.db"))  # doctest: +SKIP
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._next
        if transport is None:
            transport = self._next = _module(request).AsyncHTTPTransport()
        active = self._active()
        if active is None:
            return await transport.handle_async_request(request)
        result = await run_async(self._flow(request, active, transport))
        if not isinstance(result, Answer):
            return result
        content: Any = result.body
        if result.blob is not None:
            import asyncio  # loaded already: this runs on an event loop (a sync-only replay never imports it)

            spool = await asyncio.to_thread(_spooled, *result.blob)
            content = _spool_chunks(spool)
        return self._response(request, result, content)

    async def aclose(self) -> None:
        import asyncio

        await asyncio.to_thread(self._finish)
        if self._next is not None:
            await self._next.aclose()


def _blob_chunks(store: Store, digest: str, size: int) -> Iterator[bytes]:
    """A big recorded body, streamed and checked against its hash at the end."""
    hasher, seen = hashlib.sha256(), 0
    for chunk in store.iter_blob(digest):
        hasher.update(chunk)
        seen += len(chunk)
        yield chunk
    if hasher.hexdigest() != digest or seen != size:
        raise CassetteError(f"cassette {store.path}: blob {digest[:12]}... holds other bytes than its hash says")


def _spooled(store: Store, digest: str, size: int) -> Any:
    spool = tempfile.TemporaryFile()
    try:
        for chunk in _blob_chunks(store, digest, size):
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


async def _spool_chunks(spool: Any) -> AsyncIterator[bytes]:
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()
