"""Provider capacity for mocks: jobs in flight and submits per minute, on the clock.

Past `max_concurrency` a job waits in the queue (fal, Replicate, Runway: see
`faults.QUEUEING_PROVIDERS`), reported as `queued` with its
`queue_position` and polled every `poll_interval` until a slot frees, or is
refused with the provider's 429 and a Retry-After. Past `rate_limit_per_minute`
(a sliding window of 60 s) every provider answers 429, with the seconds until the
oldest submit leaves the window. A job holds its slot for its latency and timeline,
so on an instant clock twenty concurrent tasks meet the limit in no real time.

Nothing here runs for a mock without a capacity.
"""

from __future__ import annotations

from ..call import Call
from ..clock import current_clock
from ..flow import Flow
from .config import MockConfig
from .faults import QUEUEING_PROVIDERS, capacity_refusal
from .state import Lane

__all__ = ["admit", "release"]

_WINDOW = 60.0


def admit(call: Call, mock: MockConfig, lane: Lane, request_id: str) -> Flow[None]:
    """Take a slot for this job (waiting in the queue where the provider queues), or raise its 429."""
    limit = mock.rate_limit_per_minute
    if limit is not None:
        now = current_clock().monotonic()
        with lane.lock:
            submits = lane.submits
            while submits and submits[0] <= now - _WINDOW:
                submits.popleft()
            wait = submits[0] + _WINDOW - now if len(submits) >= limit else None
            if wait is None:
                submits.append(now)
        if wait is not None:
            raise capacity_refusal(call, wait, "rate_limit", f"rate limit of {limit} requests per minute")
    if mock.max_concurrency is not None:
        yield from _slot(call, mock.max_concurrency, lane, request_id)


def _slot(call: Call, most: int, lane: Lane, request_id: str) -> Flow[None]:
    ticket = object()
    with lane.lock:
        if lane.in_flight < most and not lane.waiting:
            lane.in_flight += 1
            return
        queues = call.config.provider in QUEUEING_PROVIDERS
        if queues:
            lane.waiting.append(ticket)
    if not queues:
        raise capacity_refusal(call, call.config.poll_interval, "concurrency", f"{most} concurrent jobs at most")
    try:
        while True:
            with lane.lock:
                if lane.waiting[0] is ticket and lane.in_flight < most:
                    lane.waiting.popleft()
                    lane.in_flight += 1
                    return
                position = lane.waiting.index(ticket)
            yield from call.emit(
                request_id=request_id, status="queued", progress_percent=0, update={"queue_position": position}
            )
            yield from call.wait(call.config.poll_interval)
    except BaseException:
        with lane.lock:
            if ticket in lane.waiting:
                lane.waiting.remove(ticket)
        raise


def release(mock: MockConfig, lane: Lane) -> None:
    """Give the job's slot back (after its last event, success or failure)."""
    if mock.max_concurrency is not None:
        with lane.lock:
            lane.in_flight -= 1
