"""Every `httpx` (and `httpx2`) client of the process, through the cassette in force.

`install` patches one private method of `Client` and `AsyncClient`,
`_transport_for_url` (the one place a client picks the transport of a request, in both
modules): while a cassette is in force (`use_cassette`, `TARASH_CASSETTE`, the pytest
marker) the chosen transport is wrapped in a `transport.CassetteTransport` for
that request; otherwise it is returned as it was, for about a microsecond. Clients made
before and after, with or without a transport of their own, are covered alike, vendor
SDKs' internal clients included. A module not imported yet is patched when it is.

Not covered: the gateway's own clients (marked with `own_client`; its calls are
recorded once, at the call level), and clients whose transport is already a cassette
transport.

`start_from_environment` is what the `.pth` hook installed with the package runs
at interpreter start: nothing unless `TARASH_CASSETTE` is set.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import weakref
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any, TypeVar

__all__ = ["MODULES", "install", "installed", "is_own", "own_client", "run_environment", "start_from_environment"]

#: The HTTP client modules covered, where installed.
MODULES = ("httpx", "httpx2")
_MARK = "__tarash_cassette__"
_own: weakref.WeakSet[Any] = weakref.WeakSet()
_lock = threading.Lock()
_installed = False
C = TypeVar("C")


def own_client(client: C) -> C:
    """Mark one of the gateway's own clients: its traffic is never recorded at the HTTP level."""
    _own.add(client)
    return client


def is_own(client: Any) -> bool:
    return client in _own


def installed() -> bool:
    return _installed


def install() -> None:
    """Cover every client of the process (idempotent, cheap after the first call)."""
    global _installed
    if _installed:
        return
    with _lock:
        if _installed:
            return
        waiting = []
        for name in MODULES:
            module = sys.modules.get(name)
            if module is not None:
                _patch(module)
            else:
                waiting.append(name)
        if waiting:
            sys.meta_path.insert(0, _PatchOnImport(frozenset(waiting)))
        for name in MODULES:  # their request log lines name URLs as the cassette keeps them
            logging.getLogger(name).addFilter(_SCRUBBED_URLS)
        _installed = True


class _ScrubbedURLs(logging.Filter):
    """httpx's `HTTP Request: GET <url> "HTTP/1.1 200 OK"` lines (INFO, once a user turns
    logging on), with the secret parameters of their URLs scrubbed as in the cassette:
    the media downloads of a recording, and the app's own requests while recording, must
    not write signed URLs to a CI log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any("://" in str(a) for a in record.args):
            from ..scrub import Scrubber

            scrubber = Scrubber()
            record.args = tuple(scrubber.url(str(a)) if "://" in str(a) else a for a in record.args)
        return True


_SCRUBBED_URLS = _ScrubbedURLs()


def start_from_environment() -> None:
    """The `.pth` hook: with `TARASH_CASSETTE` set, `install` (never a traceback)."""
    if not os.environ.get("TARASH_CASSETTE"):
        return
    try:
        install()
    except Exception as error:  # noqa: BLE001 - the app must start whatever happens here
        sys.stderr.write(f"tarash: HTTP recording is off for this process: {error}\n")


def run_environment(
    base: Mapping[str, str],
    *,
    path: str | None,
    record_mode: str | None = None,
    http: str | None = None,
    hosts: Sequence[str] = (),
) -> dict[str, str]:
    """The environment `tarash run` gives its command: `base` with the cassette
    settings set (the `.pth` hook of every Python process started with it does the rest).

    Raises:
        CassetteError: no cassette given and `TARASH_CASSETTE` is not set.
    """
    from ...exceptions import CassetteError

    env = dict(base)
    path = path or env.get("TARASH_CASSETTE")
    if not path:
        raise CassetteError("no cassette: give --cassette PATH or set TARASH_CASSETTE")
    env["TARASH_CASSETTE"] = os.path.abspath(path)  # the command may change directory
    if record_mode:
        env["TARASH_RECORD_MODE"] = record_mode
    if http:
        env["TARASH_CASSETTE_HTTP"] = http
    if hosts:
        given = [h for h in env.get("TARASH_CASSETTE_HTTP_HOSTS", "").split(",") if h]
        env["TARASH_CASSETTE_HTTP_HOSTS"] = ",".join(dict.fromkeys([*given, *hosts]))
    return env


_pending: list[ModuleType] = []


def _patch(module: ModuleType) -> None:
    transport = sys.modules.get(f"{__package__}.transport")
    if transport is not None and not hasattr(transport, "AsyncCassetteTransport"):
        # Our transport module is importing this client module (httpx, while httpx2 is being
        # patched): the patch that imports it patches this one too once it is complete.
        _pending.append(module)
        return
    from .transport import AsyncCassetteTransport, CassetteTransport

    modules = [module, *_pending]
    _pending.clear()
    for each in modules:
        for client_name, face in (("Client", CassetteTransport), ("AsyncClient", AsyncCassetteTransport)):
            cls = getattr(each, client_name, None)
            original = getattr(cls, "_transport_for_url", None)
            if cls is None or original is None or getattr(original, _MARK, False):
                continue
            cls._transport_for_url = _patched(original, face)


def _patched(original: Any, face: Any) -> Any:
    from ..scope import effective_cassette
    from .transport import _NOTHING, _CassetteTransportBase

    def _transport_for_url(self: Any, url: Any) -> Any:
        transport = original(self, url)
        if isinstance(transport, _CassetteTransportBase) or self in _own:
            return transport
        active = effective_cassette(_NOTHING)
        if active is None or active.config.http == "off":
            return transport
        return face._wrapping(transport, active)

    setattr(_transport_for_url, _MARK, True)
    _transport_for_url.__wrapped__ = original  # type: ignore[attr-defined]
    return _transport_for_url


class _PatchOnImport:
    """Patches a client module right after it is first imported (a meta path finder;
    duck-typed, so the gateway's import pays nothing for `importlib.abc`)."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        self._busy: set[str] = set()

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> Any:
        if fullname not in self.names or fullname in self._busy:
            return None
        import importlib.util

        self._busy.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.discard(fullname)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PatchingLoader(spec.loader)  # type: ignore[assignment]  # a loader by its two methods
        return spec


class _PatchingLoader:
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _patch(module)
