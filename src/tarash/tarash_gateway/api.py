"""The public calls: `generate_video`, `generate_image` and their async twins."""

from __future__ import annotations

from typing import Any

import pydantic

from .call import Call, Kind
from .exceptions import ValidationError
from .models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    ImageGenerationResponse,
    ImageProgressCallback,
    ProgressCallback,
    VideoGenerationConfig,
    VideoGenerationRequest,
    VideoGenerationResponse,
)
from .stack import GATEWAY

__all__ = ["generate_image", "generate_image_async", "generate_video", "generate_video_async"]

_TYPES: dict[Kind, tuple[type[pydantic.BaseModel], type[pydantic.BaseModel]]] = {
    "video": (VideoGenerationConfig, VideoGenerationRequest),
    "image": (ImageGenerationConfig, ImageGenerationRequest),
}


def _call(kind: Kind, config: Any, request: Any, on_progress: Any) -> Call:
    config_type, request_type = _TYPES[kind]
    if not isinstance(config, config_type):  # the common case (the types given) without a call
        config = _coerce(config, config_type, "config")
    if not isinstance(request, request_type):
        request = _coerce(request, request_type, "request")
    if on_progress is not None and not callable(on_progress):
        raise ValidationError(f"on_progress must be callable, got {type(on_progress).__name__}")
    return Call(kind, config, request, on_progress)  # positional: keywords cost as much again


def _coerce(value: Any, cls: type[pydantic.BaseModel], what: str) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, dict):
        try:
            return cls.model_validate(value)
        except pydantic.ValidationError as error:
            raise ValidationError(f"invalid {what}: {error}") from None
    raise ValidationError(f"{what} must be a {cls.__name__} (or a dict of its fields), got {type(value).__name__}")


def generate_video(
    config: VideoGenerationConfig,
    request: VideoGenerationRequest,
    on_progress: ProgressCallback | None = None,
) -> VideoGenerationResponse:
    """Generate a video through the stack (fallback, middleware, record, mock or provider).

    Examples:
        >>> config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", mock=MockConfig())
        >>> generate_video(config, VideoGenerationRequest(prompt="a cat")).is_mock
        True
    """
    return GATEWAY.handle(_call("video", config, request, on_progress))


async def generate_video_async(
    config: VideoGenerationConfig,
    request: VideoGenerationRequest,
    on_progress: ProgressCallback | None = None,
) -> VideoGenerationResponse:
    """The async face of `generate_video`; async progress callbacks are awaited."""
    return await GATEWAY.ahandle(_call("video", config, request, on_progress))


def generate_image(
    config: ImageGenerationConfig,
    request: ImageGenerationRequest,
    on_progress: ImageProgressCallback | None = None,
) -> ImageGenerationResponse:
    """Generate images through the stack; see `generate_video`."""
    return GATEWAY.handle(_call("image", config, request, on_progress))


async def generate_image_async(
    config: ImageGenerationConfig,
    request: ImageGenerationRequest,
    on_progress: ImageProgressCallback | None = None,
) -> ImageGenerationResponse:
    """The async face of `generate_image`."""
    return await GATEWAY.ahandle(_call("image", config, request, on_progress))
