"""Mock output URLs that stop working after a while, on the clock.

Real output URLs expire (fal's and Replicate's files are deleted, signed URLs run out):
code that stores a URL and downloads it later breaks in production. A mock response
with `MockResponse(media_expires_after=T)` hands out URLs that open until `T`
seconds (on the current clock, so instant in tests) after the call returned them, then
`media_io.load_media` fails on them as on a real expired URL: an `HTTPError` with the
provider's status (`faults.MEDIA_EXPIRED_STATUS`). `fault="media_expired"` is the
same with `T = 0`, on a URL that opens nowhere else either.

The expiry travels in the URL's fragment (`#tarash-expires=<clock time>,<status>`),
which no server ever receives and a `file://` path ignores, so the URL stays the one
the mock would give without it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urldefrag

from ..clock import InstantClock, current_clock
from .faults import media_expired_status

__all__ = ["expire_media", "expired_status", "expiring_url"]

_MARK = "tarash-expires="


def expiring_url(url: str, expires_at: float, status: int) -> str:
    """`url`, expiring at clock time `expires_at` with HTTP `status` (data URIs are bytes: kept)."""
    if url.startswith("data:"):
        return url
    return f"{urldefrag(url).url}#{_MARK}{expires_at:.6f},{status}"


def expired_status(url: str) -> int | None:
    """The status an expired mock URL answers, or `None` (not a mock URL, or not expired yet)."""
    fragment = urldefrag(url).fragment
    if not fragment.startswith(_MARK):
        return None
    at, _, status = fragment[len(_MARK) :].partition(",")
    try:
        expires_at, code = float(at), int(status)
    except ValueError:
        return None
    return code if _now() >= expires_at else None


def _now() -> float:
    """The time expiries are counted on.

    An instant clock runs each call on a time line of its own, which ends with the call:
    the caller's time does not move while a call waits. Its total of simulated waits
    does, so a URL handed out at the end of a 15 s (virtual) job and given 30 s expires
    after the caller's own 30 s of waits, as the user reads it.
    """
    clock = current_clock()
    return clock.slept if isinstance(clock, InstantClock) else clock.monotonic()


def expire_media(response: Any, provider: str, after: float) -> Any:
    """`response` with its output URLs expiring `after` seconds from now, on the clock."""
    at, status = _now() + after, media_expired_status(provider)
    if getattr(response, "images", None):
        return response.model_copy(update={"images": [expiring_url(u, at, status) if isinstance(u, str) else u
                                                      for u in response.images]})
    if isinstance(getattr(response, "video", None), str):
        return response.model_copy(update={"video": expiring_url(response.video, at, status)})
    return response
