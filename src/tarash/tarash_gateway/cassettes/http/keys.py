"""Canonical HTTP requests: what two requests must share to replay one another.

A request's canonical form is its method, its URL and its body, normalised so that what
does not change the answer does not change the key:

- the URL: scheme and host lower-cased, default ports dropped, the port of a loopback
  host dropped too (a run recorded against a local simulator replays on any port), the
  query sorted, and secret parameters (`key`, `sig`, `X-Amz-Signature` ...: see
  `scrub`) left out whatever their value;
- a JSON body: parsed and dumped with sorted keys, secret keys redacted, long strings
  (base64 images, data URIs) replaced by their sha256;
- a form body: its pairs sorted, secrets left out;
- a multipart body: its parts by name, file name, content type and content, the
  random boundary ignored;
- any other body (uploads): its sha256 and size.

Headers never take part (they carry the API key, SDK versions, retry counters). The key
is the sha256 of the canonical JSON. Pure functions; nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..scrub import REDACTED, Scrubber

__all__ = [
    "canonical_body", "canonical_url", "content_type_of", "is_loopback", "request_key", "secret_params",
    "uses_secret_values",
]

_LONG = 256
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")  # the characters quote_plus never quotes
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    return host in _LOOPBACK or host.startswith("127.") or host.endswith(".localhost")


def secret_params(url: str, scrubber: Scrubber) -> frozenset[str]:
    """The names of the query parameters the scrubber redacts in `url`."""
    parts = urlsplit(url)
    if not parts.query:
        return frozenset()
    scrubbed = urlsplit(scrubber.for_matching().url(url)).query  # a URL replayed with a placeholder comes out equal: still secret
    return frozenset(k for k, v in parse_qsl(scrubbed, keep_blank_values=True) if v == REDACTED)


def canonical_url(url: str, scrubber: Scrubber) -> str:
    """`url` normalised for matching (see the module docstring)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    if port is not None and (port == _DEFAULT_PORTS.get(scheme) or is_loopback(host)):
        port = None
    netloc = host if port is None else f"{host}:{port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if _drops_secrets(parts.query, pairs, scrubber):  # else nothing to leave out
        secrets = secret_params(url, scrubber)
        pairs = [(k, v) for k, v in pairs if k not in secrets]
    pairs.sort()
    if _PLAIN.fullmatch("".join(k + v for k, v in pairs)):  # what urlencode writes of names and values it leaves be
        query = "&".join(f"{k}={v}" for k, v in pairs)
    else:
        query = urlencode(pairs)
    return f"{scheme}://{netloc}{parts.path or '/'}" + (f"?{query}" if query else "")


def uses_secret_values(url: str, scrubber: Scrubber) -> bool:
    """Whether `canonical_url` of `url` asks the scrubber's secret values (else only its
    secret names, so a scrubber that has not learned a request's values gives the same)."""
    query = urlsplit(url).query
    return _drops_secrets(query, parse_qsl(query, keep_blank_values=True), scrubber)


def _drops_secrets(query: str, pairs: list[tuple[str, str]], scrubber: Scrubber) -> bool:
    return bool(pairs) and (";" in query or any(scrubber.parameter(k) for k, _ in pairs))


def content_type_of(headers: Sequence[tuple[str, str]]) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value
    return ""


def _short(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _short(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_short(v) for v in value]
    if isinstance(value, str) and len(value) > _LONG:
        return {"sha256": hashlib.sha256(value.encode()).hexdigest(), "size": len(value)}
    return value


def _digest(body: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}


def canonical_body(body: bytes, content_type: str, scrubber: Scrubber) -> Any:
    """A request body as a plain JSON value for matching (`None` when empty)."""
    if not body:
        return None
    scrubber = scrubber.for_matching()  # [REDACTED] whatever the value: a stand-in the app sends back matches
    ctype = content_type.lower()
    if "json" in ctype or body[:1] in (b"{", b"["):
        try:
            return {"json": _short(scrubber.value(json.loads(body)))}
        except ValueError:
            pass
    if "x-www-form-urlencoded" in ctype:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return {"raw": _digest(body)}
        return {"form": sorted((k, v) for k, v in pairs if not scrubber.secret(k))}
    if ctype.startswith("multipart/"):
        parts = _multipart(body, ctype, scrubber)
        if parts is not None:
            return {"multipart": parts}
    return {"raw": _digest(scrubber.body(body, content_type) or b"")}


def _boundary(ctype: str) -> str | None:
    for piece in ctype.split(";")[1:]:
        name, _, value = piece.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip('"')
    return None


def _multipart(body: bytes, ctype: str, scrubber: Scrubber) -> list[dict[str, Any]] | None:
    boundary = _boundary(ctype)
    if boundary is None:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    parts: list[dict[str, Any]] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            return None
        parts.append(_part(head.decode("latin-1"), content.removesuffix(b"\r\n"), scrubber))
    parts.sort(key=lambda p: (p["name"] or "", p["filename"] or ""))  # stable: repeated names keep their order
    return parts


def _part(head: str, content: bytes, scrubber: Scrubber) -> dict[str, Any]:
    fields: dict[str, str] = {}
    ctype = ""
    for line in head.split("\r\n"):
        header, _, value = line.partition(":")
        if header.strip().lower() == "content-disposition":
            for item in value.split(";")[1:]:
                key, _, val = item.strip().partition("=")
                fields[key.lower()] = val.strip('"')
        elif header.strip().lower() == "content-type":
            ctype = value.strip()
    name = fields.get("name")
    if name is not None and scrubber.secret(name):
        value_: Any = REDACTED
    elif fields.get("filename") is None and len(content) <= _LONG:
        try:
            value_ = scrubber.text(content.decode("utf-8"))
        except UnicodeDecodeError:
            value_ = _digest(content)
    else:
        value_ = _digest(content)
    return {"name": name, "filename": fields.get("filename"), "content_type": ctype or None, "content": value_}


def request_key(method: str, url: str, body: Any) -> tuple[str, str]:
    """`(key, canonical JSON)` of a canonical request."""
    if body is None:  # what json.dumps writes below, without walking a dict
        text = f'{{"body":null,"method":{_string(method.upper())},"url":{_string(url)}}}'
        return hashlib.sha256(text.encode()).hexdigest(), text
    text = json.dumps({"method": method.upper(), "url": url, "body": body}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest(), text


_string = json.JSONEncoder(ensure_ascii=False).encode  # a str as json.dumps(..., ensure_ascii=False) writes it
