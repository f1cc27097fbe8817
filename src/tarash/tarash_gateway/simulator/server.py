"""A loopback HTTP server that speaks the providers' wire protocols.

```python
with ProviderSimulator() as sim:
    config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", base_url=sim.base_url("fal"))
    ...
```

Each provider is mounted under its own path prefix (`sim.base_url("replicate")`);
its routes live in a `SimulatedProvider` of its own module. Bound to 127.0.0.1
only, on a free port; stops on `stop()`/exit, and by itself after `max_lifetime`
seconds so a forgotten simulator never outlives a test run for long.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..mock.stock import STOCK_DIR
from .scenario import Scenario, scenario_from_prompt

__all__ = ["Job", "ProviderSimulator", "SimRequest", "SimResponse", "SimulatedProvider"]


@dataclass
class SimRequest:
    method: str
    path: str  # below the provider's prefix, e.g. "/v1/predictions/abc"
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class SimResponse:
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


class SimulatedProvider:
    """One provider's routes. Subclasses set `name` and implement `handle`."""

    name = ""

    def __init__(self, sim: ProviderSimulator) -> None:
        self.sim = sim

    def handle(self, request: SimRequest) -> SimResponse:
        raise NotImplementedError

    # helpers for subclasses
    def new_job(self, kind: str, prompt: str | None, payload: Any = None) -> Job:
        return self.sim.new_job(self.name, kind, prompt, payload)

    def base_url(self) -> str:
        return self.sim.base_url(self.name)

    def media_url(self, kind: str, job: Job) -> str:
        return self.sim.media_url(kind, job)


class ProviderSimulator:
    """The loopback provider simulator. Use as a context manager, or `start()`/`stop()`.

    Args:
        default: the scenario of jobs that neither a prompt tag nor `push` names.
        max_lifetime: seconds after which the server stops by itself.
        port: 0 picks a free port.
    """

    def __init__(self, default: Scenario | None = None, *, max_lifetime: float = 900.0, port: int = 0) -> None:
        self.default = default or Scenario()
        self.max_lifetime = max_lifetime
        self._port = port
        self._queue: deque[Scenario] = deque()
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self._providers: dict[str, SimulatedProvider] = {}
        self.requests: list[tuple[str, str, str]] = []  # (provider, method, path) as served
        self._counter = itertools.count(1)

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> ProviderSimulator:
        from .providers import all_providers

        self._providers = {cls.name: cls(self) for cls in all_providers()}
        self._server = _Server(("127.0.0.1", self._port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="tarash-simulator", daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.max_lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if self._timer is not None:
            self._timer.cancel()
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __enter__(self) -> ProviderSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() or use it in a with block")
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # bound: getsockname() gives the host as str
        return f"http://{host}:{port}"

    def base_url(self, provider: str) -> str:
        """The `base_url` to give a config of `provider` to reach this simulator."""
        if provider not in self._providers:
            raise KeyError(f"the simulator does not speak {provider!r}; it speaks {', '.join(sorted(self._providers))}")
        return f"{self.url}/{provider}"

    @property
    def providers(self) -> list[str]:
        return sorted(self._providers)

    # -- scenarios and jobs --------------------------------------------------------------
    def push(self, *scenarios: Scenario | str) -> None:
        """Queue scenarios for the next jobs, in order (names from `NAMED` accepted)."""
        from .scenario import NAMED

        with self._lock:
            for s in scenarios:
                self._queue.append(NAMED[s] if isinstance(s, str) else s)

    def next_scenario(self, prompt: str | None) -> Scenario:
        tagged = scenario_from_prompt(prompt)
        if tagged is not None:
            return tagged
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def new_job(self, provider: str, kind: str, prompt: str | None, payload: Any = None) -> Job:
        job = Job(id=f"sim{next(self._counter):05d}{uuid.uuid4().hex[:12]}", provider=provider, kind=kind,
                  scenario=self.next_scenario(prompt), payload=payload)
        with self._lock:
            self._jobs[job.id] = job
        return job

    def job(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    def media_url(self, kind: str, job: Job) -> str:
        """A URL on this server serving a stock file for the job (video or image)."""
        from ..mock.stock import StockImage, StockVideo, match_image, match_video

        payload = job.payload if isinstance(job.payload, dict) else {}
        item: StockVideo | StockImage
        if kind == "video":
            item = match_video(payload.get("aspect_ratio"), payload.get("resolution"), None)
        else:
            size = payload.get("size") if isinstance(payload.get("size"), str) and "x" in payload.get("size", "") else None
            item = match_image(size, payload.get("aspect_ratio") if ":" in str(payload.get("aspect_ratio", "")) else None)
        return f"{self.url}/media/{item.file}"

    # -- dispatch ------------------------------------------------------------------------
    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> SimResponse:
        parts = urlsplit(raw_path)
        segments = parts.path.lstrip("/").split("/", 1)
        prefix, rest = segments[0], "/" + (segments[1] if len(segments) > 1 else "")
        if prefix == "media" and method == "GET":
            return _serve_media(rest)
        provider = self._providers.get(prefix)
        if provider is None:
            return SimResponse(404, {"detail": f"no simulated provider at /{prefix}"})
        with self._lock:
            self.requests.append((prefix, method, rest))
        return provider.handle(SimRequest(method, rest, parse_qs(parts.query), headers, body))


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) resets connections when hundreds of clients
    # connect at once, as the concurrency benchmark does.
    request_queue_size = 1024


def _serve_media(rest: str) -> SimResponse:
    path = (STOCK_DIR / rest.lstrip("/")).resolve()
    if STOCK_DIR.resolve() not in path.parents or not path.is_file():
        return SimResponse(404, {"detail": "no such media"})
    content_type = "video/mp4" if path.suffix == ".mp4" else "image/png"
    return SimResponse(200, path.read_bytes(), {"content-type": content_type})


def _handler_for(sim: ProviderSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without TCP_NODELAY each answer
        # waits ~40 ms for the client's delayed ACK.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                response = sim.dispatch(self.command, self.path, headers, body)
            except Exception as error:  # a simulator bug answers 500 rather than hanging the client
                response = SimResponse(500, {"detail": f"simulator error: {error!r}"})
            delay = float(response.headers.pop("x-sim-latency", 0) or 0)
            if delay > 0:
                time.sleep(delay)
            data, out_headers = response.encode()
            self.send_response(response.status)
            for name, value in out_headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet by default
            pass

    return Handler
