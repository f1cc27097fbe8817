"""The rules of `tarash cassette scan`: what counts as a secret in a value, a text or
a body (the file formats are read by `scan`).

- a known key format anywhere in any text (see `shapes`);
- a secret parameter with a real value in a URL or a query string (signed-URL
  parameters, `?api_key=`-like ones; see `scrub.is_secret_parameter`);
- a password, or a token-like user, in a URL;
- an `Authorization` header with a real value;
- a random-looking value under any other secret-looking name.

`[REDACTED]` and the usual placeholders (`<OPENAI_API_KEY>`, `Sanitized`...) are
clean. Pure functions; nothing here does I/O.
"""

from __future__ import annotations

import codecs
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from .scrub import REDACTED, is_secret_name, is_secret_parameter
from .shapes import find_shapes, is_placeholder, looks_random

__all__ = ["scan_bytes", "scan_string", "scan_text", "scan_text_stream", "scan_value"]

_CHUNK = 1 << 20
_OVERLAP = 4096  # a secret split across two chunks is still seen whole
_MAX_INFLATED = 256 << 20  # a gzip body is scanned up to this many bytes
_MAX_JSON_STRING = 16 << 20  # strings holding JSON are parsed up to this size
_AUTHORIZATION = frozenset({"authorization", "proxy_authorization"})
_SCHEME = re.compile(r"^(?:bearer|basic|token|key|apikey|digest|aws4-hmac-sha256)\s+", re.IGNORECASE)
_PARAMETER = re.compile(r"(?:^|(?<=[?&;~]))(?P<name>[A-Za-z0-9_.%\-]+)=(?P<value>[^&;\s\"'<>#\\]+)")
_LEAD = re.compile(r"[?&;~]")
_USERINFO = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://(?P<user>[^/?#\s:@\"'<>]+)(?::(?P<password>[^/?#\s@\"'<>]+))?@")
_QUOTED_PAIR = re.compile(r"\"(?P<name>[A-Za-z0-9_.\-]{1,64})\"\s*:\s*\"(?P<value>[^\"\\]{4,4096})\"")
_TEXT_TYPES = ("json", "text/", "xml", "html", "javascript", "x-www-form-urlencoded", "yaml", "csv")
_MEDIA_TYPES = ("video/", "image/", "audio/", "font/", "application/octet-stream", "application/zip")


def scan_text(text: str) -> Iterator[tuple[str, str]]:
    """`(kind, secret)` for each secret written in `text`, whatever its context."""
    seen: set[str] = set()
    for shape, start, end in find_shapes(text):
        seen.add(text[start:end])
        yield shape.name, text[start:end]
    if "=" in text and (_LEAD.search(text) or _PARAMETER.match(text)):  # skips base64 at C speed
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
    """Whether a key (or, with `parameter`, a header or query name) holds a secret."""
    return bool(name) and (is_secret_parameter(name) if parameter else is_secret_name(name))


def _named(name: str, value: str) -> Iterator[tuple[str, str]]:
    """A finding for a value held under the secret-looking `name`."""
    normal = re.sub(r"[\s\-]", "_", name).lower()
    credential = _SCHEME.sub("", value.strip())
    if not _real(credential) or not _real(value):
        return
    if normal in _AUTHORIZATION:
        yield f"{name} header with a real value", credential
    elif looks_random(credential):
        yield f"random-looking value under {name!r}", credential


def scan_value(value: Any, path: str = "", name: str = "", *, parameter: bool = False) -> Iterator[tuple[str, str, str]]:
    """`(field, kind, secret)` for each secret in a JSON-like value, at any depth.

    `name` is the key the value is held under (inherited by list items, as vcrpy and
    HAR keep header values in lists); `parameter` says it is a header or query
    name, where short names such as `key` are secrets too. Strings holding JSON are
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
        yield from scan_string(value, path, name, parameter)


def scan_string(value: str, path: str, name: str, parameter: bool = False) -> Iterator[tuple[str, str, str]]:
    if value.lstrip()[:1] in ("{", "[") and len(value) <= _MAX_JSON_STRING:
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


def scan_text_stream(chunks: Iterable[str]) -> Iterator[tuple[str, str]]:
    """`(kind, secret)` over text arriving in chunks (once per secret)."""
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


def scan_bytes(chunks: Iterable[bytes], content_type: str) -> Iterator[tuple[str, str]]:
    """`(kind, secret)` in a body given in chunks, when it is text (gzip opened)."""
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
    yield from scan_text_stream(texts)


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _inflated(first: bytes, rest: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """A gzip body as inflated chunks, at most `_MAX_INFLATED` bytes (no bomb)."""
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
