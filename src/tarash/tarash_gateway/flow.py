"""One core, two faces: the gateway's logic is written once as generators of effects.

A *flow* is a generator that yields `Effect` objects (sleep, call the next layer,
report progress, run blocking work) and returns a result. `run_sync` and
`run_async` are the only places that perform effects; they differ only in
`await`. Exceptions from an effect are thrown back into the flow at the `yield`,
so flows use plain `try`/`except`.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from .clock import current_clock
from .exceptions import mark_callback_error

__all__ = ["Blocking", "Effect", "Emit", "Flow", "Sleep", "run_async", "run_sync"]

T = TypeVar("T")
Flow = Generator["Effect", Any, T]


class Effect:
    """Something a flow asks its driver to do. Subclasses implement both faces.

    The effects of the core are small slotted classes with a hand-written `__init__`
    rather than dataclasses: each dataclass costs about a millisecond to create at import
    (its methods are compiled from generated source), and a mocked call's cold start loads
    a dozen of them. Their `__repr__` names their slots.
    """

    __slots__ = ()

    def run(self) -> Any:
        raise NotImplementedError

    async def arun(self) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in getattr(self, "__slots__", ()))
        return f"{type(self).__name__}({values})"


class Sleep(Effect):
    """Wait on the current clock (instant under `instant_waits`)."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def run(self) -> None:
        current_clock().sleep(self.seconds)

    async def arun(self) -> None:
        await current_clock().asleep(self.seconds)


class Blocking(Effect):
    """Blocking work (file or SQLite I/O): inline on the sync face, in a thread on the async one."""

    __slots__ = ("args", "fn")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...] = ()) -> None:
        self.fn, self.args = fn, args

    def run(self) -> Any:
        return self.fn(*self.args)

    async def arun(self) -> Any:
        import asyncio  # loaded already: this runs on an event loop

        return await asyncio.to_thread(self.fn, *self.args)


class Emit(Effect):
    """Hand one progress update to the user's callback; async callbacks are awaited.

    An exception from the callback is the user's own: it is tagged so that it
    propagates unchanged and never triggers a fallback.
    """

    __slots__ = ("callback", "update")

    def __init__(self, callback: Callable[[Any], Any], update: Any) -> None:
        self.callback, self.update = callback, update

    def run(self) -> None:
        try:
            result = self.callback(self.update)
            if inspect.isawaitable(result):
                _await_in_private_loop(result)
        except BaseException as error:
            mark_callback_error(error)
            raise

    async def arun(self) -> None:
        try:
            result = self.callback(self.update)
            if inspect.isawaitable(result):
                await result
        except BaseException as error:
            mark_callback_error(error)
            raise


def _await_in_private_loop(awaitable: Any) -> Any:
    """An async callback given to a sync call: run it to completion on a private loop.

    The loop lives in a short-lived thread, so this works whether or not the calling
    thread already runs an event loop; it runs in a copy of the caller's context, so the
    clock, cassette and middleware in force stay in force.
    """
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()

    async def main() -> Any:
        return await awaitable

    def target() -> None:
        import asyncio  # only async callbacks of a sync call get here: sync-only processes skip it

        loop = asyncio.new_event_loop()
        try:
            outcome["value"] = context.run(loop.run_until_complete, main())
        except BaseException as error:  # handed back to the caller's thread
            outcome["error"] = error
        finally:
            loop.close()

    thread = threading.Thread(target=target, name="tarash-callback")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# Both drivers let go of the error they hold when they end: it may be the one propagating,
# whose traceback holds the driver's frame, and a frame holding its own error in a local is a
# reference cycle (garbage for the collector on every failed call).


def run_sync(flow: Flow[T]) -> T:
    """Drive a flow on the calling thread."""
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value
            try:
                value, error = effect.run(), None
            except BaseException as exc:
                value, error = None, exc
    finally:
        del error


async def run_async(flow: Flow[T]) -> T:
    """Drive a flow on the running event loop."""
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value
            try:
                value, error = await effect.arun(), None
            except BaseException as exc:
                value, error = None, exc
    finally:
        del error
