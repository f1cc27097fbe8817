"""Scripted behaviour of a simulated job: queue time, progress, latency and failures.

A `Scenario` says how one job behaves. Jobs advance per poll (not per second),
so a test is exact whatever the machine's speed: `queue_polls` polls in the queue,
then `run_polls` polls of progress, then the outcome. `latency` really delays each
answer (seconds), for timing demos and benchmarks.

Faults at a phase of the job, as `MockResponse(phase=..., after_polls=...)` lands
them in the mock: `fault` at `phase` `poll` (after `after_polls` good polls),
`result` (fetching the output of a completed job, where the provider has such a
fetch: fal, OpenAI, Google) or `media` (fetching the media file). A poll, result or
media fault lands once (a blip: the job goes on); `job_lost` is for good (the
provider forgot the job: every later request about it is a 404). `stall_polls` keeps
the job queued longer, `progress_backwards` makes its progress drop once,
`media_expires_after` makes its media URLs answer 403/404 that many seconds after
they were handed out. A job finished with an error (`fail_after_polls`) is fal's
`COMPLETED` carrying an `error` (the `completed_with_error` scenario).

Capacity (concurrency, rate limit) belongs to a provider, not to one job: see
`capacity.Capacity` and `ProviderSimulator(capacity=...)`.

Pick one per request, by priority:

1. a tag in the prompt, e.g. `"a cat #sim:rate_limit"` (names in `NAMED`);
2. the next scenario queued with `push`;
3. the simulator's default scenario.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

__all__ = ["NAMED", "Phase", "PhaseFault", "Scenario", "scenario_from_prompt"]

Failure = Literal["validation", "moderation", "auth", "rate_limit", "server_error", "failed"]
#: What can go wrong at a phase after the submit.
PhaseFault = Literal["rate_limit", "server_error", "connection_dropped", "job_lost"]
Phase = Literal["poll", "result", "media"]


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
        fault: what goes wrong at `phase`: `rate_limit` (429 with `retry_after`),
            `server_error` (the provider's 5xx), `connection_dropped` (the connection
            closes without an answer), `job_lost` (404 on status, for good; `poll` only).
        phase: where `fault` lands: `poll`, `result` or `media`.
        after_polls: good status polls before a `poll` fault.
        stall_polls: more polls in the queue (as the mock's `stall_polls`).
        progress_backwards: progress drops once, then rises again, before completing.
        media_expires_after: seconds after a media URL is handed out when it starts
            answering 404 (403 where the provider signs its URLs); `0` expires at once.
    """

    queue_polls: int = 1
    run_polls: int = 2
    latency: float = 0.0
    submit_error: Failure | None = None
    retry_after: float | None = 2.0
    fail_after_polls: int | None = None
    job_error: Literal["failed", "moderation"] = "failed"
    stuck: bool = False
    fault: PhaseFault | None = None
    phase: Phase = "poll"
    after_polls: int = 0
    stall_polls: int = 0
    progress_backwards: bool = False
    media_expires_after: float | None = None

    def __post_init__(self) -> None:
        if self.fault == "job_lost" and self.phase != "poll":
            raise ValueError("a job is lost on a status poll: fault='job_lost' takes phase='poll'")
        if self.after_polls and (self.fault is None or self.phase != "poll"):
            raise ValueError("after_polls= counts the good polls before a fault at phase='poll'")
        if min(self.after_polls, self.stall_polls, self.queue_polls, self.run_polls) < 0:
            raise ValueError("poll counts cannot be negative")
        if self.media_expires_after is not None and self.media_expires_after < 0:
            raise ValueError("media_expires_after= is seconds from 0 up")

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
    "completed_with_error": Scenario(fail_after_polls=2),
    "poll_rate_limit": Scenario(fault="rate_limit", after_polls=1),
    "poll_server_error": Scenario(fault="server_error", after_polls=1),
    "dropped_mid_poll": Scenario(fault="connection_dropped", after_polls=1),
    "job_lost": Scenario(fault="job_lost", after_polls=1),
    "result_server_error": Scenario(fault="server_error", phase="result"),
    "media_server_error": Scenario(fault="server_error", phase="media"),
    "media_expired": Scenario(media_expires_after=0),
    "stalled": Scenario(stall_polls=4),
    "progress_backwards": Scenario(run_polls=3, progress_backwards=True),
}

_TAG = re.compile(r"#sim:([a-z_]+)")


def scenario_from_prompt(prompt: str | None) -> Scenario | None:
    """The scenario named by a `#sim:<name>` tag in the prompt, if any."""
    if not prompt:
        return None
    match = _TAG.search(prompt)
    return NAMED.get(match.group(1)) if match else None
