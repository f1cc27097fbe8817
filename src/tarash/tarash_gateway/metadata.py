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
    provider: str | None = None
    model: str | None = None
    outcome: int | None = None
    injected: str | None = None
    seed: int | None = None
    draw: int | None = None
    cassette: str | None = None
    stock_file: str | None = None


@dataclass(slots=True)
class AttemptMetadata:
    """One try of one config in the chain. Timestamps are UTC.

    A plain dataclass, as upstream's is: one is built for every attempt of every call,
    and a dataclass costs a fraction of a validated model. Treat it as read-only.
    """

    provider: str
    model: str
    attempt_number: int
    started_at: datetime
    ended_at: datetime | None = None
    status: Literal["success", "failed", "skipped"] = "failed"
    error_type: str | None = None
    error_message: str | None = None
    is_retryable: bool | None = None
    request_id: str | None = None
    origin: Origin | None = None

    @property
    def elapsed_seconds(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(slots=True)
class ExecutionMetadata:
    """The whole walk over a fallback chain: on every response and on a chain's final error.

    A plain dataclass like `AttemptMetadata`; it serializes with the response.
    """

    total_attempts: int
    successful_attempt: int | None = None
    attempts: list[AttemptMetadata] = field(default_factory=list)
    fallback_triggered: bool = False
    configs_in_chain: int = 1

    @property
    def total_elapsed_seconds(self) -> float | None:
        if not self.attempts:
            return None
        ends = [a.ended_at for a in self.attempts if a.ended_at is not None]
        if not ends:
            return None
        return (max(ends) - self.attempts[0].started_at).total_seconds()
