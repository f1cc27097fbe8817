"""Reading a JSONL export back into a cassette; the export is untrusted input.

An export may have been edited, truncated or written by anyone, so every line is checked
before anything of it is stored: the first line must be the header of this format; each
line is a JSON object of a known `type` with fields of the right types; a blob hash is
a sha256 digest (`check_digest`) and the bytes match it; blob bytes come
from the line (`text`, `base64`) or from a file under `blobs_dir` whose resolved
path stays inside it; every blob a recording or an interaction refers to is in the
export or already in the cassette. Bodies and lines are held to the body cap of
`limits` before they are decoded.

The HTTP level's `exchange` lines are scrubbed on the way in, as a vcrpy or HAR import
is (an export may come from anywhere, and may hold secrets): the URL, the response's
headers, the canonical request (its key recomputed from the scrubbed request, so it
matches what a live request asks) and bodies up to 8 MiB (a body that changes is stored
under its new hash, and the unscrubbed one is not kept). Their body blobs must come
before them, as an export writes them.

A bad line is a `CassetteError` naming `file:line`. Run inside
`atomic` (as `importing` does), a failed
import stores nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ..exceptions import CassetteError
from . import limits
from .exchanges import exchange_identity
from .http.keys import canonical_url, content_type_of, request_key
from .lifecycle import recorded_time
from .limits import check_size
from .maintenance import blob_refs, referenced_blobs
from .merge import recording_identity
from .persister import interaction_identity
from .scrub import Scrubber
from .store import CHUNK, BlobSource, CassetteStore, check_digest, path_inside

__all__ = ["FORMAT", "import_jsonl"]

FORMAT = "tarash-cassette-jsonl/1"
Progress = Callable[[int], None] | None
_OUTCOMES = ("response", "error")
_SCRUBBED_BODY = 8 << 20  # exchange bodies up to this size are scrubbed on import


class _Bad(Exception):
    """One malformed line: the message says what, the caller says where."""


class _Field(_Bad):
    """A field missing, or of the wrong type."""


def import_jsonl(source: Path, store: CassetteStore, *, blobs_dir: Path | None = None,
                 progress: Progress = None, max_body_size: int | None = None) -> tuple[int, int]:
    """Load an export into `store`; returns `(recordings, HTTP items)` added (HTTP items:
    vcrpy interactions and HTTP-level exchanges).

    Args:
        source: the `.jsonl` export.
        store: the cassette to add to.
        blobs_dir: where the export's `--blobs-dir` wrote the blobs not in the text.
        progress: called with 1 per line read.
        max_body_size: the cap on each blob and line (bytes); default
            `TARASH_MAX_BODY_SIZE` or 512 MiB.

    Raises:
        CassetteError: the export cannot be read or a line is malformed (`file:line`).
    """
    limit = limits.max_body_size(max_body_size)
    reader = _Reader(source, store, blobs_dir, limit)
    try:
        handle = source.open("rb")
    except OSError as error:
        raise CassetteError(f"cannot read {source}: {error.strerror or error}") from error
    with handle:
        reader.read(handle, progress)
    return reader.recordings, reader.https


class _Reader:
    def __init__(self, source: Path, store: CassetteStore, blobs_dir: Path | None, limit: int) -> None:
        self.source, self.store, self.blobs_dir, self.limit = source, store, blobs_dir, limit
        self.line_cap = limit * 4 // 3 + (1 << 20)  # a blob at the cap, base64, and its fields
        self.recordings = self.https = 0
        self.occurrences: Counter[str] = Counter()
        self.scrubber = Scrubber()
        self.unscrubbed: set[str] = set()  # body blobs an exchange now refers to the scrubbed copy of
        self.wanted: dict[str, str] = {}  # blob hash -> the first line referring to it

    def read(self, handle: IO[bytes], progress: Progress) -> None:
        number = 0
        while True:
            where = f"{self.source}:{number + 1}"
            try:
                raw = handle.readline(self.line_cap + 1)
            except OSError as error:
                raise CassetteError(f"cannot read {self.source}: {error.strerror or error}") from error
            if not raw:
                break
            number += 1
            check_size(len(raw), self.line_cap, where, "line")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise CassetteError(f"{where}: not UTF-8 text (byte {error.start} of the line)") from None
            if text.strip():
                self.line(text, where, first=number == 1)
            elif number == 1:
                raise CassetteError(f"{where}: the first line is not a {FORMAT} header")
            if progress:
                progress(1)
        if number == 0:
            raise CassetteError(f"{self.source} is empty, not a {FORMAT} export")
        for digest, where in self.wanted.items():
            if self.store.blob_info(digest) is None:
                raise CassetteError(f"{where}: blob {digest[:12]}... is neither in the export nor in the cassette")
        self.drop_unscrubbed()

    def line(self, text: str, where: str, *, first: bool) -> None:
        try:
            line = json.loads(text)
            kind = line.get("type") if isinstance(line, dict) else None
            if first != (kind == "cassette"):
                raise _Bad(f"the first line, and only it, must be the {FORMAT} header")
            if kind == "cassette":
                if line.get("format") != FORMAT:
                    raise _Bad(f"format {line.get('format')!r} is not {FORMAT!r}")
            elif kind == "blob":
                self.blob(line, where)
            elif kind == "recording":
                self.recordings += self.recording(line, where)
            elif kind == "http":
                self.https += self.http(line, where)
            elif kind == "exchange":
                self.https += self.exchange(line, where)
            else:
                raise _Bad(f"not a cassette export line (type {kind!r})")
        except _Field as problem:
            raise CassetteError(f"{where}: a {kind} line lacks or mangles a field: {problem}") from None
        except _Bad as problem:
            raise CassetteError(f"{where}: {problem}") from None
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as error:
            raise CassetteError(f"{where}: not a cassette export line ({type(error).__name__}: "
                                f"{str(error)[:200]})") from None

    # -- blobs -------------------------------------------------------------------------

    def blob(self, line: dict[str, Any], where: str) -> None:
        digest = check_digest(line.get("sha256"), where)
        content_type = _optional(line, "content_type", str)
        if isinstance(line.get("text"), str):
            check_size(len(line["text"]), self.limit, where, "blob")
            data = line["text"].encode("utf-8")
        elif isinstance(line.get("base64"), str):
            check_size(len(line["base64"]) // 4 * 3, self.limit, where, "blob")
            try:
                data = base64.b64decode(line["base64"], validate=True)
            except binascii.Error as error:
                raise _Bad(f"the base64 of blob {digest[:12]}... does not decode ({error})") from None
        elif "text" in line or "base64" in line:
            raise _Bad("a blob's text and base64 must be strings")
        else:
            self.blob_file(digest, content_type, line, where)
            return
        if hashlib.sha256(data).hexdigest() != digest:
            raise _Bad(f"blob {digest[:12]}... does not hold the bytes its hash says (edited?)")
        _check_blob_size(line, len(data), digest)
        self.store.put_blobs([BlobSource(digest, len(data), content_type, data=data)])

    def blob_file(self, digest: str, content_type: str | None, line: dict[str, Any], where: str) -> None:
        if self.store.blob_info(digest) is not None:
            return  # already held: nothing to read
        if self.blobs_dir is None:
            raise _Bad(f"the bytes of blob {digest[:12]}... are not in the export; give the export's "
                       "--blobs-dir, or export with --embed-blobs")
        path = path_inside(self.blobs_dir, digest, where)
        if not path.is_file():
            raise CassetteError(f"{where}: blob {digest[:12]}... is neither in the export nor in {self.blobs_dir}")
        try:
            with path.open("rb") as handle:
                size = path.stat().st_size
                check_size(size, self.limit, str(path), "blob file")
                hasher, seen = hashlib.sha256(), 0
                while (chunk := handle.read(CHUNK)) and seen <= self.limit:
                    hasher.update(chunk)
                    seen += len(chunk)
                check_size(seen, self.limit, str(path), "blob file")
                if hasher.hexdigest() != digest:
                    raise CassetteError(f"{path} does not hold the bytes its name says (damaged)")
                _check_blob_size(line, seen, digest)
                self.store.put_blobs([BlobSource(digest, seen, content_type, file=handle)])
        except OSError as error:
            raise CassetteError(f"cannot read {path}: {error.strerror or error}") from error

    # -- recordings and interactions ---------------------------------------------------

    def recording(self, line: dict[str, Any], where: str) -> int:
        row = {
            "key": _text(line, "key"), "kind": _text(line, "kind"), "provider": _text(line, "provider"),
            "model": _text(line, "model"), "request": _dump(_typed(line, "request", dict), sort=True),
            "outcome": _text(line, "outcome"), "response": _dump(_optional(line, "response", dict)),
            "error": _dump(_optional(line, "error", dict)), "timeline": _dump(_optional(line, "timeline", list) or []),
            "duration": _number(line, "duration"), "library_version": _optional(line, "library_version", str),
            "recorded_at": _optional(line, "recorded_at", str),
            "recorded_ts": recorded_time(line) or 0.0,  # when it was recorded, not imported
        }
        if row["outcome"] not in _OUTCOMES:
            raise _Bad(f"outcome {row['outcome']!r} is neither 'response' nor 'error'")
        media = [self.media_item(m, where) for m in _optional(line, "media", list) or []]
        for digest in blob_refs(line.get("response"), where):
            self.wanted.setdefault(digest, where)
        # Idempotent, yet lossless when merging: the n-th copy of a recording in the export is
        # skipped only if the cassette already holds n equal recordings of that request.
        # Equal by content, not by spelling: an export sorts its keys, the cassette keeps them as written.
        identity = recording_identity(row)
        self.occurrences[identity] += 1
        held = self.store.query("SELECT key, outcome, response, error, timeline FROM recordings WHERE key = ?",
                                (row["key"],))
        if sum(_identity(existing) == identity for existing in held) >= self.occurrences[identity]:
            return 0  # already there: importing the same recordings twice adds nothing, whatever file they came from
        self.store.add_recording(row, media=media)  # a different recording of the same request: kept, after
        return 1

    def media_item(self, item: Any, where: str) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise _Bad("a recording's media entry is not an object")
        digest = check_digest(item.get("sha256"), where)
        self.wanted.setdefault(digest, where)
        return {"slot": _text(item, "slot"), "url": _optional(item, "url", str), "hash": digest,
                "content_type": _optional(item, "content_type", str)}

    def http(self, line: dict[str, Any], where: str) -> int:
        bodies = []
        for name in ("request_body", "response_body"):
            digest = line.get(name)
            if digest is not None:
                self.wanted.setdefault(check_digest(digest, where), where)
            bodies.append(digest)
        # as the persister writes interactions, so fingerprints stay equal
        req_json = json.dumps(_typed(line, "request", dict), sort_keys=True, separators=(",", ":"))
        res_json = json.dumps(_typed(line, "response", dict), sort_keys=True, separators=(",", ":"))
        identity = interaction_identity(req_json, bodies[0], res_json, bodies[1])
        self.occurrences[identity] += 1
        row = {"fingerprint": f"{identity}#{self.occurrences[identity]}", "method": _text(line, "method"),
               "uri": _text(line, "uri"), "request": req_json, "response": res_json, "request_body": bodies[0],
               "response_body": bodies[1], "recorded_at": _optional(line, "recorded_at", str)}
        return self.store.add_http_interactions([row], [])


    # -- HTTP exchanges ----------------------------------------------------------------

    def exchange(self, line: dict[str, Any], where: str) -> int:
        scrub = self.scrubber
        headers = _typed(line, "headers", list)
        if not all(isinstance(h, list) and len(h) == 2 and all(isinstance(v, str) for v in h) for h in headers):
            raise _Field("'headers' is not a list of [name, value] text pairs")
        headers = [[k, scrub.headers({k: v})[k]] for k, v in headers]
        request = _scrubbed_request(_typed(line, "request", dict), scrub)
        key, canonical = request_key(request["method"], request["url"], request.get("body"))
        status = _typed(line, "status", int)
        if not 100 <= status <= 599:
            raise _Bad(f"status {status} is not an HTTP status")
        row = {
            "key": key, "method": _text(line, "method").upper(), "url": scrub.text(_text(line, "url")),
            "host": _text(line, "host").lower(), "path": _optional(line, "path", str), "request": canonical,
            "status": status, "headers": json.dumps(headers, separators=(",", ":")),
            "request_body": self.exchange_body(line, "request_body", "", where),
            "response_body": self.exchange_body(line, "response_body", content_type_of(headers), where),
            "provider": _optional(line, "provider", str), "role": _text(line, "role"),
            "job": _optional(line, "job", str), "terminal": _flag(line, "terminal"),
            "recorded_at": _optional(line, "recorded_at", str), "recorded_ts": recorded_time(line) or 0.0,
        }
        identity = exchange_identity(row)
        self.occurrences[identity] += 1
        held = self.store.query("SELECT * FROM http_exchanges WHERE key = ?", (key,))
        if sum(exchange_identity(x) == identity for x in held) >= self.occurrences[identity]:
            return 0  # importing the same exchanges twice adds nothing
        self.store.add_exchange(row, [])
        return 1

    def exchange_body(self, line: dict[str, Any], name: str, content_type: str, where: str) -> str | None:
        """An exchange's body hash, scrubbed: a body that held a secret is stored anew."""
        digest = line.get(name)
        if digest is None:
            return None
        digest = check_digest(digest, where)
        info = self.store.blob_info(digest)
        if info is None:
            raise _Bad(f"blob {digest[:12]}... of this exchange is neither in the lines before it nor in the cassette")
        if info["size"] > _SCRUBBED_BODY:
            return digest  # media: the secrets a scrub finds are in text, never in video bytes
        data = self.store.read_blob(digest, owner=where)
        clean = self.scrubber.body(data, content_type) or b""
        if clean == data:
            return digest
        blob = BlobSource.of(clean, info["content_type"])
        self.store.put_blobs([blob])
        self.unscrubbed.add(digest)
        return blob.hash

    def drop_unscrubbed(self) -> None:
        """Delete the unscrubbed bodies nothing refers to any more (never keep a secret)."""
        if not self.unscrubbed:
            return
        refs = referenced_blobs(self.store)
        with self.store.transaction("dropping unscrubbed bodies") as db:
            for digest in self.unscrubbed - refs:
                db.execute("DELETE FROM blobs WHERE hash = ?", (digest,))


def _scrubbed_request(request: dict[str, Any], scrub: Scrubber) -> dict[str, Any]:
    """A canonical request with its secrets scrubbed, its URL canonical again (so a
    secret query parameter is left out, as it is of a live request)."""
    method, url = request.get("method"), request.get("url")
    if not isinstance(method, str) or not method or not isinstance(url, str) or not url:
        raise _Field("'request' lacks its method or URL")
    clean = scrub.value(request)
    return {"method": method.upper(), "url": canonical_url(scrub.url(url), scrub), "body": clean.get("body")}


def _identity(row: dict[str, Any]) -> str | None:
    """A held recording's identity; a damaged one (not JSON) equals nothing."""
    try:
        return recording_identity(row)
    except (ValueError, TypeError, RecursionError):
        return None


def _flag(line: dict[str, Any], name: str) -> int:
    value = line.get(name, False)
    if not isinstance(value, bool):
        raise _Field(f"{name!r} is not true or false (got {type(value).__name__})")
    return int(value)


def _check_blob_size(line: dict[str, Any], size: int, digest: str) -> None:
    stated = line.get("size")
    if stated is not None and stated != size:
        raise _Bad(f"blob {digest[:12]}... says it has {stated!r} bytes, and holds {size}")


def _typed(line: dict[str, Any], name: str, kind: type) -> Any:
    value = line.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Field(f"{name!r} is missing or not {'an' if kind is int else 'a'} {kind.__name__}"
                   f" (got {type(value).__name__})")
    return value


def _text(line: dict[str, Any], name: str) -> str:
    value = _typed(line, name, str)
    if not value:
        raise _Field(f"{name!r} is empty")
    return value


def _optional(line: dict[str, Any], name: str, kind: type) -> Any:
    return None if line.get(name) is None else _typed(line, name, kind)


def _number(line: dict[str, Any], name: str) -> float | None:
    value = line.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Field(f"{name!r} is not a finite number (got {value!r:.40})")
    return float(value)


def _dump(value: Any, *, sort: bool = False) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=sort, separators=(",", ":"), ensure_ascii=False)
