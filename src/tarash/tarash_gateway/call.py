"""A `Call`: one generation request travelling down the stack, and its deadline."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .clock import current_clock
from .exceptions import TimeoutError
from .flow import Emit, Flow, Sleep
from .models import AnyConfig, AnyRequest, ImageGenerationUpdate, VideoGenerationUpdate

__all__ = ["Call", "Kind"]

Kind = Literal["video", "image"]


@dataclass(slots=True)
class Call:
    """What every layer receives: the kind, the config of this attempt, the request,
    the user's progress callback, the attempt number and the overall deadline
    (a value of the current clock's `monotonic`, or `None`).

    Treat it as a value: derive changed calls with `replace`. (Not a frozen
    dataclass only because frozen ones construct several times slower, and a call is
    built on every attempt.)"""

    kind: Kind
    config: AnyConfig
    request: AnyRequest
    on_progress: Callable[[Any], Any] | None = None
    attempt: int = 1
    deadline: float | None = None

    def replace(self, **changes: Any) -> Call:
        return dataclasses.replace(self, **changes)

    def attempt_of(self, config: AnyConfig, attempt: int, now: float) -> Call:
        """This call as attempt number `attempt` of `config`, its deadline starting at `now`.

        (Spelled out rather than `dataclasses.replace`: this runs on every attempt.)
        """
        return Call(self.kind, config, self.request, self.on_progress, attempt, now + config.timeout)

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - current_clock().monotonic()

    def update(self, **fields: Any) -> VideoGenerationUpdate | ImageGenerationUpdate:
        cls = VideoGenerationUpdate if self.kind == "video" else ImageGenerationUpdate
        return cls(attempt=self.attempt, **fields)

    def emit(self, **fields: Any) -> Flow[None]:
        """Report progress to the user's callback, if any (`yield from call.emit(...)`)."""
        if self.on_progress is not None:
            yield Emit(self.on_progress, self.update(**fields))

    def wait(self, seconds: float) -> Flow[None]:
        """Sleep, but never past the deadline: when it would, sleep up to it and time out."""
        remaining = self.remaining()
        if remaining is not None and seconds > remaining:
            yield Sleep(max(remaining, 0.0))
            raise self.timeout_error()
        yield Sleep(seconds)

    def timeout_error(self) -> TimeoutError:
        return TimeoutError(
            f"{self.kind} generation with {self.config.provider}/{self.config.model} "
            f"did not finish within {self.config.timeout:g} s",
            provider=self.config.provider,
            model=self.config.model,
            timeout_seconds=self.config.timeout,
        )
