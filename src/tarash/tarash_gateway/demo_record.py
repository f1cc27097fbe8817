"""The record/replay part of ``make demo``: record a short run, then replay it offline.

``run(report, workdir)`` registers a small local provider (``demo-studio``) whose jobs
take a moment and report progress, serves its "generated" video from a loopback URL,
records three calls into ``workdir/demo.db``, then shuts the URL and the provider down
and replays the run: same responses, same progress events, the video from the cassette,
in a fraction of the time.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.request import url2pathname

from . import generate_video, register_provider, unregister_provider
from .cassettes import use_cassette
from .mock.stock import match_video
from .models import VideoGenerationConfig, VideoGenerationRequest, VideoGenerationResponse, VideoGenerationUpdate

__all__ = ["run"]

PROVIDER = "demo-studio"
PROMPTS = ("a lighthouse at dawn", "a cat playing piano", "rain on a neon street")
JOB_STEP = 0.15  # seconds between the provider's progress updates


class _Studio:
    """A provider that takes ``3 * JOB_STEP`` per job and reports progress on the way."""

    def __init__(self, video_url: str) -> None:
        self.video_url = video_url
        self.jobs = 0

    def generate_video(self, config: Any, request: Any, on_progress: Any = None) -> VideoGenerationResponse:
        self.jobs += 1
        job = f"studio-{self.jobs}"
        for status, percent in (("queued", 0), ("processing", 40), ("processing", 80)):
            if on_progress is not None:
                on_progress(VideoGenerationUpdate(request_id=job, status=status, progress_percent=percent))
            time.sleep(JOB_STEP)
        return VideoGenerationResponse(request_id=job, video=f"{self.video_url}?job={job}&expires=1",
                                       content_type="video/mp4", duration=4.0, raw_response={"job": job})


def _serve(data: bytes) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/outputs/video.mp4"


def run(report: Callable[[str], None], workdir: Path) -> None:
    """Record three calls into ``workdir/demo.db``, then replay them with no provider and no network."""
    workdir.mkdir(parents=True, exist_ok=True)
    cassette = workdir / "demo.db"
    clip = match_video("16:9", "480p", 4)
    server, url = _serve(clip.path.read_bytes())
    studio = _Studio(url)
    register_provider(PROVIDER, studio)
    config = VideoGenerationConfig(provider=PROVIDER, model="studio-v1")
    try:
        report(f"recording {len(PROMPTS)} calls to the '{PROVIDER}' provider into {cassette} ...")
        started = time.perf_counter()
        live: list[tuple[str, list[str]]] = []
        with use_cassette(cassette, record_mode="all") as recording:
            for prompt in PROMPTS:
                events: list[str] = []
                response = generate_video(config, VideoGenerationRequest(prompt=prompt),
                                          lambda u, events=events: events.append(f"{u.status} {u.progress_percent}%"))
                live.append((response.request_id, events))
        recorded_in = time.perf_counter() - started
        report(f"  recorded {recording.recorded} calls and their video in {recorded_in:.2f} s "
               f"({studio.jobs} provider jobs)")
    finally:
        server.shutdown()
        server.server_close()
        unregister_provider(PROVIDER)

    report("the provider is gone and its video URL is dead; replaying offline ...")
    started = time.perf_counter()
    with use_cassette(cassette, record_mode="none", media="file") as replay:
        for (request_id, live_events), prompt in zip(live, PROMPTS, strict=True):
            events: list[str] = []
            response = generate_video(config, VideoGenerationRequest(prompt=prompt),
                                      lambda u, events=events: events.append(f"{u.status} {u.progress_percent}%"))
            local = Path(url2pathname(str(response.video)[len("file://"):]))
            same = "same" if (response.request_id, events) == (request_id, live_events) else "DIFFERENT"
            report(f"  {prompt!r}: {response.request_id} from {response.origin.source}, {len(events)} progress "
                   f"events ({same} as live), video {local.name} ({local.stat().st_size // 1024} KB, local)")
    replayed_in = time.perf_counter() - started
    report(f"  replayed {replay.replayed} calls in {replayed_in:.3f} s instead of {replay.replayed_seconds:.2f} s: "
           f"{replay.replayed_seconds - replayed_in:.2f} s saved, no provider, no network, no credits")
