"""The loopback provider simulator: one object serving every simulated provider.

```python
with ProviderSimulator() as sim:
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", base_url=sim.base_url("fal"))
    ...
```

Each provider is mounted under its own path prefix (`sim.base_url("replicate")`);
its routes live in a `SimulatedProvider` of its own module. Bound to
127.0.0.1 only, on a free port; stops on `stop()`/exit, and by itself after
`max_lifetime` seconds so a forgotten simulator never outlives a test run for long.

Scenarios script each job (`scenario`); `capacity=` gives providers a concurrency
and a rate limit, answered each provider's own way (`capacity`).

With `tls=` a second listener serves the same providers over HTTPS
(`sim.base_url("fal", tls=True)`), for the vendor SDKs that insist on `https://`;
answers name URLs on the listener the request came through.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import time
import uuid
from collections import deque
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..mock.faults import QUEUEING_PROVIDERS
from ..mock.stock import STOCK_DIR
from .base import Job, SimFault, SimRequest, SimResponse, SimulatedProvider
from .capacity import Capacity, RateWindow
from .providers import all_providers
from .scenario import NAMED, Scenario, scenario_from_prompt
from .tls import SimulatorTLS
from .wire import Listener

__all__ = ["Capacity", "Job", "ProviderSimulator", "SimFault", "SimRequest", "SimResponse", "SimulatedProvider"]

_origin: ContextVar[str | None] = ContextVar("tarash_simulator_origin", default=None)


class ProviderSimulator:
    """The loopback provider simulator. Use as a context manager, or `start()`/`stop()`.

    Args:
        default: the scenario of jobs that neither a prompt tag nor `push` names.
        max_lifetime: seconds after which the server stops by itself.
        port: 0 picks a free port.
        tls: also listen with TLS: a `SimulatorTLS` to present, or
            `True` to generate a test CA and certificate (needs `trustme`; removed
            on stop). `ca_file` names the bundle clients trust via `SSL_CERT_FILE`.
        tls_port: port of the TLS listener (0 picks a free one).
        keep_received: how many received requests `received` keeps.
        capacity: per provider name, its `Capacity` (concurrency and rate limit).

    Example:
        ```python
        with ProviderSimulator(tls=True) as sim:
            fal = sim.base_url("fal", tls=True)      # https://127.0.0.1:<port>/fal
            env = sdk_environment(sim, "fal-client")  # FAL_QUEUE_RUN_HOST, SSL_CERT_FILE, ...
        ```
    """

    def __init__(self, default: Scenario | None = None, *, max_lifetime: float = 900.0, port: int = 0,
                 tls: SimulatorTLS | bool = False, tls_port: int = 0, keep_received: int = 1000,
                 capacity: dict[str, Capacity] | None = None) -> None:
        self.default = default or Scenario()
        self.max_lifetime = max_lifetime
        self._port = port
        self._tls_port = tls_port
        self._tls_wanted = tls
        self._tls: SimulatorTLS | None = tls if isinstance(tls, SimulatorTLS) else None
        self._tls_dir: Path | None = None
        self._queue: deque[Scenario] = deque()
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._timer: threading.Timer | None = None
        self._providers: dict[str, SimulatedProvider] = {}
        self.requests: list[tuple[str, str, str]] = []  # (provider, method, path) as served
        #: the latest requests as received, headers and body included (for wire checks).
        self.received: deque[tuple[str, SimRequest]] = deque(maxlen=keep_received)
        self._counter = itertools.count(1)
        self._capacity: dict[str, Capacity] = {}
        self._windows: dict[str, RateWindow] = {}
        for provider, limits in (capacity or {}).items():
            self.set_capacity(provider, limits)

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> ProviderSimulator:
        self._providers = {cls.name: cls(self) for cls in all_providers()}
        if self._tls_wanted is True and self._tls is None:
            self._tls_dir = Path(tempfile.mkdtemp(prefix="tarash-simulator-tls-"))
            self._tls = SimulatorTLS.generate(self._tls_dir)
        context = self._tls.server_context() if self._tls is not None else None
        try:
            self._listeners = [Listener(self.dispatch, port=self._port)]
            if context is not None:
                self._listeners.append(Listener(self.dispatch, port=self._tls_port, tls=context))
        except OSError:
            self.stop()
            raise
        self._timer = threading.Timer(self.max_lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        listeners, self._listeners = self._listeners, []
        if self._timer is not None:
            self._timer.cancel()
        for listener in listeners:
            listener.close()
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir, self._tls = None, None

    def __enter__(self) -> ProviderSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------
    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>` of the plain listener."""
        if not self._listeners:
            raise RuntimeError("the simulator is not running; call start() or use it in a with block")
        return self._listeners[0].url

    @property
    def tls_url(self) -> str:
        """`https://127.0.0.1:<port>` of the TLS listener."""
        if len(self._listeners) < 2:
            _ = self.url  # not running: that error first
            raise RuntimeError("the simulator has no TLS listener; start it with tls=True or tls=SimulatorTLS(...)")
        return self._listeners[1].url

    @property
    def ca_file(self) -> Path | None:
        """The CA bundle that trusts the TLS listener (for `SSL_CERT_FILE`), if any."""
        return self._tls.ca_file if self._tls is not None else None

    @property
    def origin(self) -> str:
        """The listener URL of the request being served (`url` outside a request)."""
        return _origin.get() or self.url

    def base_url(self, provider: str, *, tls: bool = False) -> str:
        """The `base_url` to give a config of `provider` to reach this simulator."""
        if provider not in self._providers:
            raise KeyError(f"the simulator does not speak {provider!r}; it speaks {', '.join(sorted(self._providers))}")
        return f"{self.tls_url if tls else self.url}/{provider}"

    @property
    def providers(self) -> list[str]:
        return sorted(self._providers)

    # -- scenarios and jobs --------------------------------------------------------------
    def push(self, *scenarios: Scenario | str) -> None:
        """Queue scenarios for the next jobs, in order (names from `NAMED` accepted)."""
        with self._lock:
            for s in scenarios:
                self._queue.append(NAMED[s] if isinstance(s, str) else s)

    def next_scenario(self, prompt: str | None) -> Scenario:
        tagged = scenario_from_prompt(prompt)
        if tagged is not None:
            return tagged
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def set_capacity(self, provider: str, capacity: Capacity | None) -> None:
        """Give `provider` a capacity (`None` removes it); applies to the next submits."""
        known = sorted(cls.name for cls in all_providers())
        if provider not in known:
            raise KeyError(f"the simulator does not speak {provider!r}; it speaks {', '.join(known)}")
        if capacity is not None and not isinstance(capacity, Capacity):
            raise TypeError(f"capacity for {provider!r} is a Capacity(...) or None, got {type(capacity).__name__}")
        with self._lock:
            if capacity is None:
                self._capacity.pop(provider, None)
                self._windows.pop(provider, None)
                return
            self._capacity[provider] = capacity
            if capacity.rate_limit_per_minute is not None:
                self._windows[provider] = RateWindow(capacity.rate_limit_per_minute)
            else:
                self._windows.pop(provider, None)

    def new_job(self, provider: str, kind: str, prompt: str | None, payload: Any = None, *,
                synchronous: bool = False) -> Job:
        """A new job; raises `SimFault` (a 429) when the provider's capacity refuses it."""
        job = Job(id=f"sim{next(self._counter):05d}{uuid.uuid4().hex[:12]}", provider=provider, kind=kind,
                  scenario=self.next_scenario(prompt), payload=payload, synchronous=synchronous)
        limits = self._capacity.get(provider)
        window = self._windows.get(provider)
        if window is not None:
            wait = window.take()
            if wait is not None:
                raise SimFault("rate_limit", None, wait)
        with self._lock:
            if limits is not None and limits.max_concurrency is not None and not synchronous:
                running = sum(1 for j in self._jobs.values() if self._occupies(j, provider))
                if running >= limits.max_concurrency:
                    if provider not in QUEUEING_PROVIDERS:
                        raise SimFault("rate_limit", None, limits.retry_after)
                    job.held, job.admit = True, self._may_run
                    job.held_ahead = sum(1 for j in self._jobs.values() if j.provider == provider and j.held)
            self._jobs[job.id] = job
        return job

    @staticmethod
    def _occupies(job: Job, provider: str) -> bool:
        return job.provider == provider and not job.synchronous and not job.held and not job.finished

    def _may_run(self, job: Job) -> bool:
        """Whether a held job gets its slot now: a slot is free and no older job waits."""
        limits = self._capacity.get(job.provider)
        with self._lock:
            held = [j for j in self._jobs.values() if j.provider == job.provider and j.held]
            job.held_ahead = held.index(job) if job in held else 0
            if limits is None or limits.max_concurrency is None:
                return True
            running = sum(1 for j in self._jobs.values() if self._occupies(j, job.provider))
            return job.held_ahead == 0 and running < limits.max_concurrency

    def job(self, job_id: str) -> Job | None:
        """The job of that id; `None` when there is none, or the provider lost it (`job_lost`)."""
        job = self._jobs.get(job_id)
        return None if job is None or job.lost else job

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    def media_url(self, kind: str, job: Job) -> str:
        """A URL on this server serving a stock file for the job (video or image)."""
        provider = self._providers.get(job.provider) or SimulatedProvider(self)
        return provider.media_url(kind, job)

    # -- dispatch ------------------------------------------------------------------------
    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes,
                 origin: str | None = None) -> SimResponse:
        """Answer one request; `origin` is the listener it came through."""
        token = _origin.set(origin)
        try:
            return self._dispatch(method, raw_path, headers, body)
        finally:
            _origin.reset(token)

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> SimResponse:
        parts = urlsplit(raw_path)
        segments = parts.path.lstrip("/").split("/", 1)
        prefix, rest = segments[0], "/" + (segments[1] if len(segments) > 1 else "")
        if prefix == "media" and method == "GET":
            return self._media(rest, parse_qs(parts.query))
        provider = self._providers.get(prefix)
        if provider is None:
            return SimResponse(404, {"detail": f"no simulated provider at /{prefix}"})
        request = SimRequest(method, rest, parse_qs(parts.query), headers, body)
        with self._lock:
            self.requests.append((prefix, method, rest))
            self.received.append((prefix, request))
        try:
            return provider.handle(request)
        except SimFault as fault:
            return provider.fault_answer(fault)

    def _media(self, rest: str, query: dict[str, list[str]]) -> SimResponse:
        """A stock file; for a job's media URL (`?job=`), its media fault or expiry first."""
        job = self._jobs.get((query.get("job") or [""])[0])
        if job is not None:
            provider = self._providers.get(job.provider) or SimulatedProvider(self)
            expires = job.scenario.media_expires_after
            if expires is not None and time.monotonic() - (job.media_issued or time.monotonic()) >= expires:
                status = provider.media_expired_status
                return SimResponse(status, {"detail": f"the media of {job.id} has expired"})
            try:
                job.fault_at("media")
            except SimFault as fault:
                return provider.fault_answer(fault)
        return _serve_media(rest)


def _serve_media(rest: str) -> SimResponse:
    path = (STOCK_DIR / rest.lstrip("/")).resolve()
    if STOCK_DIR.resolve() not in path.parents or not path.is_file():
        return SimResponse(404, {"detail": "no such media"})
    content_type = "video/mp4" if path.suffix == ".mp4" else "image/png"
    return SimResponse(200, path.read_bytes(), {"content-type": content_type})
