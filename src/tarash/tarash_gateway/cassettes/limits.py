"""How big an imported body may be: checked before and while it is decompressed.

An import (a vcrpy YAML cassette, a JSONL export) is untrusted input, and a few hundred
kilobytes of gzip can inflate to gigabytes. Every body an import meets is held to one
cap, `max_body_size` bytes (default 512 MiB, or `TARASH_MAX_BODY_SIZE`): its stored
size first, then its decompressed size, measured by inflating it in chunks that are
thrown away, so the check itself never holds more than a chunk.

Sizes are whole bytes or a number with a unit: `64K`, `512M`, `1G`, `2GiB`
(binary units: `K` is 1024 bytes).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from ..env import env_value
from ..exceptions import CassetteError, ValidationError

__all__ = ["DEFAULT_MAX_BODY_SIZE", "ENV_MAX_BODY_SIZE", "MAX_BODY_SIZE_LIMIT", "check_size", "inflate",
           "max_body_size", "parse_size", "shown"]

DEFAULT_MAX_BODY_SIZE = 512 << 20
ENV_MAX_BODY_SIZE = "TARASH_MAX_BODY_SIZE"
#: The largest cap that can be set: past it SQLite cannot store a blob anyway.
MAX_BODY_SIZE_LIMIT = 1 << 40
_CHUNK = 1 << 20
_SIZE = re.compile(r"\s*(\d+)\s*(?:([kmgt])(?:i?b)?|b)?\s*", re.IGNORECASE)
_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes from `"1048576"`, `"64K"`, `"512M"`, `"1GiB"`; ValidationError otherwise.

    Examples:
        >>> parse_size("512M") == 512 * 1024 * 1024
        True
    """
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValidationError(f"{text!r} is not a size (give bytes, or a number with K, M, G or T, like 512M)")
    size = int(match.group(1)) * _UNITS.get((match.group(2) or "").lower(), 1)
    if not 1 <= size <= MAX_BODY_SIZE_LIMIT:
        raise ValidationError(f"size {text!r} is out of range (1 byte to {MAX_BODY_SIZE_LIMIT >> 40} TiB)")
    return size


def max_body_size(given: int | None = None) -> int:
    """The cap in force: `given` > `TARASH_MAX_BODY_SIZE` > 512 MiB."""
    if given is not None:
        if not 1 <= given <= MAX_BODY_SIZE_LIMIT:
            raise ValidationError(f"max_body_size must be 1 to {MAX_BODY_SIZE_LIMIT} bytes, got {given}")
        return given
    value = env_value(ENV_MAX_BODY_SIZE)
    if value is None or not value.strip():
        return DEFAULT_MAX_BODY_SIZE
    try:
        return parse_size(value)
    except ValidationError as error:
        raise ValidationError(f"{ENV_MAX_BODY_SIZE}: {error}") from None


def check_size(size: int, limit: int, where: str, what: str = "body") -> None:
    """Refuse a `size` over `limit`, naming `where` and how to raise the cap."""
    if size > limit:
        raise CassetteError(
            f"{where}: the {what} is over the {shown(limit)} cap on imported bodies ({shown(size)}"
            f"{' or more' if what.startswith('decompressed') else ''}); raise it with --max-body-size "
            f"or {ENV_MAX_BODY_SIZE} if the file is trusted"
        )


def inflate(body: bytes, encoding: str, limit: int, where: str, *, keep: bool = True) -> bytes | None:
    """`body` decompressed as its `Content-Encoding` says, refused past `limit`.

    Decompresses as the scrubber and vcrpy do (gzip with all its members, or deflate),
    in chunks, stopping as soon as the output passes `limit`. Returns the bytes (or
    `b""` with `keep=False`, to only measure), `body` itself when the encoding is
    not a compression, and `None` when the bytes do not decompress.

    Raises:
        CassetteError: the body, or what it decompresses to, is larger than `limit`.
    """
    check_size(len(body), limit, where)
    name = encoding.strip().lower()
    if name not in ("gzip", "x-gzip", "deflate"):
        return body
    parts: list[bytes] = []
    total = 0
    try:
        for piece in _inflated(body, gzip=name != "deflate"):
            total += len(piece)
            check_size(total, limit, where, "decompressed body")
            if keep:
                parts.append(piece)
    except zlib.error:
        return None  # what the scrubber cannot decompress, it stores as it is
    return b"".join(parts)


def _inflated(body: bytes, *, gzip: bool) -> Iterator[bytes]:
    """The decompressed bytes in chunks of at most `_CHUNK`, input fed a chunk at a time."""
    view, offset, pending = memoryview(body), 0, b""
    inflater = zlib.decompressobj(31 if gzip else 15)
    while True:
        if inflater.unconsumed_tail:
            feed: bytes | memoryview = inflater.unconsumed_tail
        elif pending:
            feed, pending = pending, b""
        elif offset < len(view):
            feed, offset = view[offset : offset + _CHUNK], offset + _CHUNK
        else:
            raise zlib.error("truncated")
        yield inflater.decompress(feed, _CHUNK)
        if inflater.eof:
            pending = inflater.unused_data
            if not gzip or (not pending and offset >= len(view)):
                return  # deflate is one stream; gzip.decompress reads every gzip member
            inflater = zlib.decompressobj(31)


def shown(size: int) -> str:
    """A size for people: `512 MiB`, `3.1 KiB`, `12 bytes`."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"
