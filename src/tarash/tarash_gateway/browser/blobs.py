"""The blob route: a cassette's stored media, streamed from SQLite in chunks.

`GET /-/tarash/blobs/<sha256>` answers with the blob's bytes, never more than one
chunk in memory, with `Range` support so a `<video>` can seek. Only a valid hash
addresses a blob (`check_digest`), and the bytes are checked
against it:

- a whole-blob answer is hashed as it streams and its last chunk held back until the
  hash matches; a damaged blob never arrives complete (the connection is closed, a
  browser shows a broken image);
- a range is served only from a blob hashed once in full by this server (the cassette
  is opened immutable, so the result holds while it runs).

The content type comes from `ranges.safe_content_type`, with `nosniff` and a
sandboxing `Content-Security-Policy`, so no blob runs as a page of this origin.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import sqlite3
import weakref
from typing import Any

from datasette.utils.asgi import Response

from ..cassettes.store import check_digest
from ..exceptions import CassetteError
from .ranges import FALLBACK_TYPE, ByteRange, RangeNotSatisfiable, parse_range, safe_content_type

__all__ = ["BlobResponse", "blob_view", "read_blob_text"]

CHUNK = 256 * 1024
TEXT_PREVIEW = 64 * 1024
BLOB_HEADERS = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; img-src 'self'; media-src 'self'; sandbox",
    "accept-ranges": "bytes",
    "cache-control": "private, max-age=86400",
}
log = logging.getLogger("tarash.browser")

#: Hashes each server has read in full and found right, per Datasette instance.
_verified: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def _open_blob(db: Any, rowid: int, offset: int) -> tuple[sqlite3.Connection, sqlite3.Blob]:
    """A connection of its own, opened as Datasette opens the cassette (never for writing),
    and the blob's handle at `offset`."""
    mode = "mode=ro" if db.is_mutable else "immutable=1"
    conn = sqlite3.connect(f"file:{db.path}?{mode}", uri=True, check_same_thread=False)
    try:
        blob = conn.blobopen("blobs", "data", rowid, readonly=True)
        blob.seek(offset)
    except BaseException:
        conn.close()
        raise
    return conn, blob


def _close(conn: sqlite3.Connection, blob: sqlite3.Blob) -> None:
    blob.close()
    conn.close()


def _read(conn: sqlite3.Connection, rowid: int, offset: int, size: int) -> bytes:
    with conn.blobopen("blobs", "data", rowid, readonly=True) as blob:
        blob.seek(offset)
        return blob.read(size)


def _digest(conn: sqlite3.Connection, rowid: int) -> str:
    hasher = hashlib.sha256()
    with conn.blobopen("blobs", "data", rowid, readonly=True) as blob:
        while chunk := blob.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


class BlobResponse(Response):  # type: ignore[misc]  # Datasette's Response has no types
    """Streams bytes `span` of a blob; with `verify`, the whole blob, checked as it goes."""

    def __init__(self, db: Any, rowid: int, digest: str, span: ByteRange, *, status: int, content_type: str,
                 headers: dict[str, str], head: bool, verify: bool) -> None:
        super().__init__(b"", status=status, headers=headers, content_type=content_type)
        self.db, self.rowid, self.digest, self.span, self.head, self.verify = db, rowid, digest, span, head, verify

    async def asgi_send(self, send: Any) -> None:
        raw = [[k.encode("latin-1"), v.encode("latin-1")] for k, v in
               {**self.headers, "content-type": self.content_type, "content-length": str(self.span.length)}.items()]
        raw.extend([b"set-cookie", c.encode("latin-1")] for c in self._set_cookie_headers)
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        if self.head or self.span.length == 0:
            await send({"type": "http.response.body", "body": b""})
            return
        hasher = hashlib.sha256() if self.verify else None
        position, end, pending = self.span.start, self.span.end + 1, b""
        # One connection and one blob handle for the whole answer: SQLite finds the bytes at
        # an offset by walking the blob's overflow pages, so reopening per chunk is quadratic.
        conn, blob = await asyncio.to_thread(_open_blob, self.db, self.rowid, position)
        try:
            while position < end:
                chunk = await asyncio.to_thread(blob.read, min(CHUNK, end - position))
                if not chunk:
                    break
                position += len(chunk)
                if hasher is not None:
                    hasher.update(chunk)
                if pending:
                    await send({"type": "http.response.body", "body": pending, "more_body": True})
                pending = chunk
        finally:
            await asyncio.to_thread(_close, conn, blob)
        if position < end or (hasher is not None and hasher.hexdigest() != self.digest):
            log.error("blob %s... in the cassette does not match its hash (damaged: run tarash cassette verify); "
                      "its last bytes were withheld", self.digest[:12])
            return  # the server closes the connection: the client never gets a complete, wrong body
        if hasher is not None:
            _verified.setdefault(self.db.ds, set()).add(self.digest)
        await send({"type": "http.response.body", "body": pending})


def _plain(text: str, status: int, **headers: str) -> Response:
    return Response.text(text + "\n", status=status, headers={"x-content-type-options": "nosniff", **headers})


async def blob_view(request: Any, datasette: Any, db: Any) -> Response:
    """Answer `GET`/`HEAD` of one blob of the cassette database `db`."""
    if request.method not in ("GET", "HEAD"):
        return _plain("the cassette browser is read-only: GET or HEAD only", 405, allow="GET, HEAD")
    try:
        digest = check_digest(request.url_vars["digest"], "this address")
    except CassetteError:
        return _plain("not a blob address: blobs are named by their sha256 (64 lowercase hex characters)", 404)
    rows = (await db.execute("SELECT rowid, length(data) AS size, content_type FROM blobs WHERE hash = ?",
                             [digest])).rows
    if not rows:
        return _plain(f"the cassette holds no blob {digest}", 404)
    rowid, size, recorded_type = rows[0]["rowid"], rows[0]["size"] or 0, rows[0]["content_type"]
    content_type = safe_content_type(recorded_type)
    headers = {**BLOB_HEADERS, "etag": f'"{digest}"',
               "content-disposition": "attachment" if content_type == FALLBACK_TYPE else "inline"}
    if f'"{digest}"' in request.headers.get("if-none-match", ""):
        return Response(b"", status=304, headers=headers)
    try:
        span = parse_range(request.headers.get("range"), size)
    except RangeNotSatisfiable as error:
        return _plain(f"range not satisfiable: {error}", 416, **{"content-range": f"bytes */{size}"})
    if span is None:
        span = ByteRange(0, size - 1, size)
        return BlobResponse(db, rowid, digest, span, status=200, content_type=content_type, headers=headers,
                            head=request.method == "HEAD", verify=request.method == "GET")
    if not await _checked_in_full(datasette, db, rowid, digest):
        return _plain(f"blob {digest} does not match its hash: the cassette is damaged "
                      "(tarash cassette verify lists what)", 500)
    return BlobResponse(db, rowid, digest, span, status=206, content_type=content_type,
                        headers={**headers, "content-range": span.content_range}, head=request.method == "HEAD",
                        verify=False)


async def _checked_in_full(datasette: Any, db: Any, rowid: int, digest: str) -> bool:
    """Whether the blob's bytes hash to its name; each blob is read for this once per server."""
    if digest in _verified.get(datasette, set()):
        return True
    if await db.execute_fn(functools.partial(_digest, rowid=rowid)) != digest:
        log.error("blob %s... in the cassette does not match its hash (damaged: run tarash cassette verify)",
                  digest[:12])
        return False
    _verified.setdefault(datasette, set()).add(digest)
    return True


async def read_blob_text(db: Any, digest: str | None) -> dict[str, Any] | None:
    """A small body's size, type and text (checked against its hash), for a page to show inline."""
    try:
        digest = check_digest(digest, "an HTTP interaction's body")
    except CassetteError:
        return None
    rows = (await db.execute("SELECT rowid, length(data) AS size, content_type FROM blobs WHERE hash = ?",
                             [digest])).rows
    if not rows:
        return {"hash": digest, "size": None, "content_type": None, "text": None, "damaged": False}
    rowid, size, recorded_type = rows[0]["rowid"], rows[0]["size"] or 0, rows[0]["content_type"]
    found = {"hash": digest, "size": size, "content_type": recorded_type, "text": None, "damaged": False}
    served = safe_content_type(recorded_type)
    if size <= TEXT_PREVIEW and (served.startswith(("text/", "application/json")) or served == FALLBACK_TYPE):
        data = await db.execute_fn(lambda conn: _read(conn, rowid, 0, size))
        if hashlib.sha256(data).hexdigest() != digest:
            found["damaged"] = True
        elif size:
            try:
                found["text"] = data.decode("utf-8")
            except UnicodeDecodeError:
                pass  # binary: the page links to it instead
    return found
