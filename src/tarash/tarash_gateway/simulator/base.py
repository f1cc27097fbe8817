"""What a simulated provider is made of: requests, answers, jobs, and the provider base.

Each provider module builds on these and on `Host`, the few things it needs
from the simulator that serves it; none imports the server, so the server can import
every provider at the top of its module.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from .scenario import Scenario

__all__ = ["Host", "Job", "SimRequest", "SimResponse", "SimulatedProvider"]


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


@dataclass
class Job:
    """A simulated job: its scenario, how often it was polled, and what was asked."""

    id: str
    provider: str
    kind: str  # "video" or "image"
    scenario: Scenario
    payload: Any = None
    polls: int = 0
    cancelled: bool = False
    created: float = field(default_factory=time.monotonic)

    def advance(self) -> None:
        self.polls += 1

    @property
    def state(self) -> str:
        """`queued`, `processing`, `completed`, `failed` or `cancelled`."""
        s = self.scenario
        if self.cancelled:
            return "cancelled"
        if s.fail_after_polls is not None and self.polls >= s.fail_after_polls:
            return "failed"
        if s.stuck:
            return "queued" if self.polls < s.queue_polls else "processing"
        if self.polls < s.queue_polls:
            return "queued"
        if self.polls < s.queue_polls + s.run_polls:
            return "processing"
        return "completed"

    @property
    def finished(self) -> bool:
        return self.state in ("completed", "failed", "cancelled")

    @property
    def queue_position(self) -> int:
        return max(self.scenario.queue_polls - self.polls - 1, 0)

    @property
    def progress(self) -> int:
        s = self.scenario
        if self.state == "completed":
            return 100
        if self.state != "processing" or s.stuck:
            return 0
        done = self.polls - s.queue_polls + 1
        return min(int(100 * done / (s.run_polls + 1)), 99)


class Host(Protocol):
    """What a simulated provider needs from the simulator serving it."""

    @property
    def origin(self) -> str:
        """`scheme://host:port` of the listener the request being served came through."""
        ...

    def new_job(self, provider: str, kind: str, prompt: str | None, payload: Any = None) -> Job: ...

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

    # helpers for subclasses
    def new_job(self, kind: str, prompt: str | None, payload: Any = None) -> Job:
        return self.sim.new_job(self.name, kind, prompt, payload)

    def own_jobs(self) -> list[Job]:
        """This provider's jobs, oldest first."""
        return [job for job in self.sim.jobs if job.provider == self.name]

    def base_url(self) -> str:
        """This provider's mount on the listener serving the current request."""
        return f"{self.sim.origin}/{self.name}"

    def stock_url(self, file: str) -> str:
        """The URL serving a stock media file (a name relative to the stock directory)."""
        return f"{self.sim.origin}/media/{file}"

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
        return self.stock_url(item.file)
