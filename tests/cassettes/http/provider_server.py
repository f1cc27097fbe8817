"""A loopback HTTP server playing a provider's job flow (fal's queue shape): submit, N
polls, result, media URL. Threaded; the fixture starts and stops it. Also runnable as a
script (``python provider_server.py PORTFILE``) for the subprocess tests."""

from __future__ import annotations

import http.server
import json
import sys
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

API_KEY = "fal-key-1234567890abcdef"
SIGNATURE = "sig-0123456789abcdefXYZ"
MEDIA = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
POLLS = 4  # the answer to the fourth poll is terminal


class ProviderServer:
    """``base``: its URL; ``hits``: requests served, by ``METHOD path``."""

    def __init__(self, polls: int = POLLS) -> None:
        self.polls = polls
        self.media_status = 200
        self.hits: Counter[str] = Counter()
        self._jobs: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802
                server._serve(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                server._serve(self, "POST")

            def do_PUT(self) -> None:  # noqa: N802
                server._serve(self, "PUT")

            def log_message(self, *args: object) -> None:
                pass

        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> ProviderServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._http.shutdown()
            self._thread.join()
        self._http.server_close()

    def _serve(self, handler: http.server.BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            self.hits[f"{method} {parts.path}"] += 1
        if parts.path == "/v1/counter":  # a plain GET whose answer changes each time
            return self._send(handler, 200, {"n": self.hits[f"{method} {parts.path}"]})
        if parts.path.startswith("/files/"):
            if parse_qs(parts.query).get("sig") != [SIGNATURE]:
                return self._send(handler, 403, {"detail": "bad signature"})
            if self.media_status != 200:
                return self._send(handler, self.media_status, {"detail": "storage is down"})
            return self._send(handler, 200, MEDIA, "image/png")
        if handler.headers.get("authorization") != f"Key {API_KEY}":
            return self._send(handler, 401, {"detail": "no key"})
        if method == "POST":
            prompt = json.loads(body)["prompt"]
            job = f"job-{abs(hash(prompt)) % 10_000}"
            root = f"{self.base}/fal-ai/flux/requests/{job}"
            return self._send(handler, 200, {"request_id": job, "status": "IN_QUEUE", "queue_position": 0,
                                             "status_url": f"{root}/status", "response_url": root,
                                             "cancel_url": f"{root}/cancel", "echo": API_KEY})
        job = parts.path.split("/")[4]
        if parts.path.endswith("/status"):
            with self._lock:
                self._jobs[job] += 1
                n = self._jobs[job]
            if n < self.polls:
                return self._send(handler, 202, {"status": "IN_PROGRESS", "logs": [{"message": f"step {n}"}]})
            return self._send(handler, 200, {"status": "COMPLETED", "logs": None})
        url = f"{self.base}/files/{job}.png?exp=1700000000&sig={SIGNATURE}"
        return self._send(handler, 200, {"images": [{"url": url, "content_type": "image/png"}], "seed": 7})

    @staticmethod
    def _send(handler: http.server.BaseHTTPRequestHandler, status: int, payload: object,
              content_type: str = "application/json") -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("x-request-id", "req-abc")
        handler.end_headers()
        handler.wfile.write(data)


if __name__ == "__main__":  # a server for a subprocess test: writes its URL, serves until stdin closes
    with ProviderServer() as running:
        Path(sys.argv[1]).write_text(running.base)
        sys.stdin.read()
