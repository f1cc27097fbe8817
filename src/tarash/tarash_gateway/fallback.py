"""The fallback layer: walks a config and its `fallback_configs`, depth first.

Each attempt gets its own stack (built from that attempt's config) and its own
deadline. A retryable failure (see `is_retryable`) moves on to the
next config; anything else, or the last config failing, raises, with every attempt in
`error.execution_metadata`. A success carries the same record in
`response.execution_metadata`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .call import Call
from .clock import Clock, InstantClock, current_clock
from .exceptions import is_retryable
from .flow import Flow
from .layers import Layer, Next
from .metadata import AttemptMetadata, ExecutionMetadata
from .models import AnyConfig

__all__ = ["FallbackLayer", "collect_chain"]


def collect_chain(config: AnyConfig) -> list[AnyConfig]:
    """The config, then each fallback followed by its own fallbacks (depth first)."""
    if not config.fallback_configs:
        return [config]

    def walk(cfg: AnyConfig) -> Iterator[AnyConfig]:
        yield cfg
        for fallback in cfg.fallback_configs or ():
            yield from walk(fallback)

    return list(walk(config))


class FallbackLayer(Layer):
    """Top of the stack. `stack_for(config)` builds the layers of one attempt."""

    def __init__(self, stack_for: Callable[[AnyConfig], Layer]) -> None:
        super().__init__(None)
        self.stack_for = stack_for

    def flow(self, call: Call) -> Flow[Any]:
        clock = current_clock()
        if isinstance(clock, InstantClock):  # concurrent calls must not share virtual time
            with clock.isolated():
                return (yield from self._walk(call, clock))
        return (yield from self._walk(call, clock))

    def _walk(self, call: Call, clock: Clock) -> Flow[Any]:
        chain = collect_chain(call.config)
        attempts: list[AttemptMetadata] = []
        for number, config in enumerate(chain, start=1):
            attempt = call.attempt_of(config, number, clock.monotonic())
            started = clock.now()
            try:
                response = yield Next(self.stack_for(config), attempt)
            except Exception as error:
                retry = is_retryable(error)
                attempts.append(
                    AttemptMetadata(
                        provider=config.provider,
                        model=config.model,
                        attempt_number=number,
                        started_at=started,
                        ended_at=clock.now(),
                        status="failed",
                        error_type=type(error).__name__,
                        error_message=str(error),
                        is_retryable=retry,
                        request_id=getattr(error, "request_id", None),
                        origin=getattr(error, "origin", None),
                    )
                )
                if retry and number < len(chain):
                    continue
                _attach(error, _metadata(attempts, None, len(chain)))
                raise
            attempts.append(
                AttemptMetadata(
                    provider=config.provider,
                    model=config.model,
                    attempt_number=number,
                    started_at=started,
                    ended_at=clock.now(),
                    status="success",
                    request_id=response.request_id,
                    origin=response.origin,
                )
            )
            return response.model_copy(update={"execution_metadata": _metadata(attempts, number, len(chain))})
        raise AssertionError("a chain always holds at least its own config")  # pragma: no cover


def _metadata(attempts: list[AttemptMetadata], successful: int | None, chain_length: int) -> ExecutionMetadata:
    return ExecutionMetadata(
        total_attempts=len(attempts),
        successful_attempt=successful,
        attempts=list(attempts),
        fallback_triggered=len(attempts) > 1,
        configs_in_chain=chain_length,
    )


def _attach(error: BaseException, metadata: ExecutionMetadata) -> None:
    try:
        error.execution_metadata = metadata  # type: ignore[attr-defined]
    except AttributeError:  # an exception type with __slots__: it still propagates as is
        pass
