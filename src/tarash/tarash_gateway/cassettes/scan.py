"""Find secrets left in a cassette, an export, a vcrpy YAML or a HAR file before it is
committed (``tarash cassette scan``).

What counts as a secret (a *finding*):

- a known key format anywhere in any text: OpenAI ``sk-``/``sk-proj-``, Stability
  ``sk-``, fal ``key_id:secret``, Replicate ``r8_``, Google ``AIza``, xAI ``xai-``,
  Runway ``key_...``, AWS access key ids, and JWTs (see :mod:`.shapes`);
- a secret parameter with a value in a URL or a query string: signed-URL parameters
  (``X-Amz-Signature``, ``X-Goog-Signature``, ``sig``, ``Signature``, ``_jwt``,
  ``hdnts``, ``hmac``, ...) and ``?api_key=``-like ones (see :func:`.scrub.is_secret_parameter`);
- a password (or a token-like user) in a URL: ``https://user:pw@host``;
- an ``Authorization`` header with a real value (``Bearer [REDACTED]`` and
  ``<AUTHORIZATION>`` are clean);
- a random-looking value under any other secret-looking name (``token``,
  ``client_secret``, ``X-Api-Key``...).

``[REDACTED]`` and the usual placeholders (``<OPENAI_API_KEY>``, ``Sanitized``,
``DUMMY_KEY``...) are clean. A finding names the file, the place (table and row id, or
line number) and the field, and shows only the first characters of the secret.

Files are read, never written; a cassette is opened read-only. Blobs are scanned only
when they hold text (JSON, HTML, plain text...), streamed in chunks, gzip bodies
decompressed as they stream; media is never read whole.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .scrub import REDACTED, is_secret_name, is_secret_parameter
from .shapes import find_shapes, is_placeholder, looks_random

__all__ = ["SCANNED_SUFFIXES", "Finding", "ScanReport", "scan_paths", "scan_text", "scan_value"]

#: What a directory given to :func:`scan_paths` is searched for.
SCANNED_SUFFIXES = (".db", ".jsonl", ".yaml", ".yml", ".har")
_CHUNK = 1 << 20
_OVERLAP = 4096  # a secret split across two chunks is still seen whole
_MAX_INFLATED = 256 << 20  # a gzip body is scanned up to this many bytes
_MAX_JSON_STRING = 16 << 20  # strings holding JSON are parsed up to this size
_AUTHORIZATION = frozenset({"authorization", "proxy_authorization"})
_SCHEME = re.compile(r"^(?:bearer|basic|token|key|apikey|digest|aws4-hmac-sha256)\s+", re.IGNORECASE)
_PARAMETER = re.compile(r"(?:^|(?<=[?&;~]))(?P<name>[A-Za-z0-9_.%\-]+)=(?P<value>[^&;\s\"'<>#\\]+)")
_USERINFO = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://(?P<user>[^/?#\s:@\"'<>]+)(?::(?P<password>[^/?#\s@\"'<>]+))?@")
_QUOTED_PAIR = re.compile(r"\"(?P<name>[A-Za-z0-9_.\-]{1,64})\"\s*:\s*\"(?P<value>[^\"\\]{4,4096})\"")
_TEXT_TYPES = ("json", "text/", "xml", "html", "javascript", "x-www-form-urlencoded", "yaml", "csv")
_MEDIA_TYPES = ("video/", "image/", "audio/", "font/", "application/octet-stream", "application/zip")


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
        what = f"scanned {len(self.files)} file(s)"
        if self.clean:
            return f"{what}: no secrets found"
        parts = []
        if self.findings:
            holding = len({f.path for f in self.findings})
            parts.append(f"{len(self.findings)} secret(s) found in {holding} file(s)")
        if self.errors:
            parts.append(f"{len(self.errors)} file(s) could not be read")
        return f"{what}: {', '.join(parts)}"

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "clean": self.clean, "findings": [f.as_dict() for f in self.findings],
                "errors": self.errors, "summary": self.summary()}


def _preview(secret: str) -> str:
    return f"{secret[:4]}... {len(secret)} chars" if len(secret) > 8 else f"{len(secret)} chars"


# -- rules over values ------------------------------------------------------------------


def scan_text(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, secret)`` for each secret written in ``text``, whatever its context."""
    seen: set[str] = set()
    for shape, start, end in find_shapes(text):
        seen.add(text[start:end])
        yield shape.name, text[start:end]
    if "=" in text:
        for m in _PARAMETER.finditer(text):
            value = m.group("value")
            if is_secret_parameter(m.group("name")) and _real(value) and not any(s in value for s in seen):
                yield f"secret parameter {m.group('name')}", value
    if "@" in text and "://" in text:
        for m in _USERINFO.finditer(text):
            password, user = m.group("password"), m.group("user")
            if password and _real(password):
                yield "password in a URL", password
            elif not password and _real(user) and looks_random(user):
                yield "token in a URL's user part", user


def _real(value: str) -> bool:
    return bool(value) and REDACTED not in value and "%5BREDACTED%5D" not in value and not is_placeholder(value)


def _secret(name: str, parameter: bool) -> bool:
    """Whether a key (or, with ``parameter``, a header or query name) holds a secret."""
    return bool(name) and (is_secret_parameter(name) if parameter else is_secret_name(name))


def _named(name: str, value: str) -> Iterator[tuple[str, str]]:
    """A finding for a value held under the secret-looking ``name``."""
    normal = re.sub(r"[\s\-]", "_", name).lower()
    credential = _SCHEME.sub("", value.strip())
    if not _real(credential) or not _real(value):
        return
    if normal in _AUTHORIZATION:
        yield f"{name} header with a real value", credential
    elif looks_random(credential):
        yield f"random-looking value under {name!r}", credential


def scan_value(value: Any, path: str = "", name: str = "", *, parameter: bool = False) -> Iterator[tuple[str, str, str]]:
    """``(field, kind, secret)`` for each secret in a JSON-like value, at any depth.

    ``name`` is the key the value is held under (inherited by list items, as vcrpy and
    HAR keep header values in lists); ``parameter`` says it is a header or query
    name, where short names such as ``key`` are secrets too. Strings holding JSON are
    opened.
    """
    if isinstance(value, dict):
        if isinstance(value.get("name"), str) and "value" in value:  # HAR: {"name": ..., "value": ...}
            yield from scan_value(value["value"], f"{path}[{value['name']}]", value["name"], parameter=True)
            rest = {k: v for k, v in value.items() if k not in ("name", "value")}
        else:
            rest = value
        for key, item in rest.items():
            yield from scan_value(item, f"{path}.{key}" if path else str(key), str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from scan_value(item, f"{path}[{i}]", name, parameter=parameter)
    elif isinstance(value, str):
        yield from _scan_string(value, path, name, parameter)


def _scan_string(value: str, path: str, name: str, parameter: bool = False) -> Iterator[tuple[str, str, str]]:
    if value[:1] in ("{", "[") and len(value) <= _MAX_JSON_STRING:
        try:
            inner = json.loads(value)
        except ValueError:
            inner = None
        if isinstance(inner, dict | list):
            yield from scan_value(inner, path)
            return
    found = False
    for kind, secret in scan_text(value):  # a known shape says more than its name
        found = True
        yield path, kind, secret
    if not found and _secret(name, parameter):
        for kind, secret in _named(name, value):
            yield path, kind, secret


def _text_stream(chunks: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(kind, secret)`` over text arriving in chunks (once per secret)."""
    seen: set[str] = set()
    tail = ""
    for chunk in chunks:
        text = tail + chunk
        for kind, secret in _text_rules(text):
            if secret not in seen:
                seen.add(secret)
                yield kind, secret
        tail = text[-_OVERLAP:]


def _text_rules(text: str) -> Iterator[tuple[str, str]]:
    yield from scan_text(text)
    if '"' in text:  # "token": "..." in JSON too large (or too broken) to parse
        for m in _QUOTED_PAIR.finditer(text):
            if is_secret_name(m.group("name")):
                yield from _named(m.group("name"), m.group("value"))


# -- files ------------------------------------------------------------------------------


def scan_paths(paths: Iterable[str | Path]) -> ScanReport:
    """Scan files, and the cassette-like files under directories (:data:`SCANNED_SUFFIXES`)."""
    report = ScanReport()
    for given in paths:
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


def _scan_lines(path: Path) -> Iterator[Finding]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            for kind, secret in _text_rules(line):
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
                for kind, secret in _scan_bytes([raw], str(data.get("content_type") or "")):
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
        for kind, secret in _scan_bytes([raw], ""):
            yield line, path, kind, secret
    else:
        for where, kind, secret in _scan_string(str(node.value), path, name):
            yield line, where, kind, secret


def _scan_bytes(chunks: Iterable[bytes], content_type: str) -> Iterator[tuple[str, str]]:
    """``(kind, secret)`` in a body given in chunks, when it is text (gzip opened)."""
    ctype = content_type.lower()
    if ctype.startswith(_MEDIA_TYPES):
        return
    stream = iter(chunks)
    first = next(stream, b"")
    if first[:2] == b"\x1f\x8b":
        first, stream = _inflated(first, stream)
    if not first or (b"\x00" in first[:4096] and not any(t in ctype for t in _TEXT_TYPES)):
        return
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    if not any(t in ctype for t in _TEXT_TYPES):
        try:
            first[:4096].decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < 4090:  # not a character cut at the sniff's end: binary
                return
    texts = (decoder.decode(chunk) for chunk in _chain(first, stream))
    yield from _text_stream(texts)


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _inflated(first: bytes, rest: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """A gzip body as inflated chunks, at most :data:`_MAX_INFLATED` bytes (no bomb)."""
    inflater = zlib.decompressobj(wbits=47)

    def chunks() -> Iterator[bytes]:
        total = 0
        for data in _chain(first, rest):
            while data and total < _MAX_INFLATED:
                try:
                    out = inflater.decompress(data, _CHUNK)
                except zlib.error:
                    return
                total += len(out)
                if out:
                    yield out
                data = inflater.unconsumed_tail
                if inflater.eof:
                    return

    stream = chunks()
    return next(stream, b""), stream


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
            for kind, secret in _scan_bytes(chunks, str(row.get("content_type") or "")):
                yield Finding(str(path), place, column, kind, _preview(secret))


def _blob_chunks(conn: sqlite3.Connection, table: str, column: str, rowid: int) -> Iterator[bytes]:
    try:
        handle = conn.blobopen(table, column, rowid, readonly=True)
    except sqlite3.Error:  # NULL or not a blob
        return
    with handle:
        while data := handle.read(_CHUNK):
            yield data
