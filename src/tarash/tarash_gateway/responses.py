"""Responses and progress updates for video and image generation (upstream's fields)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .media import MediaType, StatusType
from .metadata import ExecutionMetadata, Origin

__all__ = [
    "ImageGenerationResponse",
    "ImageGenerationUpdate",
    "VideoGenerationResponse",
    "VideoGenerationUpdate",
]

# Bytes travel as base64 in JSON, so responses holding media content serialize and load back.
_BYTES_AS_BASE64 = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")


class VideoGenerationResponse(BaseModel):
    """A finished video generation.

    ``video`` is a URL (``https://``, ``file://``) or ``{"content": bytes, "content_type": ...}``.
    ``origin`` says where it came from (provider, stock, mock, replay).
    """

    model_config = _BYTES_AS_BASE64

    request_id: str
    video: MediaType
    content_type: str | None = None
    audio_url: str | None = None
    duration: float | None = None
    resolution: str | None = None
    aspect_ratio: str | None = None
    status: Literal["completed", "failed"] = "completed"
    is_mock: bool = False
    raw_response: dict[str, Any] = Field(default_factory=dict)
    execution_metadata: ExecutionMetadata | None = None
    origin: Origin | None = None


class ImageGenerationResponse(BaseModel):
    """A finished image generation; ``images`` are URLs or data URIs."""

    model_config = _BYTES_AS_BASE64

    request_id: str
    images: list[str]
    content_type: str | None = "image/png"
    status: Literal["completed", "failed"] = "completed"
    is_mock: bool = False
    revised_prompt: str | None = None
    raw_response: dict[str, Any] = Field(default_factory=dict)
    execution_metadata: ExecutionMetadata | None = None
    origin: Origin | None = None


class VideoGenerationUpdate(BaseModel):
    """One progress event. ``attempt`` is the 1-based position in the fallback chain."""

    model_config = _BYTES_AS_BASE64

    request_id: str
    status: StatusType
    progress_percent: int | None = Field(default=None, ge=0, le=100)
    update: dict[str, Any] = Field(default_factory=dict)
    result: VideoGenerationResponse | None = None
    error: str | None = None
    attempt: int | None = None


class ImageGenerationUpdate(BaseModel):
    """One progress event of an image generation."""

    model_config = _BYTES_AS_BASE64

    request_id: str
    status: StatusType
    progress_percent: int | None = Field(default=None, ge=0, le=100)
    update: dict[str, Any] = Field(default_factory=dict)
    result: ImageGenerationResponse | None = None
    error: str | None = None
    attempt: int | None = None
