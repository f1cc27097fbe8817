"""The bottom of the stack for real calls: a registered handler or a built-in provider.

Errors foreign to the gateway (httpx's, the builtins' timeouts and connection errors)
are mapped to the exception tree here, at one boundary, most specific first.
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
from typing import Any

import httpx

from . import exceptions as exc
from .call import Call
from .exceptions import raised_by_callback
from .flow import Emit, _await_in_private_loop
from .layers import Layer
from .metadata import Origin
from .providers import builtin_providers, get_provider
from .registry import get_handler, registered_providers

__all__ = ["ProviderLayer", "map_foreign_error"]


class ProviderLayer(Layer):
    """Calls the provider named by ``call.config.provider``."""

    def handle(self, call: Call) -> Any:
        handler = get_handler(call.config.provider)
        if handler is None:
            return _builtin(call).handle(call)
        method = _method(handler, call, asynchronous=False)
        try:
            if method is None:  # only an async method: run it on a private loop
                coro = getattr(handler, f"generate_{call.kind}_async")(call.config, call.request, _progress(call))
                response = _await_in_private_loop(coro)
            else:
                response = method(call.config, call.request, _progress(call))
        except Exception as error:
            mapped = map_foreign_error(error, call)
            if mapped is error:
                raise
            raise mapped from error
        return _stamp(response, call)

    async def ahandle(self, call: Call) -> Any:
        handler = get_handler(call.config.provider)
        if handler is None:
            return await _builtin(call).ahandle(call)
        method = _method(handler, call, asynchronous=True)
        try:
            if method is None:  # only a sync method: keep the event loop free
                sync = getattr(handler, f"generate_{call.kind}")
                response = await asyncio.to_thread(sync, call.config, call.request, _progress(call))
            else:
                response = await method(call.config, call.request, _aprogress(call))
        except Exception as error:
            mapped = map_foreign_error(error, call)
            if mapped is error:
                raise
            raise mapped from error
        return _stamp(response, call)


def _builtin(call: Call) -> Any:
    adapter = get_provider(call.config.provider)
    if adapter is None:
        known = sorted({*builtin_providers(), *registered_providers()})
        raise exc.ValidationError(
            f"unknown provider {call.config.provider!r}; known: {', '.join(known) or 'none'} "
            "(register your own with register_provider, or set mock=MockConfig(enabled=True))",
            provider=call.config.provider,
            model=call.config.model,
        )
    return adapter


def _method(handler: Any, call: Call, *, asynchronous: bool) -> Any:
    name = f"generate_{call.kind}" + ("_async" if asynchronous else "")
    method = getattr(handler, name, None)
    other = getattr(handler, f"generate_{call.kind}" + ("" if asynchronous else "_async"), None)
    if method is None and other is None:
        raise exc.ValidationError(
            f"provider {call.config.provider!r} does not generate {call.kind}s",
            provider=call.config.provider,
            model=call.config.model,
        )
    if asynchronous and method is not None and not inspect.iscoroutinefunction(method):
        return None if other is not None else _as_async(method)
    return method


def _as_async(method: Any) -> Any:
    async def call_in_thread(*args: Any) -> Any:
        return await asyncio.to_thread(method, *args)

    return call_in_thread


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


def _tag(update: Any, call: Call) -> Any:
    if hasattr(update, "model_copy") and getattr(update, "attempt", 0) is None:
        return update.model_copy(update={"attempt": call.attempt})
    return update


def _stamp(response: Any, call: Call) -> Any:
    if getattr(response, "origin", 0) is None:
        origin = Origin(source="provider", provider=call.config.provider, model=call.config.model)
        return response.model_copy(update={"origin": origin})
    return response


def map_foreign_error(error: BaseException, call: Call) -> BaseException:
    """The gateway's exception for an error raised below it (gateway errors pass through)."""
    if isinstance(error, exc.TarashException) or raised_by_callback(error):
        return error
    where: exc.ErrorSource = {"provider": call.config.provider, "model": call.config.model}
    if isinstance(error, httpx.TimeoutException | asyncio.TimeoutError | builtins.TimeoutError):
        mapped: exc.TarashException = exc.TimeoutError(f"timed out: {error}", **where)
    elif isinstance(error, httpx.HTTPStatusError):
        code = error.response.status_code
        if code == 429:
            mapped = exc.RateLimitError(str(error), status_code=code, retry_after=_retry_after(error.response), **where)
        else:
            mapped = exc.HTTPError(str(error), status_code=code, **where)
    elif isinstance(error, httpx.TransportError | ConnectionError):
        mapped = exc.HTTPConnectionError(f"connection failed: {error}", **where)
    else:
        return error
    return mapped


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
