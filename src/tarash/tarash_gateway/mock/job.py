"""A mock job's life as a real one lives it: submitted, queued, processing, completed.

`plan_steps` is pure: the statuses the job reports, one per status poll (the
first is the submit answer), with their progress and update payloads. `run_job`
plays them on the clock and lands the outcome's fault at its phase:

- `submit`: raised before the job exists (no event);
- `poll` after `after_polls` good polls: a failed job reports `failed` and
  raises; a failed poll (an HTTP error, a dropped connection, a forgotten job) just
  raises, as the adapters do;
- `result`: the job reports `completed`, then fetching its output fails;
- `media`: the job completes, then fetching the media fails (content mode).

The stock timeline (no `polling` configured) is queued 0 %, processing 30 % and
70 %, completed 100 %, with no waits between updates unless the outcome stalls,
goes backwards or fails after submit: then updates are `poll_interval` apart on the
clock, as the real polls are.
"""

from __future__ import annotations

from typing import Any

from ..call import Call
from ..exceptions import ContentModerationError, GenerationFailedError
from ..flow import Flow
from .config import MockPollingConfig, MockResponse

__all__ = ["Step", "plan_steps", "run_job"]

Step = tuple[str, "int | None", dict[str, Any]]
_STOCK: tuple[Step, ...] = (("queued", 0, {}), ("processing", 30, {}), ("processing", 70, {}), ("completed", 100, {}))
_LEGACY_PROGRESS = {"queued": 0, "processing": 50, "completed": 100, "failed": None}


def plan_steps(chosen: MockResponse, polling: MockPollingConfig | None) -> list[Step]:
    """The statuses the job reports, submit answer first, ending `completed`."""
    if polling is not None:
        steps: list[Step] = [
            (
                status,
                polling.progress_percentages[i] if polling.progress_percentages else _LEGACY_PROGRESS[status],
                dict(polling.custom_updates[i]) if polling.custom_updates else {},
            )
            for i, status in enumerate(polling.status_sequence)
        ]
    else:
        steps = list(_STOCK)
    if chosen.stall_polls:
        first = steps[0]
        stalled = [("queued", first[1], {**first[2], "queue_position": n}) for n in range(chosen.stall_polls, 0, -1)]
        steps[1:1] = stalled
    if chosen.progress_backwards:
        at = max((i for i, s in enumerate(steps) if s[0] == "processing"), default=len(steps) - 1)
        progress = steps[at][1] or 50
        steps[at + 1 : at + 1] = [("processing", max(progress - 30, 0), {}), ("processing", min(progress + 20, 99), {})]
    return steps


def run_job(
    call: Call, chosen: MockResponse, polling: MockPollingConfig | None, request_id: str, result: Any,
    error: BaseException | None,
) -> Flow[None]:
    """Play the job's updates on the clock; raise `error` at its phase (after the timeline when none)."""
    phase = chosen.fault_phase
    legacy = polling is not None and phase is None and error is not None
    if error is not None and phase in ("submit", None) and not legacy:
        raise error
    timed = polling is not None or phase is not None or chosen.stall_polls or chosen.progress_backwards
    if polling is None and not timed and call.on_progress is None:
        return  # the stock timeline with nobody listening and no waits: nothing to play
    interval = polling.delay_between_updates if polling is not None else call.config.poll_interval if timed else 0.0
    steps = plan_steps(chosen, polling)
    if legacy:  # an error with a configured timeline: it ends failed (as before phases existed)
        steps[-1] = ("failed", _LEGACY_PROGRESS["failed"], steps[-1][2])
    elif phase == "poll":
        good = chosen.after_polls + 1  # the submit answer and after_polls good polls
        finished = [i for i, s in enumerate(steps) if s[0] == "completed"]
        last_running = (finished[0] if finished else len(steps)) - 1
        while last_running < good - 1:
            steps.insert(last_running + 1, ("processing", steps[last_running][1], {}))
            last_running += 1
        steps = steps[:good]
    for i, (status, progress, update) in enumerate(steps):
        if i:
            yield from call.wait(interval)
        yield from call.emit(
            request_id=request_id, status=status, progress_percent=progress, update=update,
            result=result if status == "completed" and error is None else None,
            error=str(error) if status == "failed" and error is not None else None,
        )
    if error is None:
        return
    if phase == "poll":
        yield from call.wait(interval)
        if isinstance(error, GenerationFailedError | ContentModerationError):  # the job failed: seen as failed
            yield from call.emit(request_id=request_id, status="failed", progress_percent=None, error=str(error))
    raise error
