"""Reading a vcrpy YAML cassette, untrusted input, into checked `(request, response)` pairs.

A YAML file may come from anyone, so nothing in it is used before its shape is checked:

- parsed with PyYAML's safe loader only (no `!!python/...` tags, no class is built);
- read whole, so the file may be at most twice the body cap (`limits`);
- every interaction must be a mapping with a `request` (`method`, an http(s) `uri`,
  `headers` as names to strings or lists of strings, `body` as text, bytes or null)
  and a `response` in either vcrpy format: today's (`status: {code, message}`,
  `headers`, `body: {string}`) or the older httpx one (`status_code`,
  `content`, whose text is already decoded), returned in today's format;
- each body, and what it decompresses to, is held to the body cap;
- YAML aliases may point many places at one value; what the checks walk may cost at most
  about twice the file's own size, so a small file cannot expand into a huge import.

Anything else is a `CassetteError` naming the file and the
interaction, on one line.
"""

from __future__ import annotations

import http
import math
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..exceptions import CassetteError
from . import limits
from .limits import ENV_MAX_BODY_SIZE, check_size, inflate, shown

__all__ = ["Pair", "load_vcr_yaml"]

Pair = tuple[dict[str, Any], dict[str, Any]]
_MAX_URI = 64 * 1024
_MAX_INT = 2**63 - 1


class _Shape(Exception):
    """One malformed value: the message says what, the caller says where."""


class _Budget:
    """What the checks may walk: 1 per value plus the length of each string or bytes."""

    def __init__(self, file_size: int) -> None:
        self.left = 2 * file_size + 4096

    def spend(self, value: Any) -> None:
        self.left -= 1 + (len(value) if isinstance(value, str | bytes) else 0)
        if self.left < 0:
            raise _Shape("it expands to far more than the file holds (YAML aliases used as a bomb?)")


def load_vcr_yaml(source: Path, *, max_body_size: int | None = None) -> list[Pair]:
    """A vcrpy YAML cassette's `(request, response)` pairs, checked, responses in today's format.

    Args:
        source: the YAML file.
        max_body_size: the cap on each body, stored and decompressed (bytes); default
            `TARASH_MAX_BODY_SIZE` or 512 MiB.

    Raises:
        CassetteError: the file cannot be read, is not a vcrpy cassette, or one of its
            interactions is malformed or too large (the message names which).
    """
    limit = limits.max_body_size(max_body_size)
    data, size = _parse(source, limit)
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{source} is not a vcrpy cassette (no 'interactions' list)")
    budget = _Budget(size)
    pairs = []
    for number, item in enumerate(data["interactions"], start=1):
        where = f"{source}: interaction {number}"
        try:
            budget.spend(item)
            if not isinstance(item, dict):
                raise _Shape(f"is a {_kind(item)}, not a mapping with a request and a response")
            pairs.append((_request(item.get("request"), budget, limit, where),
                          _response(item.get("response"), budget, limit, where)))
        except _Shape as problem:
            raise CassetteError(f"{where} is malformed: {problem}") from None
    return pairs


def _parse(source: Path, limit: int) -> tuple[Any, int]:
    import yaml

    try:
        size = source.stat().st_size
        if size > 2 * limit:  # read whole, so held to twice the body cap (a body in base64, and YAML)
            raise CassetteError(f"{source}: the YAML file is {shown(size)}, over twice the {shown(limit)} cap on "
                                f"imported bodies; raise it with --max-body-size or {ENV_MAX_BODY_SIZE} if the file "
                                "is trusted")
        text = source.read_bytes().decode("utf-8")
    except OSError as error:
        raise CassetteError(f"cannot read {source}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise CassetteError(f"{source} is not UTF-8 text (byte {error.start}), so not a vcrpy YAML cassette") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader), size  # noqa: S506 - a safe loader: no tags that build objects
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())
        raise CassetteError(f"{source} is not valid vcrpy YAML: {reason[:300]}") from None
    except (ValueError, OverflowError, RecursionError) as error:  # a value the safe loader cannot build
        raise CassetteError(f"{source} is not valid vcrpy YAML: {type(error).__name__}: {str(error)[:200]}") from None


def _kind(value: Any) -> str:
    names = {dict: "mapping", list: "list", str: "string", bytes: "binary", type(None): "null", int: "number",
             float: "number", bool: "boolean"}
    return names.get(type(value), type(value).__name__)


def _request(value: Any, budget: _Budget, limit: int, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Shape(f"its request is a {_kind(value)}, not a mapping")
    budget.spend(value)
    method, uri = value.get("method"), value.get("uri")
    if not isinstance(method, str) or not method.isascii() or not method.isalpha() or len(method) > 32:
        raise _Shape(f"its request has no HTTP method (method: {_short(method)})")
    if not isinstance(uri, str) or len(uri) > _MAX_URI:
        raise _Shape(f"its request has no uri (uri: {_short(uri)})")
    budget.spend(uri)
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - a bad port raises here, not later in the scrubber
    except ValueError as error:
        raise _Shape(f"its request uri is not a URL ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _Shape(f"its request uri {_short(uri)} is not an http(s) URL")
    headers = _headers(value.get("headers"), budget, "request")
    body = _body(value.get("body"), budget, "request body")
    if body is not None:
        inflate(body, _encoding(headers), limit, f"{where}, request body", keep=False)
    return {"method": method, "uri": uri, "headers": headers, "body": body}


def _response(value: Any, budget: _Budget, limit: int, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Shape(f"its response is a {_kind(value)}, not a mapping")
    budget.spend(value)
    headers = _headers(value.get("headers"), budget, "response")
    if "status_code" in value and "status" not in value:
        return _old_response(value, headers, budget, limit, where)
    status = value.get("status")
    if not isinstance(status, dict):
        raise _Shape(f"its response has no status mapping (status: {_short(status)})")
    code, message = _code(status.get("code")), status.get("message")
    if message is not None and not isinstance(message, str):
        raise _Shape(f"its response status message is a {_kind(message)}, not text")
    body = value.get("body")
    if body is not None and not isinstance(body, dict):
        raise _Shape(f"its response body is a {_kind(body)}, not a mapping with a 'string'")
    data = _body((body or {}).get("string"), budget, "response body") or b""
    inflate(data, _encoding(headers), limit, f"{where}, response body", keep=False)
    extra = {k: _scalar(v, k) for k, v in value.items() if k not in ("status", "headers", "body")}
    return {**extra, "status": {"code": code, "message": message or ""}, "headers": headers, "body": {"string": data}}


def _old_response(value: dict[str, Any], headers: dict[str, list[str]], budget: _Budget, limit: int,
                  where: str) -> dict[str, Any]:
    # vcrpy's older httpx format: the content was stored decoded, while the headers still
    # name the wire's compression. Keep the text and drop the now-wrong header.
    code = _code(value.get("status_code"))
    body = _body(value.get("content"), budget, "response content") or b""
    for name in [k for k in headers if k.lower() == "content-encoding"]:
        plain = inflate(body, (headers[name] or [""])[0], limit, f"{where}, response content")
        body = body if plain is None else plain  # None: already decoded text
        del headers[name]
        for length in [k for k in headers if k.lower() == "content-length"]:
            headers[length] = [str(len(body))]
    check_size(len(body), limit, f"{where}, response content")
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = ""
    return {"status": {"code": code, "message": phrase}, "headers": headers, "body": {"string": body}}


def _code(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 999:
        raise _Shape(f"its response has no status code from 100 to 999 (code: {_short(value)})")
    return value


def _headers(value: Any, budget: _Budget, side: str) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Shape(f"its {side} headers are a {_kind(value)}, not a mapping of names to values")
    headers: dict[str, list[str]] = {}
    for name, values in value.items():
        budget.spend(name)
        if not isinstance(name, str) or not name or not name.isprintable():
            raise _Shape(f"its {side} has a header name that is not text: {_short(name)}")
        items = values if isinstance(values, list) else [values]
        for item in items:
            budget.spend(item)
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in items):
            raise _Shape(f"its {side} header {name!r} holds a {_kind(values)}, not text")
        headers[name] = [str(v) for v in items]
    return headers


def _body(value: Any, budget: _Budget, what: str) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str | bytes):
        raise _Shape(f"its {what} is a {_kind(value)}, not text or binary")
    budget.spend(value)
    try:
        return value.encode("utf-8") if isinstance(value, str) else value
    except UnicodeEncodeError as error:  # a lone surrogate, written as an escape in the YAML
        raise _Shape(f"its {what} holds a character that is not valid UTF-8 ({error.reason})") from None


def _encoding(headers: dict[str, list[str]]) -> str:
    return next(((v or [""])[0] for k, v in headers.items() if k.lower() == "content-encoding"), "")


def _scalar(value: Any, name: str) -> Any:
    ok = value is None or isinstance(value, str | bool) or (isinstance(value, int) and abs(value) <= _MAX_INT)
    if ok or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise _Shape(f"its response field {name!r} is a {_kind(value)}, not a plain value")


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
