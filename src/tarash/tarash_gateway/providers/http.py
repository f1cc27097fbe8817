"""HTTP for the built-in providers: one ``Send`` effect and shared, loop-safe clients.

Clients are shared (creating an ``httpx.Client`` costs milliseconds of TLS setup): one
sync client per process, one async client per event loop, so a closed loop never
poisons a later one. Each request carries its own timeout, cut to the call's deadline.
Transport failures are mapped to the gateway's exceptions here, at one boundary.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass

import httpx

from ..exceptions import HTTPConnectionError, TimeoutError
from ..flow import Effect

__all__ = ["Send", "async_client", "sync_client"]

_sync: httpx.Client | None = None
_async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_LIMITS = httpx.Limits(max_connections=400, max_keepalive_connections=100)


def sync_client() -> httpx.Client:
    global _sync
    if _sync is None:
        with _lock:
            if _sync is None:
                _sync = httpx.Client(limits=_LIMITS, follow_redirects=True)
    return _sync


def async_client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _async.get(loop)
    if client is None:
        client = _async[loop] = httpx.AsyncClient(limits=_LIMITS, follow_redirects=True)
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

