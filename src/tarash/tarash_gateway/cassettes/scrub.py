"""Secrets never reach a cassette: everything is scrubbed before it is written.

Scrubbed, replaced by ``[REDACTED]``:

- values under secret-looking names, at any depth of a dict or list: ``api_key``,
  ``apiKey``, ``x-api-key``, ``client_secret``, ``password``, ``access_token``,
  ``authorization``, ``cookie``, ``signature`` ... (see :func:`is_secret_name`), plus the
  names a cassette adds with ``secret_keys``;
- the same names in URL query strings (``?api_key=...``, ``&key=...``, signed-URL
  ``X-Amz-Signature``), in HTTP headers, and in JSON or form bodies;
- every known secret value wherever it appears inside a string: the config's
  ``api_key``, the values found under secret names in ``provider_config``, and the
  cassette's ``secret_values``.

Pure functions over plain values; nothing here does I/O.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "Scrubber", "is_secret_name"]

REDACTED = "[REDACTED]"
_SECRET_PART = re.compile(
    r"(?:^|_)(?:api_?key|apikey|secret|client_secret|password|passwd|token|access_token|refresh_token|"
    r"id_token|auth|authorization|credentials?|private_key|access_key|session_key|cookie|set_cookie|"
    r"signature|sig|x_amz_signature|x_amz_credential|x_amz_security_token|x_goog_signature|bearer)(?:$|_)"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Short words that are secrets only as a header or query-parameter name (Google's ?key=).
_QUERY_ONLY = frozenset({"key", "code"})
_MIN_SECRET_LENGTH = 4  # shorter "secrets" would redact ordinary text everywhere


def _normal(name: str) -> str:
    return _CAMEL.sub("_", name).replace("-", "_").lower()


def is_secret_name(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether a key, header or parameter name looks like it holds a secret.

    Example:
        >>> is_secret_name("X-Api-Key"), is_secret_name("max_tokens"), is_secret_name("prompt")
        (True, False, False)
    """
    normal = _normal(name)
    if _SECRET_PART.search(normal):
        return True
    return any(normal == _normal(e) for e in extra)


class Scrubber:
    """Scrubs one call's values with its known secret values and extra secret names."""

    def __init__(self, values: Iterable[str | None] = (), names: Iterable[str] = ()) -> None:
        self.names = tuple(names)
        kept = {v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET_LENGTH}
        self.values = tuple(sorted(kept, key=len, reverse=True))

    @classmethod
    def for_call(cls, api_key: str | None, provider_config: Mapping[str, Any], extra_values: Iterable[str] = (),
                 extra_names: Iterable[str] = ()) -> Scrubber:
        names = tuple(extra_names)
        found = [api_key, *extra_values, *_secret_values(provider_config, names)]
        return cls(found, names)

    def learn(self, headers: Mapping[str, Any], url: str = "") -> Scrubber:
        """This scrubber, also knowing the secret values a request carries in its headers
        and query string (so an echo of them in a response is scrubbed too)."""
        found: list[str] = []
        for name, values in headers.items():
            if self._query_secret(str(name)):
                for value in values if isinstance(values, list) else [values]:
                    found.append(str(value))
                    found.extend(part for part in str(value).split() if len(part) >= 8)
        if "?" in url:
            found.extend(v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True) if self._query_secret(k))
        if not found:
            return self
        return Scrubber((*self.values, *found), self.names)

    def secret(self, name: str) -> bool:
        return is_secret_name(name, self.names)

    def value(self, value: Any) -> Any:
        """A copy of a JSON-like value with every secret replaced."""
        if isinstance(value, dict):
            return {k: (_redacted(v) if self.secret(str(k)) and _textual(v) else self.value(v)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def text(self, text: str) -> str:
        for secret in self.values:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if "?" in text and "=" in text and "http" in text:
            if text.startswith(("http://", "https://")) and not _SPACE.search(text):
                return self.url(text)
            # URLs inside prose too: error messages and bodies echo signed input URLs
            text = _EMBEDDED_URL.sub(lambda m: self.url(m.group(0)), text)
        return text

    def url(self, url: str) -> str:
        """The URL with secret query parameters redacted (the rest kept as written)."""
        parts = urlsplit(url)
        if not parts.query:
            return url
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if not any(self._query_secret(k) for k, _ in pairs):
            return url
        query = urlencode([(k, REDACTED if self._query_secret(k) else v) for k, v in pairs], safe="[]")
        return urlunsplit(parts._replace(query=query))

    def _query_secret(self, name: str) -> bool:
        return _normal(name) in _QUERY_ONLY or self.secret(name)

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        """HTTP headers (values as strings or lists of strings) with secrets redacted."""
        out: dict[str, Any] = {}
        for name, values in headers.items():
            if self._query_secret(str(name)):
                out[name] = [REDACTED] * len(values) if isinstance(values, list) else REDACTED
            elif isinstance(values, list):
                out[name] = [self.text(str(v)) for v in values]
            else:
                out[name] = self.text(str(values))
        return out

    def body(self, body: bytes | None, content_type: str = "", content_encoding: str = "") -> bytes | None:
        """A request or response body with secrets redacted; unchanged bytes when clean.

        JSON and form bodies are scrubbed by key; gzip and deflate bodies are
        decompressed, scrubbed and compressed again; any other body has the known
        secret values replaced.
        """
        if not body:
            return body
        encoding = content_encoding.strip().lower()
        if encoding in ("gzip", "deflate"):
            try:
                plain = gzip.decompress(body) if encoding == "gzip" else zlib.decompress(body)
            except (OSError, zlib.error, EOFError):
                return self._raw(body)
            clean = self.body(plain, content_type)
            if clean == plain:
                return body
            return gzip.compress(clean or b"", mtime=0) if encoding == "gzip" else zlib.compress(clean or b"")
        ctype = content_type.lower()
        if "json" in ctype or body[:1] in (b"{", b"["):
            try:
                data = json.loads(body)
            except ValueError:
                return self._raw(body)
            clean = self.value(data)
            return body if clean == data else json.dumps(clean, separators=(",", ":")).encode()
        if "x-www-form-urlencoded" in ctype:
            try:
                pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            except (UnicodeDecodeError, ValueError):
                return self._raw(body)
            if any(self._query_secret(k) for k, _ in pairs):
                return urlencode([(k, REDACTED if self._query_secret(k) else v) for k, v in pairs]).encode()
        return self._raw(body)

    def _raw(self, body: bytes) -> bytes:
        for secret in self.values:
            needle = secret.encode()
            if needle in body:
                body = body.replace(needle, REDACTED.encode())
        return body


def _textual(value: Any) -> bool:
    """A string, or a list of strings (how headers hold their values)."""
    return isinstance(value, str) or (isinstance(value, list | tuple) and all(isinstance(v, str) for v in value))


_SPACE = re.compile(r"\s")
_EMBEDDED_URL = re.compile(r"https?://[^\s\"'<>()\[\]{}]+")


def _redacted(value: Any) -> Any:
    return REDACTED if isinstance(value, str) else [REDACTED] * len(value)


def _secret_values(value: Any, names: tuple[str, ...]) -> list[str]:
    """The string values found under secret names, at any depth."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            if _textual(v) and is_secret_name(str(k), names):
                for text in [v] if isinstance(v, str) else v:
                    found.append(text)
                    # "Bearer sk-..." also leaks its bare token
                    found.extend(part for part in text.split() if len(part) >= 16)
            else:
                found.extend(_secret_values(v, names))
    elif isinstance(value, list | tuple):
        for v in value:
            found.extend(_secret_values(v, names))
    return found
