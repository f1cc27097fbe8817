"""Media value types shared by requests and responses (upstream's names)."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

__all__ = [
    "AspectRatio",
    "Base64",
    "ImageType",
    "MediaContent",
    "MediaType",
    "Resolution",
    "StatusType",
]

Resolution = Literal["360p", "480p", "720p", "1080p", "4k"]
AspectRatio = Literal["16:9", "9:16", "1:1", "4:3", "21:9"]
StatusType = Literal["queued", "processing", "completed", "failed"]
Base64 = str


class MediaContent(TypedDict):
    """Media given or returned as bytes."""

    content: bytes
    content_type: str


#: A URL (http(s), file, data URI), raw base64, or bytes with their content type.
MediaType = str | MediaContent


class ImageType(TypedDict):
    """An input image and the role it plays (first frame, reference, ...)."""

    image: MediaType
    type: Literal["reference", "first_frame", "last_frame", "asset", "style"]
