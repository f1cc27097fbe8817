"""Retry a config before falling back from it, and the one decision the fallback layer takes.

`retry=Retry(...)` on a config tries the same config again on a transient failure
(`is_retryable`), waiting an exponential backoff with jitter, and
never less than the provider's `Retry-After`, on the current clock (instant in tests),
until its attempts or its total wait run out; then the chain falls back:

```python
config = VideoGenerationConfig(
    provider="fal", model="fal-ai/veo3.1/fast",
    retry=Retry(attempts=3, wait_initial=1, wait_max=20, wait_total_max=60),
    fallback_configs=[...],
)
```

What happens after a failed attempt is `decide`, a pure function of the error,
the config's `Retry` and what was already tried and waited:

- a refusal before any network call (`UnsupportedRequestError`):
  **skip** to the next config;
- not retryable (a provider's 400, moderation, auth, budget, the caller's own bug): **stop**;
- a submit whose outcome is unknown (it timed out or lost its connection once the
  request may have arrived: a paid job may be running): **stop**, unless
  `Retry(resubmit_unknown=True)`;
- retryable, with attempts and total wait left: **retry** after the wait;
- otherwise: **fall back** to the next config (or stop at the end of the chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .exceptions import UnsupportedRequestError, is_retryable, submit_outcome_unknown

__all__ = ["Action", "Decision", "Retry", "backoff", "decide"]

Action = Literal["retry", "fall_back", "skip", "stop"]


class Retry(BaseModel):
    """How to retry one config on transient failures (stamina's and tenacity's knobs).

    Attributes:
        attempts: tries of this config in all, the first included (`1`: no retry).
        wait_initial: the first backoff, in seconds.
        wait_multiplier: each further backoff is this many times the previous one.
        wait_max: the cap on one backoff (a longer `Retry-After` is still honoured).
        wait_jitter: up to this many seconds added at random to each backoff.
        wait_total_max: the cap on all waits of this config together; a wait that would
            pass it falls back instead.
        seed: seeds the jitter, so a run's waits can be repeated exactly.
        resubmit_unknown: retry or fall back after a submit whose outcome is unknown (a
            timeout or dropped connection once the request may have arrived). Off by
            default: the first job may be running and billed.

    Examples:
        >>> Retry(attempts=3, wait_initial=0.5).attempts
        3
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = Field(default=3, ge=1, le=100)
    wait_initial: float = Field(default=1.0, ge=0)
    wait_multiplier: float = Field(default=2.0, ge=1)
    wait_max: float = Field(default=30.0, ge=0)
    wait_jitter: float = Field(default=1.0, ge=0)
    wait_total_max: float = Field(default=120.0, ge=0)
    seed: int | None = None
    resubmit_unknown: bool = False

    @model_validator(mode="after")
    def _max_not_below_initial(self) -> Retry:
        if self.wait_max < self.wait_initial:
            raise ValueError(f"wait_max ({self.wait_max:g}) is below wait_initial ({self.wait_initial:g})")
        return self


@dataclass(slots=True)
class Decision:
    """What the fallback layer does after a failed attempt, and why; `retryable` is
    `is_retryable` of the error. Treat it as read-only (a slot class
    rather than a frozen one: one is made after every failed attempt)."""

    action: Action
    wait: float = 0.0
    reason: str = ""
    retryable: bool = False


def backoff(retry: Retry, retries_done: int, jitter_u: float) -> float:
    """The backoff before retry number `retries_done + 1` (`jitter_u` uniform in [0, 1))."""
    exponential = retry.wait_initial * retry.wait_multiplier**retries_done
    return min(exponential, retry.wait_max) + retry.wait_jitter * jitter_u


def decide(
    error: BaseException,
    *,
    retry: Retry | None,
    tries: int,
    waited: float,
    has_next: bool,
    jitter_u: float = 0.0,
) -> Decision:
    """Retry, skip, fall back or stop after `error`; pure, so it is tested with a table.

    Args:
        error: what the attempt raised.
        retry: the config's retry policy, if any.
        tries: attempts of this config so far, the failed one included.
        waited: seconds already waited between attempts of this config.
        has_next: whether the chain holds another config.
        jitter_u: a uniform draw in [0, 1) for the jitter.
    """
    move_on: Action = "fall_back" if has_next else "stop"
    if isinstance(error, UnsupportedRequestError):
        return Decision("skip" if has_next else "stop", reason=f"skipped: {error}")
    if not is_retryable(error):
        return Decision("stop", reason="not retryable")
    if submit_outcome_unknown(error) and not (retry is not None and retry.resubmit_unknown):
        return Decision("stop", reason=_UNKNOWN_SUBMIT, retryable=True)
    if retry is None:
        return _FALL_BACK if has_next else _STOP_AT_END
    if tries >= retry.attempts:
        return Decision(move_on, reason="no retry left", retryable=True)
    wait = backoff(retry, tries - 1, jitter_u)
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after > wait:
        wait = float(retry_after)
    if waited + wait > retry.wait_total_max:
        return Decision(move_on, wait=wait, reason=f"a wait of {wait:g} s would pass wait_total_max", retryable=True)
    return Decision("retry", wait=wait, reason=f"retry {tries} of {retry.attempts - 1}", retryable=True)


# The decisions of the common case (no retry policy), made once: every fallback takes one.
_FALL_BACK = Decision("fall_back", reason="retryable", retryable=True)
_STOP_AT_END = Decision("stop", reason="retryable, and the chain has no config left", retryable=True)
_UNKNOWN_SUBMIT = (
    "the submit's outcome is unknown (a paid job may be running): not submitted again; "
    "Retry(resubmit_unknown=True) allows it"
)
