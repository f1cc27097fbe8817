"""Media capture at the HTTP level: the output URLs a recorded answer names are downloaded
beside the app, while the provider's URL still works, and stored once by content hash as
`GET` exchanges of those URLs, so a replay serves them after the URL expired.

The downloads run in a small thread pool through the gateway's own client (never recorded
twice); the `use_cassette` block (or the process, for `TARASH_CASSETTE`, or the
transport's `close`) waits for them before it ends. A failed download is logged as a
warning and the recording keeps everything else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from ..config import CassetteConfig, RecordMode
from ..scrub import Scrubber
from ..session import CassetteSession
from ..store import CHUNK, BlobSource
from .flows import MEDIA, Step

__all__ = ["MediaCapture"]

log = logging.getLogger("tarash.cassettes")
_TIMEOUT = 60.0
_WORKERS = 4
_KEPT_HEADERS = ("content-type", "content-disposition", "etag", "last-modified", "cache-control")


class MediaCapture:
    """The media downloads of one cassette session."""

    def __init__(self, session: CassetteSession) -> None:
        self.session = session
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()

    def submit(self, url: str, key: str, headers: list[tuple[str, str]], step: Step, scrubber: Scrubber,
               config: CassetteConfig) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="tarash-media")
            self._pending.append(self._pool.submit(self._download, url, key, headers, step, scrubber, config))

    def finish(self) -> None:
        """Wait for every download started so far; release the pool."""
        while True:
            with self._lock:
                pending, self._pending = self._pending, []
            if not pending:
                break
            for future in pending:
                future.exception()  # _download logs its own failures
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _download(self, url: str, key: str, headers: list[tuple[str, str]], step: Step, scrubber: Scrubber,
                  config: CassetteConfig) -> None:
        store = self.session.store
        shown = scrubber.url(url)[:160]
        try:
            if store is None or store.count_exchanges(key):
                return  # the app fetched it itself meanwhile
            with tempfile.TemporaryFile() as spool:
                status, kept, hasher, size = self._fetch(url, headers, spool)
                if status >= 400:
                    log.warning("media %s was not captured: HTTP %s", shown, status)
                    return
                blob = BlobSource(hasher.hexdigest(), size, _ctype(kept), file=spool)
                store.add_exchange(_row(key, shown, url, step, kept, blob, scrubber), [blob],
                                   replace_before=self.session.started if config.record_mode is RecordMode.ALL else None)
        except Exception as error:  # noqa: BLE001 - a failed capture must never fail the recording
            log.warning("media %s was not captured: %s", shown, scrubber.text(str(error)))  # errors may quote the URL

    def _fetch(self, url: str, headers: list[tuple[str, str]], spool: Any) -> tuple[int, list[tuple[str, str]], Any, int]:
        hasher, size = hashlib.sha256(), 0
        from ...providers.http import sync_client  # the gateway's own client: shared TLS context, never recorded

        with sync_client().stream("GET", url, headers=headers, timeout=_TIMEOUT) as response:
            kept = [(k, v) for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS]
            if response.status_code >= 400:
                return response.status_code, kept, hasher, 0
            for chunk in response.iter_bytes(CHUNK):
                spool.write(chunk)
                hasher.update(chunk)
                size += len(chunk)
        return response.status_code, kept, hasher, size


def _ctype(headers: list[tuple[str, str]]) -> str | None:
    return next((v for k, v in headers if k.lower() == "content-type"), None)


def _row(key: str, shown: str, url: str, step: Step, headers: list[tuple[str, str]], blob: BlobSource,
         scrubber: Scrubber) -> dict[str, Any]:
    from urllib.parse import urlsplit

    from .keys import canonical_url, request_key

    parts = urlsplit(url)
    _, canonical = request_key("GET", canonical_url(url, scrubber), None)
    now = time.time()
    with contextlib.suppress(Exception):
        headers = [(k, scrubber.text(v)) for k, v in headers]
    return {
        "key": key, "method": "GET", "url": scrubber.url(url), "host": (parts.hostname or "").lower(),
        "path": parts.path, "request": canonical, "status": 200,
        "headers": json.dumps([list(h) for h in headers], separators=(",", ":")),
        "request_body": None, "response_body": blob.hash, "provider": step.provider, "role": MEDIA,
        "job": step.job, "terminal": 0,
        "recorded_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"), "recorded_ts": now,
    }
