"""Media inputs (URL, data URI, raw base64, bytes) turned into what a provider accepts.

`wire_url` is pure. `wire_bytes` may download, so it is a flow: the download runs
inline on the sync face and in a worker thread on the async one, never blocking the
event loop.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..exceptions import ValidationError
from ..flow import Blocking, Flow
from ..media import MediaType
from ..media_io import load_media, to_data_uri

__all__ = ["inline_local_files", "wire_bytes", "wire_url"]


def wire_url(media: MediaType, default_type: str = "image/png") -> str:
    """An `http(s)`/`file`/`data:` URL for `media`; bytes and raw base64 become data URIs."""
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
    """The bytes and content type of `media` (downloading a URL when needed)."""
    if isinstance(media, dict):
        return media["content"], media.get("content_type") or default_type
    return (yield Blocking(load_media, (str(media), default_type)))


def inline_local_files(request: Any) -> Flow[Any]:
    """`request` with its `file://` media inputs read into data URIs.

    For providers that take URLs or data URIs (fal, Replicate): a local path means
    nothing to them. Other inputs are left as they are. A flow, so reading a file runs
    in a worker thread on the async face.
    """

    def local(media: Any) -> bool:
        return isinstance(media, str) and media.startswith("file:")

    def inlined(media: Any, default_type: str) -> Flow[Any]:
        if not local(media):
            return media
        data, content_type = yield from wire_bytes(media, default_type)
        return to_data_uri(data, content_type)

    changes: dict[str, Any] = {}
    images = getattr(request, "image_list", None) or []
    if any(local(item.get("image")) for item in images):
        converted = []
        for item in images:
            converted.append({**item, "image": (yield from inlined(item.get("image"), "image/png"))})
        changes["image_list"] = converted
    for name, default_type in (("video", "video/mp4"), ("mask_image", "image/png")):
        media = getattr(request, name, None)
        if local(media):
            changes[name] = yield from inlined(media, default_type)
    return request.model_copy(update=changes) if changes else request
