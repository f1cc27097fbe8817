"""Find secrets left in a cassette, an export, a vcrpy YAML or a HAR file before it is
committed (`tarash cassette scan`).

What counts as a secret (a *finding*) is decided in `scan_rules`: a provider key
format (OpenAI `sk-`/`sk-proj-`, Stability `sk-`, fal `key_id:secret`,
Replicate `r8_`, Google `AIza`, xAI `xai-`, Runway `key_...`), a JWT, an
unredacted signed-URL parameter, a URL password, an `Authorization` header with a
real value, a random-looking value under a secret-looking name. `[REDACTED]` and the
usual placeholders are clean. A finding names the file, the place (table and row id,
or line number) and the field, and shows only the first characters of the secret.

Formats: a cassette `.db` (every table; any SQLite file), a JSONL export, a vcrpy
YAML (with line numbers), a HAR or other JSON file; any other file line by line; a
`postgresql://` cassette through the store protocol (its recordings, media URLs, HTTP
exchanges and the text blobs it refers to).

Files are read, never written; a cassette is opened read-only. Blobs are scanned only
when they hold text (JSON, HTML, plain text...), streamed in chunks, gzip bodies
decompressed as they stream; media is never read whole.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .scan_rules import scan_bytes, scan_string, scan_text_stream, scan_value

__all__ = ["Finding", "SCANNED_SUFFIXES", "ScanReport", "scan_paths"]

#: What a directory given to :func:`scan_paths` is searched for.
SCANNED_SUFFIXES = (".db", ".jsonl", ".yaml", ".yml", ".har")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Finding:
    """One secret found: where it is, what it looks like, and its first characters."""

    path: str
    place: str
    field: str
    kind: str
    preview: str

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.path, self.place, self.field) if part)
        return f"{where}: {self.kind} ({self.preview})"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "place": self.place, "field": self.field, "kind": self.kind,
                "preview": self.preview}


@dataclass(slots=True)
class ScanReport:
    """What a scan saw: the files, the findings, and the files it could not read."""

    files: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings and not self.errors

    def summary(self) -> str:
        what = f"scanned {_count(len(self.files), 'file')}"
        if self.clean:
            return f"{what}: no secrets found"
        parts = []
        if self.findings:
            holding = len({f.path for f in self.findings})
            parts.append(f"{_count(len(self.findings), 'secret')} found in {_count(holding, 'file')}")
        if self.errors:
            parts.append(f"{_count(len(self.errors), 'file')} could not be read")
        return f"{what}: {', '.join(parts)}"

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "clean": self.clean, "findings": [f.as_dict() for f in self.findings],
                "errors": self.errors, "summary": self.summary()}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _preview(secret: str) -> str:
    return f"{secret[:4]}... {len(secret)} chars" if len(secret) > 8 else f"{len(secret)} chars"


# -- files ------------------------------------------------------------------------------


def scan_paths(paths: Iterable[str | Path]) -> ScanReport:
    """Scan files, and the cassette-like files under directories (`SCANNED_SUFFIXES`)."""
    from ..exceptions import CassetteError
    from .protocol import display_name, is_store_url

    report = ScanReport()
    for given in paths:
        if isinstance(given, str) and is_store_url(given):
            report.files.append(display_name(given))
            try:
                report.findings.extend(_scan_store(given))
            except CassetteError as error:
                report.errors.append(f"{display_name(given)}: cannot be scanned ({_reason(error)})")
            continue
        root = Path(given)
        files = sorted(f for f in root.rglob("*") if f.is_file() and f.suffix.lower() in SCANNED_SUFFIXES) \
            if root.is_dir() else [root]
        for file in files:
            report.files.append(str(file))
            try:
                report.findings.extend(_scan_file(file))
            except (OSError, ValueError, sqlite3.Error, UnicodeDecodeError) as error:
                report.errors.append(f"{file}: cannot be scanned ({_reason(error)})")
    return report


def _reason(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _scan_file(path: Path) -> Iterator[Finding]:
    with path.open("rb") as handle:
        head = handle.read(16)
    suffix = path.suffix.lower()
    if head.startswith(b"SQLite format 3\x00"):
        yield from _scan_db(path)
        wal = path.with_name(path.name + "-wal")
        if wal.is_file():  # pages not yet merged into the file (a reader may not see them)
            yield from _scan_raw(wal)
    elif path.name.endswith(("-wal", "-journal")) or head.startswith((b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")):
        yield from _scan_raw(path)
    elif suffix == ".jsonl":
        yield from _scan_jsonl(path)
    elif suffix in (".yaml", ".yml"):
        yield from _scan_yaml(path)
    elif suffix in (".har", ".json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        for where, kind, secret in scan_value(data):
            yield Finding(str(path), "", where, kind, _preview(secret))
    elif suffix == ".db":
        raise ValueError("not an SQLite database")
    else:
        yield from _scan_lines(path)


def _scan_raw(path: Path) -> Iterator[Finding]:
    """A SQLite `-wal` or journal: its raw pages, searched as text (each secret once)."""
    with path.open("rb") as handle:
        chunks = iter(lambda: handle.read(_CHUNK), b"")
        for kind, secret in scan_text_stream(chunk.decode("latin-1") for chunk in chunks):
            yield Finding(str(path), "raw pages", "", kind, _preview(secret))


def _scan_lines(path: Path) -> Iterator[Finding]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            for kind, secret in scan_text_stream([line]):
                yield Finding(str(path), f"line {number}", "", kind, _preview(secret))


def _scan_jsonl(path: Path) -> Iterator[Finding]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                data = json.loads(line)
            except ValueError:
                data = line
            place = f"line {number}"
            for where, kind, secret in scan_value(data):
                yield Finding(str(path), place, where, kind, _preview(secret))
            if isinstance(data, dict) and isinstance(data.get("base64"), str):  # an embedded blob
                try:
                    raw = base64.b64decode(data["base64"], validate=True)
                except (binascii.Error, ValueError):
                    continue
                for kind, secret in scan_bytes([raw], str(data.get("content_type") or "")):
                    yield Finding(str(path), place, "base64", kind, _preview(secret))


def _scan_yaml(path: Path) -> Iterator[Finding]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        try:
            root = yaml.compose(handle, Loader=loader)  # nodes keep their line numbers
        except yaml.YAMLError as error:
            raise ValueError(f"not readable YAML: {_reason(error)}") from error
    if root is not None:
        for line, where, kind, secret in _yaml_node(root, "", "", set()):
            yield Finding(str(path), f"line {line}", where, kind, _preview(secret))


def _yaml_node(node: Any, path: str, name: str, seen: set[int]) -> Iterator[tuple[int, str, str, str]]:
    import yaml

    if id(node) in seen:  # an alias: walked once (no billion laughs)
        return
    seen.add(id(node))
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, item in node.value:
            key_text = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            yield from _yaml_node(item, f"{path}.{key_text}" if path else key_text, key_text, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _yaml_node(item, f"{path}[{i}]", name, seen)
    elif node.tag == "tag:yaml.org,2002:binary":
        try:
            raw = base64.b64decode("".join(str(node.value).split()), validate=True)
        except (binascii.Error, ValueError):
            return
        text = _small_json(raw)
        if text is not None:  # a JSON body: its fields named
            yield from ((line, where, kind, secret) for where, kind, secret in scan_string(text, path, name))
            return
        for kind, secret in scan_bytes([raw], ""):
            yield line, path, kind, secret
    else:
        for where, kind, secret in scan_string(str(node.value), path, name):
            yield line, where, kind, secret


def _small_json(raw: bytes) -> str | None:
    """`raw` as text when it is a JSON document of at most 16 MiB."""
    if len(raw) > 16 << 20 or raw.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        text = raw.decode("utf-8")
        json.loads(text)
    except ValueError:
        return None
    return text


def _scan_db(path: Path) -> Iterator[Finding]:
    conn = _open_readonly(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for table in tables:
            yield from _scan_table(conn, path, table)
    finally:
        conn.close()


def _open_readonly(path: Path) -> sqlite3.Connection:
    uri = path.resolve().as_uri()
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:  # a read-only directory holding a WAL-mode file
        conn = sqlite3.connect(f"{uri}?immutable=1", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


def _scan_table(conn: sqlite3.Connection, path: Path, table: str) -> Iterator[Finding]:
    quoted = '"' + table.replace('"', '""') + '"'
    columns = [(row[1], str(row[2]).upper()) for row in conn.execute(f"PRAGMA table_info({quoted})")]
    texts = [name for name, kind in columns if kind != "BLOB"]
    blobs = [name for name, kind in columns if kind == "BLOB"]
    label = "#" if table in ("recordings", "http_interactions") else "rowid "
    selected = ", ".join('"' + c.replace('"', '""') + '"' for c in texts) or "NULL"
    for rowid, *values in conn.execute(f"SELECT rowid, {selected} FROM {quoted} ORDER BY rowid"):
        row = dict(zip(texts, values, strict=True))
        place = f"{table} {label}{rowid}" if table != "blobs" else f"blobs {row.get('hash')}"
        for column, value in row.items():
            if isinstance(value, str):
                for where, kind, secret in scan_value(value, column):
                    yield Finding(str(path), place, where, kind, _preview(secret))
        for column in blobs:
            chunks = _blob_chunks(conn, table, column, rowid)
            for kind, secret in scan_bytes(chunks, str(row.get("content_type") or "")):
                used = _blob_users(conn, row.get("hash")) if table == "blobs" else ""
                yield Finding(str(path), place + used, column, kind, _preview(secret))


def _blob_users(conn: sqlite3.Connection, digest: Any) -> str:
    """` (response body of http_interactions #3)`: what holds a cassette blob."""
    users: list[str] = []
    with contextlib.suppress(sqlite3.Error):  # a file without those tables
        for side in ("request", "response"):
            users += [f"{side} body of http_interactions #{r[0]}" for r in conn.execute(
                f"SELECT id FROM http_interactions WHERE {side}_body = ? ORDER BY id LIMIT 3", (digest,))]
    with contextlib.suppress(sqlite3.Error):
        users += [f"media of recordings #{r[0]}" for r in conn.execute(
            "SELECT recording_id FROM media WHERE hash = ? ORDER BY recording_id LIMIT 3", (digest,))]
    return f" ({', '.join(users)})" if users else ""


def _blob_chunks(conn: sqlite3.Connection, table: str, column: str, rowid: int) -> Iterator[bytes]:
    try:
        handle = conn.blobopen(table, column, rowid, readonly=True)
    except sqlite3.Error:  # NULL or not a blob
        return
    with handle:
        while data := handle.read(_CHUNK):
            yield data


# -- a cassette in a database -----------------------------------------------------------

_RECORDING_TEXT = ("key", "kind", "provider", "model", "request", "outcome", "response", "error", "timeline",
                   "library_version", "recorded_at")


def _scan_store(url: str) -> Iterator[Finding]:
    """A `postgresql://` cassette, read through the store protocol (nothing written)."""
    from ..exceptions import CassetteError
    from .protocol import display_name, open_store

    store = open_store(url, create=False)
    if store is None:
        raise CassetteError(f"cassette {display_name(url)} does not exist")
    try:
        for r in store.recordings():
            place = f"recordings #{r['id']}"
            for column in _RECORDING_TEXT:
                if isinstance(r.get(column), str):
                    for where, kind, secret in scan_value(r[column], column):
                        yield Finding(store.path, place, where, kind, _preview(secret))
            for slot, m in store.media(r["id"]).items():
                for where, kind, secret in scan_value(m.get("url"), f"media {slot} url"):
                    yield Finding(store.path, place, where, kind, _preview(secret))
        for x in store.exchanges():
            for where, kind, secret in scan_value({k: v for k, v in x.items() if k != "id"}):
                yield Finding(store.path, f"http_exchanges #{x['id']}", where, kind, _preview(secret))
        for b in store.blobs():
            chunks = store.iter_blob(b["hash"], owner="a scan")
            for kind, secret in scan_bytes(chunks, str(b.get("content_type") or "")):
                yield Finding(store.path, f"blobs {b['hash']}", "data", kind, _preview(secret))
    finally:
        store.close()
