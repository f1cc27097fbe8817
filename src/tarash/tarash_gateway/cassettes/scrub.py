"""Secrets never reach a cassette: everything is scrubbed before it is written.

Scrubbed, replaced by `[REDACTED]`:

- values under secret-looking names, at any depth of a dict or list: `api_key`,
  `apiKey`, `x-api-key`, `client_secret`, `password`, `pwd`, `passphrase`,
  `access_token`, `authorization`, `cookie`, `signature`, `jwt`, `hmac`,
  `signing_key`, `AccountKey`, `Ocp-Apim-Subscription-Key` ... (see
  `is_secret_name`), plus the names a cassette adds with `secret_keys`;
- the same names as parameters wherever they appear in text: URL query strings
  (`?api_key=...`, Google's `&key=...`), the signed-URL parameters of S3
  (`X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`, legacy
  `Signature` and `AWSAccessKeyId`), GCS (`X-Goog-Signature`,
  `X-Goog-Credential`), Azure SAS (`sig`), CloudFront (`Signature`,
  `Key-Pair-Id`, `Policy`, `_jwt`), Akamai (`hdnts=...~hmac=...`,
  `__token__`), HTML-escaped (`&amp;sig=...`) too, and `AccountKey=` in
  connection strings;
- the user (and password) of a URL: `https://user:pw@host` becomes
  `https://[REDACTED]:[REDACTED]@host`;
- the known key formats of the providers and JWTs, wherever they appear (see
  `shapes`);
- every known secret value wherever it appears inside a string or a body: the
  config's `api_key`, the cassette's `secret_values`, and the values *learned*
  from the call itself: whatever it sends under a secret name (in `provider_config`,
  the request's fields, headers, query strings, JSON and form bodies), so a provider's
  answer that quotes the secret back is scrubbed too.

Pure functions over plain values; nothing here does I/O.
"""

from __future__ import annotations

import functools
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from .shapes import is_placeholder, looks_random, redact_shapes
from .stand_in import MIN_LENGTH, REDACTED_IN_URL, is_stand_in, split_padding, stand_in

__all__ = ["REDACTED", "Scrubber", "is_secret_name", "is_secret_parameter"]

REDACTED = "[REDACTED]"
_SECRET_PART = re.compile(
    r"(?:^|_)(?:api_?key|apikey|secret|client_secret|password|passwd|pwd|passphrase|token|access_token|"
    r"refresh_token|id_token|auth|authorization|credentials?|private_key|access_key|session_key|signing_key|"
    r"account_key|subscription_key|master_key|connection_string|cookie|set_cookie|signature|sig|jwt|hmac|"
    r"x_amz_signature|x_amz_credential|x_amz_security_token|x_goog_signature|bearer)(?:$|_)"
)
# camelCase and acronyms: apiKey -> api_Key, AWSAccessKeyId -> AWS_Access_Key_Id
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# Short words that are secrets only as a header or parameter name (Google's ?key=,
# CloudFront's Key-Pair-Id and Policy, Akamai's hdnts).
_PARAMETER_ONLY = frozenset({"key", "code", "policy", "key_pair_id", "hdnts"})
_MIN_SECRET_LENGTH = 4  # shorter "secrets" would redact ordinary text everywhere
_MIN_LEARNED_LENGTH = 6  # a value learned from a field must also look like one
# name=value in text: after the start, ?, &, &amp;, ;, ~ (Akamai), a space, a comma or (
_PARAMETER = re.compile(r"(?:^|(?<=[?&;~\s,(]))(?P<name>[A-Za-z0-9_.%\-]+)=(?P<value>[^&;\s\"'<>#\\]*)")
_LEAD = re.compile(r"[?&;~\s,(]")
_URL = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>\\]+")
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^/?#\s:@\"'<>]+)"
                       r"(?::(?P<password>[^/?#\s@\"'<>]*))?@")


@functools.lru_cache(maxsize=8192)  # the same few hundred names, asked about for every value
def _normal(name: str) -> str:
    return _CAMEL.sub("_", name).replace("-", "_").lower()


@functools.lru_cache(maxsize=8192)
def _secret_normal(normal: str) -> bool:
    return _SECRET_PART.search(normal) is not None


def is_secret_name(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether a key, header or parameter name looks like it holds a secret.

    Examples:
        >>> is_secret_name("X-Api-Key"), is_secret_name("max_tokens"), is_secret_name("prompt")
        (True, False, False)
    """
    normal = _normal(name)
    if _secret_normal(normal):
        return True
    return any(normal == _normal(e) for e in extra)


def is_secret_parameter(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether a query-string, form or header name holds a secret: the secret names,
    plus short ones that are secrets only there (`key`, `Key-Pair-Id`, `Policy`).

    Examples:
        >>> is_secret_parameter("Key-Pair-Id"), is_secret_parameter("key_frame")
        (True, False)
    """
    return _secret_parameter_name(name, tuple(extra))


@functools.lru_cache(maxsize=8192)  # every header and query name of every request
def _secret_parameter_name(name: str, extra: tuple[str, ...]) -> bool:
    plain = unquote(name) if "%" in name else name
    return _normal(plain.lstrip("_") or plain) in _PARAMETER_ONLY or is_secret_name(plain, extra)


class Scrubber:
    """Scrubs one call's values with its known secret values and extra secret names.

    What it writes keeps URLs valid: a secret parameter of a URL gets a stand-in of the
    same length and alphabet (`stand_in`), or `%5BREDACTED%5D` when it is too short or
    plain to be a signature; elsewhere secrets become `[REDACTED]`. `for_matching` is
    the same scrubber writing `[REDACTED]` everywhere, for canonical requests: what
    takes part in matching never depends on a secret's value or its stand-in.

    Examples:
        >>> scrubber = Scrubber.for_call("sk-live-123456", {"auth": {"token": "t-9876543"}})
        >>> scrubber.text("401: bad token t-9876543 for https://u:pw@cdn.test/v.mp4?sig=abc&w=1")
        '401: bad token [REDACTED] for https://%5BREDACTED%5D:%5BREDACTED%5D@cdn.test/v.mp4?sig=%5BREDACTED%5D&w=1'
        >>> scrubber.for_matching().text("https://cdn.test/v.mp4?sig=abc&w=1")
        'https://cdn.test/v.mp4?sig=[REDACTED]&w=1'
    """

    def __init__(self, values: Iterable[str | None] = (), names: Iterable[str] = (), *,
                 stand_ins: bool = True) -> None:
        self.names = tuple(names)
        kept = {v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET_LENGTH and v != REDACTED}
        self.values = tuple(sorted(kept, key=len, reverse=True))
        #: Whether secret URL parameters get stand-ins (what is stored) or `[REDACTED]` (keys).
        self.stand_ins = stand_ins
        self._matching: Scrubber | None = None if stand_ins else self

    def for_matching(self) -> Scrubber:
        """This scrubber writing `[REDACTED]` for every secret, URLs included (canonical
        requests and keys: equal whatever the secret's value, as they always were)."""
        if self._matching is None:
            self._matching = Scrubber(self.values, self.names, stand_ins=False)
        return self._matching

    @classmethod
    def for_call(cls, api_key: str | None, provider_config: Mapping[str, Any], extra_values: Iterable[str] = (),
                 extra_names: Iterable[str] = (), request: Any = None) -> Scrubber:
        """The scrubber of one call: its key, the cassette's values and names, and every
        value the call sends under a secret name in `provider_config` or `request`."""
        names = tuple(extra_names)
        learned = [*_secret_values(provider_config, names), *_secret_values(request, names)]
        return cls([api_key, *extra_values, *_learnable(learned)], names)

    def learn(self, headers: Mapping[str, Any], url: str = "", body: bytes | None = None,
              content_type: str = "") -> Scrubber:
        """This scrubber, also knowing the secret values a request carries in its headers,
        URL and body (so an echo of them in a response is scrubbed too)."""
        found: list[str] = []
        for name, values in headers.items():
            for value in values if isinstance(values, list) else [values]:
                if self.parameter(str(name)):
                    found.extend(_with_parts(str(value)))
                else:
                    found.extend(_text_secrets(str(value), self.names))
        found.extend(_text_secrets(url, self.names))
        if body:
            found.extend(_body_secrets(body, content_type, self.names))
        found = _learnable(found)
        if not found:
            return self
        return Scrubber((*self.values, *found), self.names, stand_ins=self.stand_ins)

    def secret(self, name: str) -> bool:
        return is_secret_name(name, self.names)

    def parameter(self, name: str) -> bool:
        return is_secret_parameter(name, self.names)

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
        """A string with known values, secret parameters, URL userinfo and key shapes redacted."""
        text = self.url(text)  # first, so a known value that is a URL's signature gets its stand-in
        for secret in self.values:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return redact_shapes(text, REDACTED)

    def url(self, url: str) -> str:
        """The text with secret parameters and URL userinfo redacted, the rest as written."""
        if "=" in url and (_LEAD.search(url) or _PARAMETER.match(url)):  # base64 has no lead: skipped at C speed
            if self.stand_ins and "://" in url:
                url = _around_urls(url, self._parameters, self._url_parameters)
            else:
                url = self._parameters(url)
        if "@" in url and "://" in url:
            url = _USERINFO.sub(_userinfo_in_url if self.stand_ins else _userinfo, url)
        return url

    def _parameters(self, text: str) -> str:
        return _PARAMETER.sub(self._parameter_value, text)

    def _parameter_value(self, match: re.Match[str]) -> str:
        name, value = match.group("name"), match.group("value")
        if not value or value == REDACTED or not _secret_parameter(match, self.names):
            return match.group(0)
        return f"{name}={REDACTED}"

    def _url_parameters(self, url: str) -> str:
        """One URL with its secret parameters' values replaced by stand-ins."""
        secret = [m for m in _PARAMETER.finditer(url) if m.group("value") and _secret_parameter(m, self.names)]
        if not secret:
            return url
        rest, last = [], 0
        for m in secret:  # the URL with its secret values left out: what a stand-in is made of
            rest += [url[last : m.start("value")]]
            last = m.end("value")
        rest_of_url = "".join(rest) + url[last:]
        for known in self.values:  # a secret elsewhere in the URL (its path) is no part of a stand-in either
            rest_of_url = rest_of_url.replace(known, REDACTED)
        rest_of_url = redact_shapes(rest_of_url, REDACTED)
        out, last = [], 0
        for m in secret:
            out += [url[last : m.start("value")], _url_value(m.group("name"), rest_of_url, m.group("value"))]
            last = m.end("value")
        return "".join(out) + url[last:]

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        """HTTP headers (values as strings or lists of strings) with secrets redacted."""
        out: dict[str, Any] = {}
        for name, values in headers.items():
            if self.parameter(str(name)):
                out[name] = [REDACTED] * len(values) if isinstance(values, list) else REDACTED
            elif isinstance(values, list):
                out[name] = [self.text(str(v)) for v in values]
            else:
                out[name] = self.text(str(values))
        return out

    def body(self, body: bytes | None, content_type: str = "", content_encoding: str = "") -> bytes | None:
        """A request or response body with secrets redacted; unchanged bytes when clean.

        JSON and form bodies are scrubbed by key; gzip and deflate bodies are
        decompressed, scrubbed and compressed again; text of any other type (HTML, XML,
        plain text, or bytes of an unknown type that decode as UTF-8) is scrubbed as
        text; binary bodies have the known secret values replaced.
        """
        if not body:
            return body
        encoding = content_encoding.strip().lower()
        if encoding in ("gzip", "deflate"):
            import gzip  # only a compressed body needs it: a replay's canonical requests never do

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
                return self._text_body(body)
            clean = self.value(data)
            return body if clean == data else json.dumps(clean, separators=(",", ":")).encode()
        if "x-www-form-urlencoded" in ctype:
            try:
                pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            except (UnicodeDecodeError, ValueError):
                return self._raw(body)
            if any(self.parameter(k) for k, _ in pairs):
                return urlencode([(k, REDACTED if self.parameter(k) else v) for k, v in pairs]).encode()
        return self._text_body(body)

    def _text_body(self, body: bytes) -> bytes:
        text = _as_text(body)
        if text is None:
            return self._raw(body)
        clean = self.text(text)
        return body if clean == text else clean.encode("utf-8")

    def _raw(self, body: bytes) -> bytes:
        for secret in self.values:
            needle = secret.encode()
            if needle in body:
                body = body.replace(needle, REDACTED.encode())
        return body


def _as_text(body: bytes) -> str | None:
    """The body as text when it is UTF-8 text (no NUL bytes); else `None` (media)."""
    if b"\x00" in body[:4096]:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _secret_parameter(match: re.Match[str], names: tuple[str, ...]) -> bool:
    """Whether a `name=value` match holds a secret. Short names (`key`, `code`)
    count only in a query string (after `?`, `&`, `;`, `~`), not in prose:
    `"failed with code=429"` keeps its code."""
    start = match.start()
    in_query = start > 0 and match.string[start - 1] in "?&;~"
    name = match.group("name")
    return is_secret_parameter(name, names) if in_query else is_secret_name(name, names)


def _userinfo(match: re.Match[str]) -> str:
    hidden = REDACTED if match.group("password") is None else f"{REDACTED}:{REDACTED}"
    return f"{match.group('scheme')}{hidden}@"


def _userinfo_in_url(match: re.Match[str]) -> str:
    hidden = REDACTED_IN_URL if match.group("password") is None else f"{REDACTED_IN_URL}:{REDACTED_IN_URL}"
    return f"{match.group('scheme')}{hidden}@"


def _url_value(name: str, rest_of_url: str, value: str) -> str:
    """What a cassette keeps of a secret URL parameter's value."""
    if value in (REDACTED, REDACTED_IN_URL) or is_stand_in(value):
        return value  # scrubbed already (a replayed URL, an old cassette): kept as it is
    if looks_random(split_padding(value)[0], min_length=MIN_LENGTH):
        return stand_in(name, rest_of_url, value)
    return REDACTED_IN_URL


def _around_urls(text: str, outside: Any, inside: Any) -> str:
    """`text` with `inside` applied to each URL in it and `outside` to the rest."""
    parts, last = [], 0
    for match in _URL.finditer(text):
        parts += [outside(text[last : match.start()]), inside(match.group())]
        last = match.end()
    return "".join(parts) + outside(text[last:])


def _textual(value: Any) -> bool:
    """A string, or a list of strings (how headers hold their values)."""
    return isinstance(value, str) or (isinstance(value, list | tuple) and all(isinstance(v, str) for v in value))


def _redacted(value: Any) -> Any:
    return REDACTED if isinstance(value, str) else [REDACTED] * len(value)


def _with_parts(text: str) -> list[str]:
    """A secret, and its parts: `Bearer sk-...` also leaks its bare token."""
    return [text, *(part for part in text.split() if len(part) >= 8)]


def _learnable(values: Iterable[str]) -> list[str]:
    """Learned values worth replacing everywhere: not placeholders, not plain words
    (`"auth_mode": "bearer"` must not redact every "bearer" of a response)."""
    return [v for v in values if len(v) >= _MIN_LEARNED_LENGTH and not is_placeholder(v)
            and not (v.isalpha() and v.islower())]


def _text_secrets(text: str, names: tuple[str, ...]) -> list[str]:
    """The secret parameter values and URL passwords written in a string."""
    found: list[str] = []
    if "=" in text and (_LEAD.search(text) or _PARAMETER.match(text)):
        found.extend(m.group("value") for m in _PARAMETER.finditer(text) if _secret_parameter(m, names))
    if "@" in text and "://" in text:
        for m in _USERINFO.finditer(text):
            found.extend(v for v in (m.group("user"), m.group("password")) if v)
    return found


def _body_secrets(body: bytes, content_type: str, names: tuple[str, ...]) -> list[str]:
    """The values a JSON or form request body sends under secret names."""
    text = _as_text(body)
    if text is None:
        return []
    if "json" in content_type.lower() or text[:1] in ("{", "["):
        try:
            return _secret_values(json.loads(text), names)
        except ValueError:
            return _text_secrets(text, names)
    return _text_secrets(text, names)


def _secret_values(value: Any, names: tuple[str, ...]) -> list[str]:
    """The string values found under secret names, at any depth, and the secret
    parameters and URL passwords written in its strings."""
    found: list[str] = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            if _textual(v) and is_secret_name(str(k), names):
                for text in [v] if isinstance(v, str) else v:
                    found.extend(_with_parts(text))
            else:
                found.extend(_secret_values(v, names))
    elif isinstance(value, list | tuple):
        for v in value:
            found.extend(_secret_values(v, names))
    elif isinstance(value, str):
        found.extend(_text_secrets(value, names))
    return found
