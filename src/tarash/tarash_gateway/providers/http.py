"""HTTP for the built-in providers: one ``Send`` effect and shared, loop-safe clients.

Clients are shared (creating an ``httpx.Client`` costs milliseconds of TLS setup): one
sync client per process, one async client per event loop, so a closed loop never
poisons a later one. Each request carries its own timeout, cut to the call's deadline.
Transport failures are mapped to the gateway's exceptions here, at one boundary.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import itertools
import ssl
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import certifi
import httpx

from ..exceptions import HTTPConnectionError, TimeoutError
from ..flow import Effect

__all__ = ["Send", "async_client", "sync_client"]

_sync: httpx.Client | None = None
_async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[httpx.AsyncClient | None]] = weakref.WeakKeyDictionary()
_turn = itertools.count()
_lock = threading.Lock()
# httpcore scans the connections of a pool on every request and response, counting the
# idle ones for each idle one (O(n^2) per event, plus a syscall per idle connection), so
# one big pool cost 200 concurrent generations ~45 ms of CPU each. Several small pools,
# taken in turn and made on first use, keep each scan short.
_SHARDS = 32
_LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=16)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle costs ~30 ms each time."""
    return ssl.create_default_context(cafile=certifi.where())


def _client(cls: type[Any]) -> Any:
    return cls(limits=_LIMITS, follow_redirects=True, verify=_tls())


def sync_client() -> httpx.Client:
    global _sync
    if _sync is None:
        with _lock:
            if _sync is None:
                _sync = _client(httpx.Client)
                atexit.register(_sync.close)  # close pooled sockets rather than leak them at exit
    return _sync


def async_client() -> httpx.AsyncClient:
    """A client of the running event loop (a client never outlives or changes its loop)."""
    loop = asyncio.get_running_loop()
    clients = _async.get(loop)
    if clients is None:
        clients = _async[loop] = [None] * _SHARDS
    i = next(_turn) % _SHARDS
    client = clients[i]
    if client is None:
        client = clients[i] = _client(httpx.AsyncClient)
    return client


@dataclass(slots=True)
class Send(Effect):
    """Send one request; answers the ``httpx.Response`` whatever its status.

    ``provider``/``model`` name the call in the errors raised for transport failures.
    """

    request: httpx.Request
    provider: str
    model: str

    def run(self) -> httpx.Response:
        try:
            response = sync_client().send(self.request)
            response.read()
            return response
        except httpx.HTTPError as error:
            raise self._mapped(error) from error

    async def arun(self) -> httpx.Response:
        try:
            response = await async_client().send(self.request)
            await response.aread()
            return response
        except httpx.HTTPError as error:
            raise self._mapped(error) from error

    def _mapped(self, error: httpx.HTTPError) -> Exception:
        where = f"{self.request.method} {self.request.url.copy_with(query=None)}"
        if isinstance(error, httpx.TimeoutException):
            return TimeoutError(f"{where} timed out", provider=self.provider, model=self.model)
        return HTTPConnectionError(f"{where} failed: {error}", provider=self.provider, model=self.model)

