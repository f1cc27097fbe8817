"""A local HTTP/1.1 server for the benchmarks (`bench_cassettes.py`, `bench_http.py`,
`bench_stores.py`): keep-alive, Nagle off (else delayed ACKs add 40 ms to each
keep-alive request), no request log."""

from __future__ import annotations

import http.server
import shutil
import threading
from collections.abc import Callable
from pathlib import Path


def serve(answer: Callable[[str], tuple[str, bytes | Path]]) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Start the server in a daemon thread; `answer(path)` gives each GET's content type
    and body (bytes, or a file streamed as it is read). Returns the server (`shutdown()`,
    `server_close()` when done) and its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802
            kind, body = answer(self.path)
            self.send_response(200)
            self.send_header("Content-Type", kind)
            if isinstance(body, Path):
                self.send_header("Content-Length", str(body.stat().st_size))
                self.end_headers()
                with body.open("rb") as handle:
                    shutil.copyfileobj(handle, self.wfile, 1 << 20)
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def serve_json(text_for: Callable[[str], str]) -> tuple[http.server.ThreadingHTTPServer, str]:
    """`serve` with `text_for(path)`, the JSON text of each GET."""
    return serve(lambda path: ("application/json", text_for(path).encode()))
