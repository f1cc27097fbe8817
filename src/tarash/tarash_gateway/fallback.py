"""The fallback layer: walks a config and its `fallback_configs`, depth first.

Each attempt gets its own stack (built from that attempt's config) and its own
deadline. After a failed attempt, `decide` says what comes next: retry
the same config (its `retry=`, after a wait on the clock), skip a config whose model
cannot take the request, fall back to the next config on a transient failure, or stop.
The error that ends the walk is raised with every attempt in
`error.execution_metadata`; a success carries the same record in
`response.execution_metadata`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from . import stats
from .call import Call
from .clock import Clock, InstantClock, current_clock
from .exceptions import UnsupportedRequestError
from .flow import Flow, Sleep
from .layers import Layer, Next
from .metadata import AttemptMetadata, ExecutionMetadata
from .models import AnyConfig
from .responses import with_fields
from .retry import Decision, decide

__all__ = ["FallbackLayer", "collect_chain"]


def collect_chain(config: AnyConfig) -> list[AnyConfig]:
    """The config, then each fallback followed by its own fallbacks (depth first)."""
    fallbacks = config.fallback_configs
    if not fallbacks:
        return [config]
    if not any(fallback.fallback_configs for fallback in fallbacks):  # one level: the common chain
        return [config, *fallbacks]

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
        # A plain function handing back the walk itself: the common case (the system clock)
        # drives one generator fewer per call.
        clock = current_clock()
        if isinstance(clock, InstantClock):  # concurrent calls must not share virtual time
            return self._isolated_walk(call, clock)
        return self._walk(call, clock)

    def _isolated_walk(self, call: Call, clock: InstantClock) -> Flow[Any]:
        with clock.isolated():
            return (yield from self._walk(call, clock))

    def _walk(self, call: Call, clock: Clock) -> Flow[Any]:
        # One flat loop on purpose (longer than our usual functions): it runs for every
        # call, and the success path must cost no more than before retries existed.
        chain = collect_chain(call.config)
        attempts: list[AttemptMetadata] = []
        failures: _Failures | None = None  # made on the first failure only
        started = None  # when the next attempt starts: the end of the last one, when nothing waited between
        for position, config in enumerate(chain, start=1):
            while True:
                number = len(attempts) + 1
                if started is None:
                    started = clock.now()
                try:
                    layer, attempt = self.stack_for(config), call.attempt_of(config, number, clock.monotonic())
                    fresh = type(layer)._fresh_results and call.on_progress is None
                    if _inline(layer):
                        response = yield from layer.flow(attempt)
                    else:
                        response = yield Next(layer, attempt)
                except Exception as error:
                    if failures is None:
                        failures = _Failures(call, len(chain))
                    ended = clock.now()
                    decision = failures.failed(attempts, position, config, number, started, ended, error)
                    if decision.action == "retry":
                        yield Sleep(decision.wait)
                        started = None
                        continue
                    if decision.action != "stop":
                        started = ended
                        break  # skip or fall back: the next config
                    final, cause = failures.final(error, attempts, position)
                    try:
                        if final is error:
                            raise
                        raise final from cause
                    finally:  # the error's traceback holds this frame: no cycle through its locals
                        del final, cause
                attempts.append(
                    AttemptMetadata(  # in field order (see `_metadata`)
                        config.provider,
                        config.model,
                        number,  # attempt_number
                        started,  # started_at
                        clock.now(),  # ended_at
                        "success",  # status
                        None,  # error_type
                        None,  # error_message
                        None,  # is_retryable
                        response.request_id,
                        response.origin,
                        failures.retries if failures is not None else 0,  # retry
                    )
                )
                if stats.avoided_cost_tracked():
                    from .cost import note_served

                    note_served(call.kind, config, call.request, response.origin)
                if failures is not None:
                    # the last failure's traceback holds this frame, whose locals hold it: let it go
                    # now rather than leave a cycle for the garbage collector
                    failures.last_failure = None
                metadata = _metadata(attempts, number, len(chain), position > 1, call)
                if fresh:  # made for this call and seen by nobody yet: completed rather than copied
                    response.__dict__["execution_metadata"] = metadata
                    response.__pydantic_fields_set__.add("execution_metadata")
                    return response
                return with_fields(response, execution_metadata=metadata)
        raise AssertionError("the last config of a chain never falls back")  # pragma: no cover


_INLINE: dict[type, bool] = {}


def _inline(layer: Layer) -> bool:
    """Whether the walk runs `layer`'s flow inline instead of through `Next`: its faces are
    `Layer`'s own (they would only drive its flow), so one driver serves the whole chain.
    Known once per layer class; middleware overriding `handle`/`ahandle` keeps its own."""
    cls = type(layer)
    inline = _INLINE.get(cls)
    if inline is None:
        inline = _INLINE[cls] = cls.handle is Layer.handle and cls.ahandle is Layer.ahandle
    return inline


class _Failures:
    """What the walk needs once an attempt failed: the retry state of the current config,
    the last real failure, and the decision after each failure."""

    __slots__ = ("call", "chain_length", "jitter", "last_failure", "position", "retries", "waited")

    def __init__(self, call: Call, chain_length: int) -> None:
        self.call, self.chain_length = call, chain_length
        self.position, self.retries, self.waited = 0, 0, 0.0
        self.jitter: random.Random | None = None
        self.last_failure: BaseException | None = None  # the last error that was not a skip

    def failed(
        self, attempts: list[AttemptMetadata], position: int, config: AnyConfig, number: int, started: Any,
        ended: Any, error: BaseException,
    ) -> Decision:
        """Record the failed attempt and decide what follows (see `decide`)."""
        if position != self.position:  # the first failure of this config
            self.position, self.retries, self.waited, self.jitter = position, 0, 0.0, None
        retry = config.retry
        if retry is not None and self.jitter is None:
            self.jitter = random.Random(retry.seed)
        decision = decide(
            error, retry=retry, tries=self.retries + 1, waited=self.waited, has_next=position < self.chain_length,
            jitter_u=self.jitter.random() if self.jitter is not None else 0.0,
        )
        skipped = isinstance(error, UnsupportedRequestError)
        if not skipped:
            self.last_failure = error
        attempts.append(
            AttemptMetadata(  # in field order (see `_metadata`)
                config.provider,
                config.model,
                number,  # attempt_number
                started,  # started_at
                ended,  # ended_at
                "skipped" if skipped else "failed",  # status
                type(error).__name__,  # error_type
                str(error),  # error_message
                decision.retryable,  # is_retryable
                getattr(error, "request_id", None),
                getattr(error, "origin", None),
                self.retries,  # retry
                decision.wait if decision.action == "retry" else None,  # retry_wait_seconds
            )
        )
        if decision.action == "retry":
            self.retries += 1
            self.waited += decision.wait
        else:
            self.retries = 0  # the next config starts afresh
        return decision

    def final(
        self, error: BaseException, attempts: list[AttemptMetadata], position: int
    ) -> tuple[BaseException, BaseException | None]:
        """The error that ends the walk, with every attempt attached, and its cause.

        When the last config was skipped: the last real failure if there was one (it keeps
        its own cause), else (every config skipped) one `UnsupportedRequestError` naming
        each config and why (caused by the last skip).
        """
        final, cause = error, None
        if isinstance(error, UnsupportedRequestError) and len(attempts) > 1:
            if self.last_failure is not None:
                final, cause = self.last_failure, self.last_failure.__cause__
            else:
                reasons = "; ".join(f"{a.provider}/{a.model}: {a.error_message}" for a in attempts)
                final, cause = UnsupportedRequestError(f"no config in the chain can take this request: {reasons}"), error
        self.last_failure = None  # held no longer than needed: its traceback holds the walk's frame
        _attach(final, _metadata(attempts, None, self.chain_length, position > 1, self.call))
        return final, cause


def _metadata(
    attempts: list[AttemptMetadata], successful: int | None, chain_length: int, fell_back: bool, call: Call
) -> ExecutionMetadata:
    # The metadata of every call, built with positional arguments in field order: a class
    # called with keywords first gathers them into a dict, which costs as much as the rest
    # (`tests/test_metadata.py` pins the order).
    return ExecutionMetadata(
        len(attempts),  # total_attempts
        successful,  # successful_attempt
        attempts,  # the walk's own list, never touched again
        fell_back,  # fallback_triggered
        chain_length,  # configs_in_chain
        (call.kind, call.request),  # priced
    )


def _attach(error: BaseException, metadata: ExecutionMetadata) -> None:
    try:
        error.execution_metadata = metadata  # type: ignore[attr-defined]
    except AttributeError:  # an exception type with __slots__: it still propagates as is
        pass
