"""Start the cassette browser: a read-only Datasette over one cassette, with our plugin.

The cassette is checked first through a read-only connection (a tarash cassette of a
schema this version reads, not a foreign or damaged file), then handed to Datasette
as an *immutable* database: opened `immutable=1`, so nothing the browser does can
write to it, not even a journal. A cassette with recordings in its write-ahead log (a
session recording into it now) is opened `mode=ro` instead: still read-only, and it
sees those recordings. Served on 127.0.0.1 unless asked otherwise.

Examples:
    >>> with BrowserServer("cassettes/run.db", port=0) as server:  # doctest: +SKIP
    ...     print(server.url)
    http://127.0.0.1:38211/-/tarash
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from ..cassettes.store import APPLICATION_ID, SCHEMA_VERSION, guard
from ..exceptions import CassetteError

__all__ = ["BrowserServer", "build_datasette", "check_cassette", "has_live_log", "is_loopback"]

PACKAGE = Path(__file__).resolve().parent
SETTINGS = {"truncate_cells_html": 160, "default_page_size": 50, "sql_time_limit_ms": 3000,
            "facet_time_limit_ms": 500, "num_sql_threads": 3}


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (`127.0.0.1`, `::1`, `localhost`)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def has_live_log(path: Path) -> bool:
    """Whether recordings may sit in the cassette's write-ahead log (a session is recording
    into it, or one ended abruptly): an immutable view would not see them."""
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def check_cassette(path: Path) -> None:
    """Refuse, with a one-line `CassetteError`, what the browser cannot show read-only."""
    if not path.is_file():
        raise CassetteError(f"cassette {path} does not exist")
    if any(c in str(path.resolve()) for c in "?#%"):
        raise CassetteError(f"{path}: the browser cannot open a file whose path holds '?', '#' or '%'; rename it")
    mode = "mode=ro" if has_live_log(path) else "immutable=1"
    conn = sqlite3.connect(f"file:{path.resolve()}?{mode}", uri=True)
    try:
        with guard(str(path), "opening it read-only"):
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    if app_id != APPLICATION_ID or not {"recordings", "blobs", "media", "http_interactions"} <= tables:
        raise CassetteError(f"{path} is not a tarash cassette")
    if not 1 <= version <= SCHEMA_VERSION:  # the pages read only what every version has
        raise CassetteError(f"cassette {path} has schema version {version}, newer than this tarash-gateway "
                            f"understands ({SCHEMA_VERSION}); upgrade tarash-gateway to browse it")


def build_datasette(path: Path) -> Any:
    """A Datasette serving the cassette immutable, with the browser plugin and its pages."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    from . import plugin

    check_cassette(path)
    if not pm.is_registered(plugin):
        pm.register(plugin, name=plugin.PLUGIN)
    name = path.stem
    metadata = {
        "title": f"Cassette {path.name}",
        "description": "Read-only: recordings, their media and timelines, and raw HTTP interactions.",
        "databases": {name: {
            "tables": {
                "recordings": {"facets": ["provider", "model", "outcome", "kind"], "sort_desc": "id"},
                "http_interactions": {"facets": ["method"], "sort": "id"},
                "blobs": {"hidden": True},  # its data column holds whole videos: listed by the query below
            },
            "queries": {"blob_list": {"title": "Blobs (without their bytes)",
                                      "sql": "SELECT hash, size, content_type FROM blobs ORDER BY size DESC"}},
        }},
        "plugins": {plugin.PLUGIN: {"database": name}},
    }
    # Immutable unless recordings sit in the write-ahead log: then read-only (mode=ro), which
    # reads the log too, and shows what a running session adds on the next reload.
    opened = {"files" if has_live_log(path) else "immutables": [str(path.resolve())]}
    return Datasette(**opened, metadata=metadata, settings=SETTINGS,
                     template_dir=str(PACKAGE / "templates"), static_mounts=[("-/tarash-static", str(PACKAGE / "static"))])


class BrowserServer:
    """The browser on a socket of its own: `serve_forever()` in the foreground, or
    `with BrowserServer(...)` in a background thread (tests, embedding)."""

    def __init__(self, path: str | Path, *, host: str = "127.0.0.1", port: int = 8001) -> None:
        import uvicorn

        self.datasette = build_datasette(Path(path))
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
        except OSError as error:
            self.socket.close()
            raise CassetteError(f"cannot serve on {host}:{port}: {error.strerror or error}") from error
        self.socket.listen(128)
        bound = self.socket.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound}/-/tarash"
        config = uvicorn.Config(self.datasette.app(), log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        """Serve until interrupted (Ctrl-C), then close everything."""
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.close()

    def __enter__(self) -> BrowserServer:
        self._thread = threading.Thread(target=lambda: asyncio.run(self.server.serve(sockets=[self.socket])),
                                        name="tarash-browser", daemon=True)
        self._thread.start()
        while not self.server.started and self._thread.is_alive():
            self._thread.join(0.01)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.close()
        for database in self.datasette.databases.values():
            database.close()
        self.datasette.executor.shutdown(wait=False)
