"""Stand-ins for the secret parameters of URLs: what a cassette keeps instead of a signed
URL's signature, so a replay hands the app a valid URL of the same shape.

A signed media URL (`...?se=2026-01-01&sig=kZ3...%3D`) is recorded with its signature
replaced by a stand-in: as long as it, in the same alphabet (hex stays hex, base64
becomes letters and digits), with its `=` padding kept, and made only of URL-safe
characters, so URL parsers and SDKs' URL checks accept it. A stand-in is computed from
the parameter's name and the rest of the URL (the URL with its secret values left out),
never from the secret: it holds nothing to reverse or to guess. So it is:

- deterministic: the same URL gets the same stand-in in every answer, exchange and
  cassette, at the call level and the HTTP level alike;
- stable: a URL that already holds a stand-in keeps it, scrubbed again or recorded
  again (the app passing a replayed URL back in its next request);
- recognisable: its last 8 characters check the others, so the scrubber, the learned
  secrets and `tarash cassette scan` tell a stand-in from a real signature (a real one
  passes by chance about once in 10^10).

Low-entropy values (shorter than 16 characters, or not random-looking: a password) get no
stand-in, since even the length narrows a guess: they become `%5BREDACTED%5D`, which is
`[REDACTED]` percent-encoded (still a valid URL). Pure functions; nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import re
import string

__all__ = ["MIN_LENGTH", "REDACTED_IN_URL", "is_stand_in", "split_padding", "stand_in"]

#: `[REDACTED]` as it is written inside a URL.
REDACTED_IN_URL = "%5BREDACTED%5D"
#: The shortest value (its padding left out) that gets a stand-in.
MIN_LENGTH = 16
_TAG = 8
_PADDING = re.compile(r"(?:=|%3[Dd])+$")
_DIGITS = string.digits
_HEX = string.digits + "abcdef"
_HEX_UPPER = string.digits + "ABCDEF"
_BASE62 = string.ascii_letters + string.digits
_NOT_HEX = "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ"


def _alphabet(core: str) -> str:
    """The alphabet a value is written in: digits, hex (either case), else letters and digits."""
    chars = set(core)
    for alphabet in (_DIGITS, _HEX, _HEX_UPPER):
        if chars <= set(alphabet):
            return alphabet
    return _BASE62


def _draw(seed: bytes, count: int, alphabet: str) -> str:
    return "".join(alphabet[b % len(alphabet)] for b in hashlib.shake_256(seed).digest(count))


def _tag(body: str, alphabet: str) -> str:
    return _draw(b"tarash stand-in tag\0" + body.encode(), _TAG, alphabet)


def split_padding(value: str) -> tuple[str, str]:
    """`(core, padding)`: base64's trailing `=` (or `%3D`) are kept as they are."""
    padding = _PADDING.search(value)
    return (value[: padding.start()], padding.group()) if padding else (value, "")


def stand_in(name: str, rest_of_url: str, value: str) -> str:
    """The stand-in for the secret `value` of parameter `name` in a URL whose other parts
    are `rest_of_url` (the URL with its secret values left out).

    Examples:
        >>> s = stand_in("X-Amz-Signature", "https://b.test/v.mp4?X-Amz-Signature=", "9f" * 32)
        >>> len(s), set(s) <= set("0123456789abcdef"), is_stand_in(s), s == stand_in("X-Amz-Signature",
        ...     "https://b.test/v.mp4?X-Amz-Signature=", "0a" * 32)
        (64, True, True, True)
    """
    core, padding = split_padding(value)
    alphabet = _alphabet(core)
    body = list(_draw(f"tarash stand-in\0{name}\0{rest_of_url}".encode(), len(core) - _TAG, alphabet))
    marker = {_HEX: "abcdef", _HEX_UPPER: "ABCDEF", _BASE62: _NOT_HEX}.get(alphabet)
    if marker and not any(c in marker for c in body):  # written in the alphabet it is read back in
        body[0] = marker[ord(body[0]) % len(marker)]
    text = "".join(body)
    return text + _tag(text, alphabet) + padding


def is_stand_in(value: str) -> bool:
    """Whether `value` is a stand-in (its last characters check the others)."""
    core, _ = split_padding(value)
    if len(core) < MIN_LENGTH:
        return False
    body, tag = core[:-_TAG], core[-_TAG:]
    return tag == _tag(body, _alphabet(core))
