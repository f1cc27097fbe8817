"""What a blob may be served as, and which of its bytes a request asks for.

Both decisions are pure functions of strings and numbers, so the blob route holds only
I/O. A cassette is untrusted input: the content type recorded with a blob is used only
when it is on a short allow-list of types a browser renders without running anything
(no `text/html`, no `image/svg+xml`); everything else is served as a download.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ByteRange", "RangeNotSatisfiable", "media_kind", "parse_range", "safe_content_type"]

#: Exact types a blob is served as when it was recorded with one of them.
SAFE_TYPES = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp",
    "video/mp4", "video/webm", "video/quicktime", "video/ogg", "video/x-matroska",
    "audio/mpeg", "audio/mp4", "audio/wav", "audio/ogg", "audio/webm",
    "application/json", "text/plain",
})
FALLBACK_TYPE = "application/octet-stream"

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def safe_content_type(recorded: str | None) -> str:
    """The content type to serve a blob with: the recorded one if it is allowed, else
    `application/octet-stream`. Parameters (`; charset=...`) are dropped, except a
    text type is always served as UTF-8."""
    base = (recorded or "").split(";", 1)[0].strip().lower()
    if base not in SAFE_TYPES:
        return FALLBACK_TYPE
    return f"{base}; charset=utf-8" if base in ("text/plain", "application/json") else base


def media_kind(content_type: str | None) -> str:
    """How a page shows a blob: `image`, `video`, `audio`, `text` or `download`."""
    served = safe_content_type(content_type).split(";", 1)[0]
    if served == FALLBACK_TYPE:
        return "download"
    major = served.split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "text"


class RangeNotSatisfiable(ValueError):
    """The request asked for bytes the blob does not have (answered with 416)."""


@dataclass(frozen=True, slots=True)
class ByteRange:
    """The bytes `start` to `end` (inclusive) of a blob of `size` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range a `Range` header asks for, or `None` for the whole blob.

    A header we do not understand (another unit, several ranges, garbage) is ignored,
    as RFC 9110 allows: the answer is then the whole blob with status 200. A range that
    starts past the end raises `RangeNotSatisfiable`.

    Examples:
        >>> parse_range("bytes=100-", 1000)
        ByteRange(start=100, end=999, size=1000)
        >>> parse_range("bytes=-10", 1000).content_range
        'bytes 990-999/1000'
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # a suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(f"bytes=-{suffix} of a blob of {size} bytes")
        return ByteRange(max(size - suffix, 0), size - 1, size)
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        return None  # invalid: ignored, like a header we do not understand
    if start >= size:
        raise RangeNotSatisfiable(f"bytes={first}-{last} of a blob of {size} bytes")
    return ByteRange(start, end, size)
