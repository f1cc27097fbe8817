"""The simulator's listeners: threaded HTTP/1.1 servers on 127.0.0.1, plain or TLS.

A listener only moves bytes: it reads a request, hands `(method, path, headers, body,
origin)` to a dispatch function and writes the `SimResponse` back. The
TLS listener does its handshake in the request's own thread, so a client that does
not trust the certificate fails alone and never stalls the accept loop.
"""

from __future__ import annotations

import ssl
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .base import SimResponse

__all__ = ["Dispatch", "Listener"]

#: seconds between two checks of a stop request: a stop (tests stop many simulators)
#: waits for it, and the default (0.5 s) made every stop take that long.
_POLL = 0.05

#: seconds a TLS client has to complete its handshake.
_HANDSHAKE = 10.0

#: `(method, raw path, lower-case headers, body, origin) -> answer`
Dispatch = Callable[[str, str, dict[str, str], bytes, str], SimResponse]


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) resets connections when hundreds of clients
    # connect at once, as the concurrency benchmark does.
    request_queue_size = 1024
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up before its answer is written (a timeout, a cancelled
        # task, a test that stopped reading) is not the simulator's error: no traceback
        # on the console. Anything else in a handler is, and is printed as usual.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _TLSServer(_Server):
    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 context: ssl.SSLContext) -> None:
        super().__init__(address, handler)
        self.context = context

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.settimeout(_HANDSHAKE)  # a client that never speaks must not hold its thread for ever
            request.do_handshake()
            request.settimeout(None)
        except (ssl.SSLError, OSError):  # e.g. a client that does not trust the test CA
            return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client closing its TLS connection mid-request is not the simulator's error


class Listener:
    """One listening socket on 127.0.0.1 and the thread serving it.

    Args:
        dispatch: answers each request.
        port: 0 picks a free port.
        tls: a server context for HTTPS, or `None` for plain HTTP.
    """

    def __init__(self, dispatch: Dispatch, *, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.scheme = "https" if tls is not None else "http"
        handler = _handler_for(dispatch, self)
        self._server: _Server = _TLSServer(("127.0.0.1", port), handler, tls) if tls else _Server(
            ("127.0.0.1", port), handler)
        host, bound = self._server.server_address[:2]
        assert isinstance(host, str)  # bound: getsockname() gives the host as str
        self.url = f"{self.scheme}://{host}:{bound}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(_POLL,), name=f"tarash-simulator-{self.scheme}",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)


def _handler_for(dispatch: Dispatch, listener: Listener) -> type[BaseHTTPRequestHandler]:
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
                response = dispatch(self.command, self.path, headers, body, listener.url)
            except Exception as error:  # a simulator bug answers 500 rather than hanging the client
                response = SimResponse(500, {"detail": f"simulator error: {error!r}"})
            if response.drop:  # a connection dropped mid-request: close it without a word
                self.close_connection = True
                return
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

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet by default
            pass

    return Handler
