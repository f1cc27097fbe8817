"""The bottom of the stack for real calls: a registered handler or a built-in provider.

Errors foreign to the gateway (httpx's, the builtins' timeouts and connection errors)
are mapped to the exception tree here, at one boundary, most specific first.
"""

from __future__ import annotations

import builtins
import inspect
import sys
from typing import TYPE_CHECKING, Any

from . import exceptions as exc
from .call import Call
from .exceptions import raised_by_callback
from .flow import Emit, _await_in_private_loop
from .layers import Layer
from .metadata import Origin
from .providers import builtin_providers, get_provider
from .registry import get_handler, registered_providers

if TYPE_CHECKING:
    import asyncio

    import httpx

__all__ = ["ProviderLayer", "builtin_adapter", "map_foreign_error"]


class ProviderLayer(Layer):
    """Calls the provider named by `call.config.provider`.

    A registered handler is called on the face it was written for: its async method on
    the async face, its sync method on the sync face. A handler with only an async
    method serves the sync face on a private event loop (with the caller's context);
    one with only a sync method serves the async face in a worker thread, its progress
    reports handed back to the caller's event loop.
    """

    def handle(self, call: Call) -> Any:
        handler = get_handler(call.config.provider)
        if handler is None:
            from .providers.http import noting_replays

            with noting_replays() as replays:
                try:
                    return _replayed(builtin_adapter(call).handle(call), replays)
                except Exception as error:
                    _stamp_error(error, call, replays)
                    raise
        sync, asynchronous = _methods(handler, call)
        try:
            if sync is not None:
                response = sync(call.config, call.request, _progress(call))
            else:
                assert asynchronous is not None  # _methods refuses a handler with neither
                response = _await_in_private_loop(asynchronous(call.config, call.request, _aprogress(call)))
        except Exception as error:
            mapped = _stamp_error(map_foreign_error(error, call), call)
            if mapped is error:
                raise
            raise mapped from error
        return _stamp(response, call)

    async def ahandle(self, call: Call) -> Any:
        handler = get_handler(call.config.provider)
        if handler is None:
            from .providers.http import noting_replays

            with noting_replays() as replays:
                try:
                    return _replayed(await builtin_adapter(call).ahandle(call), replays)
                except Exception as error:
                    _stamp_error(error, call, replays)
                    raise
        sync, asynchronous = _methods(handler, call)
        try:
            if asynchronous is not None:
                response = await asynchronous(call.config, call.request, _aprogress(call))
            else:  # only a sync method: keep the event loop free
                import asyncio  # loaded already: this runs on an event loop

                progress = _threaded_progress(call, asyncio.get_running_loop())
                response = await asyncio.to_thread(sync, call.config, call.request, progress)
        except Exception as error:
            mapped = _stamp_error(map_foreign_error(error, call), call)
            if mapped is error:
                raise
            raise mapped from error
        return _stamp(response, call)


def builtin_adapter(call: Call) -> Any:
    """The built-in adapter of `call`'s provider; an unknown name is a `ValidationError` listing the known."""
    adapter = get_provider(call.config.provider)
    if adapter is None:
        known = sorted({*builtin_providers(), *registered_providers()})
        raise exc.ValidationError(
            f"unknown provider {call.config.provider!r}; known: {', '.join(known) or 'none'} "
            "(register your own with register_provider, or mock it with mock=MockConfig(validate=False))",
            provider=call.config.provider,
            model=call.config.model,
        )
    return adapter


def _methods(handler: Any, call: Call) -> tuple[Any, Any]:
    """The handler's sync method and its coroutine method for this kind (either may be None).

    A method named `..._async` that is not a coroutine function counts as sync.
    """
    sync = getattr(handler, f"generate_{call.kind}", None)
    maybe_async = getattr(handler, f"generate_{call.kind}_async", None)
    asynchronous = maybe_async if inspect.iscoroutinefunction(maybe_async) else None
    if sync is None and maybe_async is not None and asynchronous is None:
        sync = maybe_async
    if sync is None and asynchronous is None:
        raise exc.ValidationError(
            f"provider {call.config.provider!r} does not generate {call.kind}s",
            provider=call.config.provider,
            model=call.config.model,
        )
    return sync, asynchronous


def _progress(call: Call) -> Any:
    on_progress = call.on_progress
    if on_progress is None:
        return None

    def report(update: Any) -> None:
        Emit(on_progress, _tag(update, call)).run()

    return report


def _aprogress(call: Call) -> Any:
    on_progress = call.on_progress
    if on_progress is None:
        return None

    async def report(update: Any) -> None:
        await Emit(on_progress, _tag(update, call)).arun()

    return report


def _threaded_progress(call: Call, loop: asyncio.AbstractEventLoop) -> Any:
    """A reporter for a sync handler running in a worker thread: each update is handed
    to the caller's event loop (async callbacks run there, where they belong)."""
    on_progress = call.on_progress
    if on_progress is None:
        return None

    def report(update: Any) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(Emit(on_progress, _tag(update, call)).arun(), loop).result()

    return report


def _tag(update: Any, call: Call) -> Any:
    if hasattr(update, "model_copy") and getattr(update, "attempt", 0) is None:
        return update.model_copy(update={"attempt": call.attempt})
    return update


def _stamp(response: Any, call: Call) -> Any:
    if getattr(response, "origin", 0) is None:
        origin = Origin(source="provider", provider=call.config.provider, model=call.config.model)
        return response.model_copy(update={"origin": origin})
    return response


def _stamp_error(error: BaseException, call: Call, replays: list[str] | None = None) -> BaseException:
    """A live call's error says where it came from, like its responses (the phase from its raw answer)."""
    if getattr(error, "origin", None) is None and not raised_by_callback(error):
        raw = getattr(error, "raw_response", None)
        phase = raw.get("phase") if isinstance(raw, dict) else None
        origin = Origin(source="provider", provider=call.config.provider, model=call.config.model,
                        phase=phase if isinstance(phase, str) else None)
        try:
            error.origin = _replay_origin(origin, replays) if replays else origin  # type: ignore[attr-defined]
        except AttributeError:  # an exception type with __slots__: it still propagates as is
            pass
    return error


def _replayed(response: Any, replays: list[str]) -> Any:
    """A response parsed from answers vcrpy replayed says so (not `provider`)."""
    origin = getattr(response, "origin", None)
    if not replays or origin is None:
        return response
    return response.model_copy(update={"origin": _replay_origin(origin, replays)})


def _replay_origin(origin: Origin, replays: list[str]) -> Origin:
    """`origin` as a replay of the recorded HTTP: the cassette, and the first interaction (the submit's)."""
    from dataclasses import replace

    from .cassettes.persister import replay_mark

    cassette, recording = replay_mark(replays[0])
    return replace(origin, source="replay", cassette=cassette, recording=recording)


def map_foreign_error(error: BaseException, call: Call) -> BaseException:
    """The gateway's exception for an error raised below it (gateway errors pass through)."""
    if isinstance(error, exc.TarashException) or raised_by_callback(error):
        return error
    where: exc.ErrorSource = {"provider": call.config.provider, "model": call.config.model}
    # httpx not loaded (a mock-only process): the error cannot be one of its own
    http: Any = sys.modules.get("httpx") or _NoHttpx
    if isinstance(error, http.TimeoutException | builtins.TimeoutError):
        mapped: exc.TarashException = exc.TimeoutError(f"timed out: {error}", **where)
    elif isinstance(error, http.HTTPStatusError):
        code = error.response.status_code
        if code == 429:
            mapped = exc.RateLimitError(str(error), status_code=code, retry_after=_retry_after(error.response), **where)
        else:
            mapped = exc.HTTPError(str(error), status_code=code, **where)
    elif isinstance(error, http.TransportError | ConnectionError):
        mapped = exc.HTTPConnectionError(f"connection failed: {error}", **where)
    else:
        return error
    return mapped


class _NoHttpx:
    """Stands for httpx before it is imported: no error is an instance of these."""

    class TimeoutException(Exception):
        pass

    class HTTPStatusError(Exception):
        response: Any

    class TransportError(Exception):
        pass


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
