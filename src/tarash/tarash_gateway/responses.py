"""Responses and progress updates for video and image generation (upstream's fields)."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from .media import MediaType, StatusType
from .metadata import ExecutionMetadataField, OriginField

__all__ = [
    "ImageGenerationResponse",
    "ImageGenerationUpdate",
    "VideoGenerationResponse",
    "VideoGenerationUpdate",
    "with_fields",
]

# Bytes travel as base64 in JSON, so responses holding media content serialize and load back.
# The responses are built at import: every config's mock schema holds them, and a schema
# built once is reused by every model that holds it (a deferred one is generated again
# inside each). Progress updates are needed only by callers that listen: built on first use.
_BYTES_AS_BASE64 = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")
_UPDATE = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64", defer_build=True)


class VideoGenerationResponse(BaseModel):
    """A finished video generation.

    `video` is a URL (`https://`, `file://`) or `{"content": bytes, "content_type": ...}`.
    `origin` says where it came from (provider, stock, mock, replay).
    """

    model_config = _BYTES_AS_BASE64

    request_id: str
    """The provider's id of the job (or the mock's, or the recording's)."""
    video: MediaType
    """The video: a URL (`https://`, `file://`) or `{"content": bytes, "content_type": ...}`."""
    content_type: str | None = None
    """MIME type of the video, when known (`video/mp4`)."""
    audio_url: str | None = None
    """A separate soundtrack, for providers that return one."""
    duration: float | None = None
    """Length of the video in seconds, when the provider says."""
    resolution: str | None = None
    """Resolution of the video, when the provider says."""
    aspect_ratio: str | None = None
    """Aspect ratio of the video, when the provider says."""
    status: Literal["completed", "failed"] = "completed"
    """`completed` on every response the gateway returns (a failure raises instead); `failed` is kept from upstream's type."""
    is_mock: bool = False
    """True when no provider made this video (stock, mock outcome)."""
    raw_response: dict[str, Any] = Field(default_factory=dict)
    """The provider's final answer, as received (secrets scrubbed in recordings)."""
    execution_metadata: ExecutionMetadataField | None = None
    """Every attempt of the fallback chain that led to this response."""
    origin: OriginField | None = None
    """Where the video came from: provider, stock, mock or replay."""


class ImageGenerationResponse(BaseModel):
    """A finished image generation; `images` are URLs or data URIs."""

    model_config = _BYTES_AS_BASE64

    request_id: str
    """The provider's id of the job (or the mock's, or the recording's)."""
    images: list[str]
    """The images, as URLs or data URIs."""
    content_type: str | None = "image/png"
    """MIME type of the images."""
    status: Literal["completed", "failed"] = "completed"
    """`completed` on every response the gateway returns (a failure raises instead); `failed` is kept from upstream's type."""
    is_mock: bool = False
    """True when no provider made these images (stock, mock outcome)."""
    revised_prompt: str | None = None
    """The prompt as the provider rewrote it, when it gives it back."""
    raw_response: dict[str, Any] = Field(default_factory=dict)
    """The provider's final answer, as received (secrets scrubbed in recordings)."""
    execution_metadata: ExecutionMetadataField | None = None
    """Every attempt of the fallback chain that led to this response."""
    origin: OriginField | None = None
    """Where the images came from: provider, stock, mock or replay."""


class VideoGenerationUpdate(BaseModel):
    """One progress event. `attempt` is the 1-based position in the fallback chain."""

    model_config = _UPDATE

    request_id: str
    """The job this update is about."""
    status: StatusType
    """`queued`, `processing`, `completed` or `failed`."""
    progress_percent: int | None = Field(default=None, ge=0, le=100)
    """0 to 100, where the provider gives a percentage."""
    update: dict[str, Any] = Field(default_factory=dict)
    """Provider-specific details (queue position, logs, ...)."""
    result: VideoGenerationResponse | None = None
    """The finished response, on the `completed` update."""
    error: str | None = None
    """The error message, on a `failed` update."""
    attempt: int | None = None
    """1-based position of the config in the fallback chain."""


class ImageGenerationUpdate(BaseModel):
    """One progress event of an image generation."""

    model_config = _UPDATE

    request_id: str
    """The job this update is about."""
    status: StatusType
    """`queued`, `processing`, `completed` or `failed`."""
    progress_percent: int | None = Field(default=None, ge=0, le=100)
    """0 to 100, where the provider gives a percentage."""
    update: dict[str, Any] = Field(default_factory=dict)
    """Provider-specific details (queue position, logs, ...)."""
    result: ImageGenerationResponse | None = None
    """The finished response, on the `completed` update."""
    error: str | None = None
    """The error message, on a `failed` update."""
    attempt: int | None = None
    """1-based position of the config in the fallback chain."""


_Model = TypeVar("_Model", bound=BaseModel)
_set = object.__setattr__


def with_fields(model: _Model, **changes: Any) -> _Model:
    """A copy of `model` with `changes` set, unvalidated, as `model.model_copy(update=changes)`.

    The gateway derives a response or two on every call (its metadata, its request id and
    origin): this skips the generic copying of `model_copy` (private and extra values,
    which responses have none of, are carried over as they are).

    Examples:
        >>> with_fields(VideoGenerationResponse(request_id="a", video="v"), request_id="b").request_id
        'b'
    """
    cls = type(model)
    copied = cls.__new__(cls)
    values = model.__dict__.copy()
    values.update(changes)
    _set(copied, "__dict__", values)
    _set(copied, "__pydantic_fields_set__", model.__pydantic_fields_set__.union(changes))
    _set(copied, "__pydantic_extra__", model.__pydantic_extra__)
    _set(copied, "__pydantic_private__", model.__pydantic_private__)
    return copied
