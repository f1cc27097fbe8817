"""Where a response came from, and what every attempt of a fallback chain did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = ["AttemptMetadata", "ExecutionMetadata", "Origin"]

Source = Literal["provider", "mock", "stock", "replay"]


@dataclass(slots=True)
class Origin:
    """Where one result (or one failure) came from.

    `source` is `provider` for a real call, `stock` for the built-in library,
    `mock` for a configured outcome, `replay` for a cassette recording. For chaos,
    `outcome` is the index of the chosen `MockResponse`, `injected` says what was
    injected, and `seed`/`draw` let the run be repeated exactly
    (`TARASH_MOCK_SEED=<seed>`).

    A slot dataclass like the execution metadata (one is built on every call); it
    serializes with the response. Treat it as read-only.
    """

    source: Source
    """`provider`, `stock`, `mock` or `replay`."""
    provider: str | None = None
    """The provider of the config that produced the result."""
    model: str | None = None
    """The model of that config."""
    outcome: int | None = None
    """For chaos: the index of the chosen `MockResponse`."""
    injected: str | None = None
    """For chaos: what was injected, e.g. `error:RateLimitError,latency:1.500s`."""
    seed: int | None = None
    """The seed of the mock's draw sequence; `TARASH_MOCK_SEED=<seed>` repeats the run."""
    draw: int | None = None
    """The position of this call's draw in that sequence."""
    cassette: str | None = None
    """For a replay: the cassette the recording came from."""
    stock_file: str | None = None
    """For stock media: the bundled file served."""


@dataclass(slots=True)
class AttemptMetadata:
    """One try of one config in the chain. Timestamps are UTC.

    A plain dataclass, as upstream's is: one is built for every attempt of every call,
    and a dataclass costs a fraction of a validated model. Treat it as read-only.
    """

    provider: str
    """The provider of this attempt's config."""
    model: str
    """The model of this attempt's config."""
    attempt_number: int
    """1-based position of the config in the fallback chain."""
    started_at: datetime
    """When the attempt started (UTC)."""
    ended_at: datetime | None = None
    """When it ended (UTC); `None` while it runs."""
    status: Literal["success", "failed", "skipped"] = "failed"
    """`success`, `failed` or `skipped`."""
    error_type: str | None = None
    """The class name of the error, on a failed attempt."""
    error_message: str | None = None
    """The message of the error, on a failed attempt."""
    is_retryable: bool | None = None
    """Whether that error lets the chain fall back to the next config."""
    request_id: str | None = None
    """The provider's job id, when the attempt got one."""
    origin: Origin | None = None
    """Where the attempt's result (or failure) came from."""

    @property
    def elapsed_seconds(self) -> float | None:
        """How long the attempt took; `None` while it runs."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(slots=True)
class ExecutionMetadata:
    """The whole walk over a fallback chain: on every response and on a chain's final error.

    A plain dataclass like `AttemptMetadata`; it serializes with the response.
    """

    total_attempts: int
    """How many configs were tried."""
    successful_attempt: int | None = None
    """The 1-based number of the attempt that succeeded; `None` when none did."""
    attempts: list[AttemptMetadata] = field(default_factory=list)
    """Every attempt, in order."""
    fallback_triggered: bool = False
    """True when a config after the first was tried."""
    configs_in_chain: int = 1
    """How many configs the chain holds (the config and its fallbacks)."""

    @property
    def total_elapsed_seconds(self) -> float | None:
        """From the first attempt's start to the last end; `None` before any attempt ended."""
        if not self.attempts:
            return None
        ends = [a.ended_at for a in self.attempts if a.ended_at is not None]
        if not ends:
            return None
        return (max(ends) - self.attempts[0].started_at).total_seconds()
