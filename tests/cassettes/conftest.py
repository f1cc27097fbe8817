"""Fixtures of the cassette tests: a registered local provider, a loopback media server,
and cassettes closed after each test."""

from __future__ import annotations

import http.server
import mimetypes
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tarash.tarash_gateway import (
    InstantClock,
    register_provider,
    unregister_provider,
    use_clock,
)
from tarash.tarash_gateway.cassettes import close_cassettes
from tarash.tarash_gateway.clock import current_clock
from tarash.tarash_gateway.exceptions import GenerationFailedError, RateLimitError
from tarash.tarash_gateway.models import (
    ImageGenerationResponse,
    VideoGenerationConfig,
    VideoGenerationRequest,
    VideoGenerationResponse,
    VideoGenerationUpdate,
)

PROVIDER = "acme-test"
STEP = 1.5  # seconds of (clock) time between the handler's progress updates


class AcmeHandler:
    """A local provider: two progress updates ``STEP`` apart on the clock, then a response.

    Prompts starting with ``fail`` raise a ``GenerationFailedError`` (on model ``m1``), ``slow`` a
    ``RateLimitError``. ``video`` is what the response's ``video`` holds (a URL or
    ``{"content": ...}``); every call gets a fresh ``request_id`` (``acme-<n>``).
    """

    def __init__(self, video: Any) -> None:
        self.calls = 0
        self.video = video
        self._lock = threading.Lock()

    def _next(self) -> int:
        with self._lock:
            self.calls += 1
            return self.calls

    def generate_video(self, config: Any, request: Any, on_progress: Any = None) -> VideoGenerationResponse:
        n = self._next()
        clock = current_clock()
        for i, status in enumerate(("queued", "processing")):
            if i:
                clock.sleep(STEP)
            if on_progress is not None:
                on_progress(VideoGenerationUpdate(request_id=f"acme-{n}", status=status, progress_percent=50 * i,
                                                  update={"step": i}))
        clock.sleep(STEP)
        if request.prompt.startswith("fail") and config.model == "m1":
            raise GenerationFailedError("the job failed on the GPU", provider=config.provider, model=config.model,
                                        request_id=f"acme-{n}", raw_response={"status": "failed", "n": n})
        if request.prompt.startswith("slow"):
            raise RateLimitError("slow down", provider=config.provider, retry_after=7.5, raw_response={"n": n})
        return VideoGenerationResponse(
            request_id=f"acme-{n}", video=self.video, content_type="video/mp4", duration=4.0,
            raw_response={"n": n, "status": "succeeded"},
        )

    def generate_image(self, config: Any, request: Any, on_progress: Any = None) -> ImageGenerationResponse:
        n = self._next()
        return ImageGenerationResponse(
            request_id=f"acme-{n}", images=["data:image/png;base64,iVBORw0KGgo=", "https://127.0.0.1:9/never.png"],
            raw_response={"n": n},
        )


@pytest.fixture
def media_file(tmp_path: Path) -> Path:
    path = tmp_path / "provider-output.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    return path


@pytest.fixture
def acme(media_file: Path) -> Iterator[AcmeHandler]:
    """The ``acme-test`` provider, registered for the test only."""
    handler = AcmeHandler(media_file.as_uri())
    register_provider(PROVIDER, handler)
    try:
        yield handler
    finally:
        unregister_provider(PROVIDER)


@pytest.fixture(autouse=True)
def _close_cassettes() -> Iterator[None]:
    yield
    close_cassettes()


@pytest.fixture(autouse=True)
def _instant() -> Iterator[None]:
    """The provider's waits are clock waits: never real ones here (``clock`` nests inside)."""
    with use_clock(InstantClock()):
        yield


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cassettes" / "run.db"


def config(**fields: Any) -> VideoGenerationConfig:
    return VideoGenerationConfig(provider=PROVIDER, model="m1", **fields)


def request(prompt: str = "a cat playing piano", **fields: Any) -> VideoGenerationRequest:
    return VideoGenerationRequest(prompt=prompt, **fields)


class MediaServer:
    """A loopback HTTP server serving ``files[path] = bytes``, counting hits."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                server.hits.append(self.path)
                body = server.files.get(path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", mimetypes.guess_type(path)[0] or "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.running = False


@pytest.fixture
def media_server() -> Iterator[MediaServer]:
    server = MediaServer()
    try:
        yield server
    finally:
        server.stop()
