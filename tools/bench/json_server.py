"""A local HTTP/1.1 server answering every GET with JSON, for the HTTP-level benchmarks
(`bench_http.py`, `bench_stores.py`): keep-alive, Nagle off (else delayed ACKs add 40 ms
to each keep-alive request), no request log."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable


def serve_json(answer: Callable[[str], str]) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Start the server in a daemon thread; `answer(path)` is the JSON text of each GET.
    Returns the server (`shutdown()`, `server_close()` when done) and its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802
            body = answer(self.path).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
