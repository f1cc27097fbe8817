"""Media inputs (URL, data URI, raw base64, bytes) turned into what a provider accepts.

``wire_url`` is pure. ``wire_bytes`` may download, so it is a flow: the download runs
inline on the sync face and in a worker thread on the async one, never blocking the
event loop.
"""

from __future__ import annotations

import base64
import binascii

from ..exceptions import ValidationError
from ..flow import Blocking, Flow
from ..media import MediaType
from ..media_io import load_media, to_data_uri

__all__ = ["wire_bytes", "wire_url"]


def wire_url(media: MediaType, default_type: str = "image/png") -> str:
    """An ``http(s)``/``file``/``data:`` URL for ``media``; bytes and raw base64 become data URIs."""
    if isinstance(media, dict):
        return to_data_uri(media["content"], media.get("content_type") or default_type)
    text = str(media)
    if text.startswith(("http://", "https://", "data:", "file:", "gs://")):
        return text
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"media input {text[:60]!r} is not a URL, data URI or base64") from None
    return f"data:{default_type};base64,{text}"


def wire_bytes(media: MediaType, default_type: str = "image/png") -> Flow[tuple[bytes, str]]:
    """The bytes and content type of ``media`` (downloading a URL when needed)."""
    if isinstance(media, dict):
        return media["content"], media.get("content_type") or default_type
    return (yield Blocking(load_media, (str(media), default_type)))
