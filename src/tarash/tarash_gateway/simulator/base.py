"""What a simulated provider is made of: requests, answers, jobs, and the provider base.

Each provider module builds on these and on `Host`, the few things it needs
from the simulator that serves it; none imports the server, so the server can import
every provider at the top of its module.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

from .scenario import Scenario

__all__ = ["Host", "Job", "SimFault", "SimRequest", "SimResponse", "SimulatedProvider"]


@dataclass
class SimRequest:
    """One request as a simulated provider sees it."""

    method: str
    path: str  # below the provider's prefix, e.g. "/v1/predictions/abc"
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class SimResponse:
    """One answer: a JSON value, raw bytes or nothing, with its status and headers."""

    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    #: close the connection without answering (a connection dropped mid-request)
    drop: bool = False

    def encode(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes | bytearray):
            data = bytes(self.body)
            headers.setdefault("content-type", "application/octet-stream")
        elif self.body is None:
            data = b""
        else:
            data = json.dumps(self.body).encode()
            headers.setdefault("content-type", "application/json")
        return data, headers


class SimFault(Exception):
    """Raised inside a route: the provider answers with this fault instead (see
    `SimulatedProvider.fault_answer`). `kind` is a `scenario.PhaseFault`."""

    def __init__(self, kind: str, job: Job | None = None, retry_after: float | None = None) -> None:
        super().__init__(kind)
        self.kind, self.job, self.retry_after = kind, job, retry_after


@dataclass
class Job:
    """A simulated job: its scenario, how often it was polled, and what was asked.

    `held` is a job waiting for a slot of its provider's capacity (`admit` says when
    it may run); it reads `queued` and its polls do not count until then.
    """

    id: str
    provider: str
    kind: str  # "video" or "image"
    scenario: Scenario
    payload: Any = None
    polls: int = 0
    cancelled: bool = False
    created: float = field(default_factory=time.monotonic)
    synchronous: bool = False
    held: bool = False
    admit: Callable[[Job], bool] | None = field(default=None, repr=False)
    held_ahead: int = 0
    faulted: set[str] = field(default_factory=set)
    media_issued: float | None = None

    def advance(self) -> None:
        """One status poll: the job moves one step (or its poll fault lands, once)."""
        if self.held:
            if self.admit is None or not self.admit(self):
                return
            self.held = False
        self.fault_at("poll", before=self.polls >= self.scenario.after_polls and not self.finished)
        self.polls += 1

    def fault_at(self, phase: str, *, before: bool = True) -> None:
        """Raise the scenario's fault when it lands at `phase` (once; `job_lost` is not raised:
        the simulator stops knowing the job, see `lost`)."""
        s = self.scenario
        if s.fault is None or s.fault == "job_lost" or s.phase != phase or not before or phase in self.faulted:
            return
        self.faulted.add(phase)
        raise SimFault(s.fault, self, s.retry_after)

    @property
    def lost(self) -> bool:
        """The provider forgot this job: every request about it is a 404 from now on."""
        s = self.scenario
        return s.fault == "job_lost" and self.polls >= s.after_polls

    @property
    def _queue(self) -> int:
        return self.scenario.queue_polls + self.scenario.stall_polls

    def _run_progress(self) -> list[int]:
        """The progress of each processing poll, in order."""
        s = self.scenario
        steps = [min(int(100 * (i + 1) / (s.run_polls + 1)), 99) for i in range(s.run_polls)]
        if s.progress_backwards:
            last = steps[-1] if steps else 50
            steps += [max(last - 30, 0), min(last + 20, 99)]
        return steps

    @property
    def state(self) -> str:
        """`queued`, `processing`, `completed`, `failed` or `cancelled`."""
        s = self.scenario
        if self.cancelled:
            return "cancelled"
        if self.held:
            return "queued"
        if s.fail_after_polls is not None and self.polls >= s.fail_after_polls:
            return "failed"
        if s.stuck:
            return "queued" if self.polls < self._queue else "processing"
        if self.polls < self._queue:
            return "queued"
        if self.polls < self._queue + len(self._run_progress()):
            return "processing"
        return "completed"

    @property
    def finished(self) -> bool:
        return self.state in ("completed", "failed", "cancelled")

    @property
    def queue_position(self) -> int:
        if self.held:
            return self.held_ahead + self._queue
        return max(self._queue - self.polls - 1, 0)

    @property
    def progress(self) -> int:
        if self.state == "completed":
            return 100
        if self.state != "processing" or self.scenario.stuck:
            return 0
        return self._run_progress()[self.polls - self._queue]


class Host(Protocol):
    """What a simulated provider needs from the simulator serving it."""

    @property
    def origin(self) -> str:
        """`scheme://host:port` of the listener the request being served came through."""
        ...

    def new_job(self, provider: str, kind: str, prompt: str | None, payload: Any = None, *,
                synchronous: bool = False) -> Job: ...

    def job(self, job_id: str) -> Job | None: ...

    @property
    def jobs(self) -> list[Job]:
        """Every job, oldest first."""
        ...


class SimulatedProvider:
    """One provider's routes. Subclasses set `name` and implement `handle`.

    Absolute URLs in answers (job URLs, media) are built on the origin of the request
    being served, so a client that came in over TLS is sent `https://` URLs.
    """

    name = ""

    def __init__(self, sim: Host) -> None:
        self.sim = sim

    def handle(self, request: SimRequest) -> SimResponse:
        raise NotImplementedError

    @property
    def media_expired_status(self) -> int:
        """The status of a media URL past its expiry (`mock.faults.MEDIA_EXPIRED_STATUS`, as the mock's)."""
        from ..mock.faults import media_expired_status

        return media_expired_status(self.name)

    # -- faults (subclasses give their own shapes) ------------------------------------------
    def fault_answer(self, fault: SimFault) -> SimResponse:
        """How this provider answers `fault` (raised by a route, or by its capacity)."""
        if fault.kind == "connection_dropped":
            return SimResponse(drop=True)
        if fault.kind == "rate_limit":
            return self.rate_limited(fault.retry_after)
        return self.server_error()

    def rate_limited(self, retry_after: float | None) -> SimResponse:
        """A 429, with `Retry-After` when `retry_after` is given."""
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        return SimResponse(429, {"detail": "Too many requests"}, headers)

    def server_error(self) -> SimResponse:
        """The provider's answer when it fails on its side."""
        return SimResponse(500, {"detail": "Internal server error"})

    # helpers for subclasses
    def new_job(self, kind: str, prompt: str | None, payload: Any = None, *, synchronous: bool = False) -> Job:
        """A job for this provider; `synchronous` for one answered within its request."""
        return self.sim.new_job(self.name, kind, prompt, payload, synchronous=synchronous)

    def own_jobs(self) -> list[Job]:
        """This provider's jobs, oldest first."""
        return [job for job in self.sim.jobs if job.provider == self.name]

    def base_url(self) -> str:
        """This provider's mount on the listener serving the current request."""
        return f"{self.sim.origin}/{self.name}"

    def stock_url(self, file: str, job: Job | None = None) -> str:
        """The URL serving a stock media file (a name relative to the stock directory).

        With the `job` whose output it is, a scenario's media faults and expiry apply to
        it (the URL then names the job).
        """
        url = f"{self.sim.origin}/media/{file}"
        if job is None or (job.scenario.media_expires_after is None and job.scenario.phase != "media"):
            return url
        job.media_issued = job.media_issued or time.monotonic()
        served = self.sim.job(job.id)  # `job` may be a copy made for a stock hint: mark the job itself too
        if served is not None and served is not job:
            served.media_issued = served.media_issued or job.media_issued
        return f"{url}?job={quote(job.id)}"

    def media_url(self, kind: str, job: Job) -> str:
        """A URL serving a stock file for the job (video or image), matched to its payload."""
        from ..mock.stock import StockImage, StockVideo, match_image, match_video

        payload = job.payload if isinstance(job.payload, dict) else {}
        item: StockVideo | StockImage
        if kind == "video":
            item = match_video(payload.get("aspect_ratio"), payload.get("resolution"), None)
        else:
            size = payload.get("size")
            size = size if isinstance(size, str) and "x" in size else None
            aspect = payload.get("aspect_ratio")
            item = match_image(size, aspect if ":" in str(aspect or "") else None)
        return self.stock_url(item.file, job)
