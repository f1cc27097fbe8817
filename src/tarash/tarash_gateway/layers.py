"""Layers: the stack's building block, and how users add their own middleware.

A layer takes the next layer when it is built and offers the same interface:
`handle(call)` on the sync face and `ahandle(call)` on the async one. Subclass
`Layer` and write one generator, `Layer.flow`; both faces come from it:

```python
class Timing(Layer):
    def flow(self, call):
        started = time.perf_counter()
        try:
            response = yield self.call_next(call)
        finally:
            print(call.config.provider, time.perf_counter() - started)
        return response

add_middleware(Timing)          # every call of the process
with use_middleware(Timing):    # only inside the block
    ...
```

A middleware is any callable taking the next layer and returning a layer, so a class
with an `__init__(self, next)` works, and so does `functools.partial(Cls, option=1)`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from .call import Call
from .flow import Effect, Flow, run_async, run_sync

__all__ = ["Layer", "Middleware", "Next", "add_middleware", "clear_middleware", "current_middleware", "use_middleware"]


class Layer:
    """Base class of every layer. Subclasses write `flow`."""

    # Whether `flow` returns a response built for the call that nothing else holds (and that
    # only a progress callback has seen): the fallback walk then completes it with its
    # execution metadata in place instead of copying it. The mock layer's promise; a
    # middleware may hand back a response it keeps (a cache), so the default is no.
    _fresh_results = False

    def __init__(self, next: Layer | None = None) -> None:  # noqa: A002 - the stack's word
        self.next = next

    def flow(self, call: Call) -> Flow[Any]:
        """The layer's logic, written once: `response = yield self.call_next(call)`."""
        return (yield self.call_next(call))

    def call_next(self, call: Call) -> Next:
        if self.next is None:
            raise RuntimeError(f"{type(self).__name__} is the last layer and has no next layer")
        return Next(self.next, call)

    def handle(self, call: Call) -> Any:
        return run_sync(self.flow(call))

    async def ahandle(self, call: Call) -> Any:
        return await run_async(self.flow(call))


class Next(Effect):
    """Pass the call to the next layer, on the same face."""

    __slots__ = ("call", "layer")

    def __init__(self, layer: Any, call: Call) -> None:
        self.layer, self.call = layer, call

    def run(self) -> Any:
        return self.layer.handle(self.call)

    async def arun(self) -> Any:
        return await self.layer.ahandle(self.call)


Middleware = Callable[[Layer], Layer]

_global: list[Middleware] = []
_scoped: ContextVar[tuple[Middleware, ...]] = ContextVar("tarash_middleware", default=())


def add_middleware(middleware: Middleware) -> None:
    """Add a middleware to every call of the process (outermost last added)."""
    _global.append(middleware)


def clear_middleware() -> None:
    """Remove every middleware added with `add_middleware`."""
    _global.clear()


@contextlib.contextmanager
def use_middleware(*middleware: Middleware) -> Iterator[None]:
    """Add middleware for the calls made inside the block (sync or async)."""
    token = _scoped.set(_scoped.get() + tuple(middleware))
    try:
        yield
    finally:
        _scoped.reset(token)


def current_middleware() -> tuple[Middleware, ...]:
    """Process-wide middleware first, then the scoped ones; the first is outermost."""
    scoped = _scoped.get()
    return (*_global, *scoped) if _global else scoped  # read on every attempt: no copy when there is no global one
