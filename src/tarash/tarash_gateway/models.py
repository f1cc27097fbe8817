"""Configs, requests and responses: upstream tarash-gateway's fields, usable with no tricks.

Configs construct with no extra imports, load from plain dicts (mock settings included),
and round-trip through JSON::

    config = VideoGenerationConfig.model_validate_json(config.model_dump_json())
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .cassettes.config import CassetteField
from .media import (
    AspectRatio,
    ImageType,
    MediaContent,
    MediaType,
    Resolution,
    StatusType,
)
from .metadata import AttemptMetadata, ExecutionMetadata, Origin
from .mock.config import MockConfig
from .responses import (
    ImageGenerationResponse,
    ImageGenerationUpdate,
    VideoGenerationResponse,
    VideoGenerationUpdate,
)

__all__ = [
    "AnyConfig",
    "AnyRequest",
    "AnyResponse",
    "AspectRatio",
    "AttemptMetadata",
    "ExecutionMetadata",
    "ImageGenerationConfig",
    "ImageGenerationRequest",
    "ImageGenerationResponse",
    "ImageGenerationUpdate",
    "ImageProgressCallback",
    "ImageType",
    "MediaContent",
    "MediaType",
    "Origin",
    "ProgressCallback",
    "Resolution",
    "StatusType",
    "VideoGenerationConfig",
    "VideoGenerationRequest",
    "VideoGenerationResponse",
    "VideoGenerationUpdate",
]

ProgressCallback = Callable[[VideoGenerationUpdate], Union[None, Awaitable[None]]]
ImageProgressCallback = Callable[[ImageGenerationUpdate], Union[None, Awaitable[None]]]


class _Request(BaseModel):
    """Unknown keyword arguments land in ``extra_params`` instead of being lost."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64", validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _collect_extra(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = set(cls.model_fields)
        unknown = {k: v for k, v in data.items() if k not in known}
        if not unknown:
            return data
        kept = {k: v for k, v in data.items() if k in known}
        kept["extra_params"] = {**unknown, **dict(kept.get("extra_params") or {})}
        return kept


class VideoGenerationRequest(_Request):
    """What to generate. Example: ``VideoGenerationRequest(prompt="a cat", aspect_ratio="9:16")``."""

    prompt: str
    duration_seconds: int | None = Field(default=None, gt=0)
    resolution: Resolution | None = None
    aspect_ratio: AspectRatio | None = None
    generate_audio: bool | None = None
    image_list: list[ImageType] = Field(default_factory=list)
    video: MediaType | None = None
    seed: int | None = None
    number_of_videos: int = Field(default=1, ge=1)
    negative_prompt: str | None = None
    enhance_prompt: bool | None = None
    extra_params: dict[str, Any] = Field(default_factory=dict)


class ImageGenerationRequest(_Request):
    """What image to generate. ``size`` is ``"WIDTHxHEIGHT"``; ``aspect_ratio`` takes any ``W:H``."""

    prompt: str
    negative_prompt: str | None = None
    size: str | None = Field(default=None, pattern=r"^\d+x\d+$")
    quality: str | None = None
    style: str | None = None
    n: int | None = Field(default=None, ge=1)
    image_list: list[ImageType] = Field(default_factory=list)
    mask_image: MediaType | None = None
    seed: int | None = None
    aspect_ratio: str | None = Field(default=None, pattern=r"^\d+:\d+$")
    extra_params: dict[str, Any] = Field(default_factory=dict)


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    provider: str
    api_key: str | None = Field(default=None, repr=False)
    base_url: str | None = None
    api_version: str | None = None
    mock: MockConfig | None = None
    #: Record and replay this config's calls: a ``CassetteConfig`` or a cassette path.
    cassette: CassetteField | None = None
    provider_config: dict[str, Any] = Field(default_factory=dict, repr=False)


class VideoGenerationConfig(_Config):
    """Which provider and model to call, how long to wait, and what to fall back to.

    ``timeout`` is the overall deadline of one generation, in seconds (fractions allowed);
    ``poll_interval`` is the wait between status polls.

    Example:
        >>> VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", mock=MockConfig(enabled=True))
        VideoGenerationConfig(model='fal-ai/veo3.1/fast', provider='fal', ...)
    """

    timeout: float = Field(default=600, gt=0)
    max_poll_attempts: int = Field(default=120, ge=1)
    poll_interval: float = Field(default=5, gt=0)
    fallback_configs: list[VideoGenerationConfig] | None = None


class ImageGenerationConfig(_Config):
    """Image twin of :class:`VideoGenerationConfig`, with shorter default waits."""

    timeout: float = Field(default=120, gt=0)
    max_poll_attempts: int = Field(default=60, ge=1)
    poll_interval: float = Field(default=2, gt=0)
    fallback_configs: list[ImageGenerationConfig] | None = None


AnyConfig = VideoGenerationConfig | ImageGenerationConfig
AnyRequest = VideoGenerationRequest | ImageGenerationRequest
AnyResponse = VideoGenerationResponse | ImageGenerationResponse
