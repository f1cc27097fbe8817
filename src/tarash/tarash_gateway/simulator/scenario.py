"""Scripted behaviour of a simulated job: queue time, progress, latency and failures.

A `Scenario` says how one job behaves. Jobs advance per poll (not per second),
so a test is exact whatever the machine's speed: `queue_polls` polls in the queue,
then `run_polls` polls of progress, then the outcome. `latency` really delays each
answer (seconds), for timing demos and benchmarks.

Pick one per request, by priority:

1. a tag in the prompt, e.g. `"a cat #sim:rate_limit"` (names in `NAMED`);
2. the next scenario queued with `push`;
3. the simulator's default scenario.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

__all__ = ["NAMED", "Scenario", "scenario_from_prompt"]

Failure = Literal["validation", "moderation", "auth", "rate_limit", "server_error", "failed"]


@dataclass(frozen=True)
class Scenario:
    """How one simulated job behaves.

    Args:
        queue_polls: polls answered "queued" (with a queue position) before running.
        run_polls: polls answered "processing", with progress rising to 100.
        latency: seconds every answer of this job is delayed.
        submit_error: fail the submit itself: validation (400/422), moderation, auth
            (401), rate_limit (429), server_error (500).
        retry_after: the `Retry-After` seconds sent with a 429 (`None`: no header).
        fail_after_polls: after this many polls the job fails (`job_error` says how).
        job_error: `failed` (a generation failure) or `moderation` (the provider's
            moderation shape for a finished job).
        stuck: the job never finishes (for timeout and cancel tests).
    """

    queue_polls: int = 1
    run_polls: int = 2
    latency: float = 0.0
    submit_error: Failure | None = None
    retry_after: float | None = 2.0
    fail_after_polls: int | None = None
    job_error: Literal["failed", "moderation"] = "failed"
    stuck: bool = False

    def but(self, **changes: object) -> Scenario:
        return replace(self, **changes)  # type: ignore[arg-type]


NAMED: dict[str, Scenario] = {
    "ok": Scenario(),
    "instant": Scenario(queue_polls=0, run_polls=0),
    "slow": Scenario(queue_polls=2, run_polls=6),
    "validation": Scenario(submit_error="validation"),
    "moderation": Scenario(submit_error="moderation"),
    "auth": Scenario(submit_error="auth"),
    "rate_limit": Scenario(submit_error="rate_limit"),
    "rate_limit_no_retry_after": Scenario(submit_error="rate_limit", retry_after=None),
    "server_error": Scenario(submit_error="server_error"),
    "failed": Scenario(fail_after_polls=2),
    "moderated_output": Scenario(fail_after_polls=2, job_error="moderation"),
    "stuck": Scenario(stuck=True),
}

_TAG = re.compile(r"#sim:([a-z_]+)")


def scenario_from_prompt(prompt: str | None) -> Scenario | None:
    """The scenario named by a `#sim:<name>` tag in the prompt, if any."""
    if not prompt:
        return None
    match = _TAG.search(prompt)
    return NAMED.get(match.group(1)) if match else None
