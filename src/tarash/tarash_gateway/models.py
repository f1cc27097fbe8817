"""Configs, requests and responses: upstream tarash-gateway's fields, usable with no tricks.

Configs construct with no extra imports, load from plain dicts (mock settings included),
and round-trip through JSON:

```python
config = VideoGenerationConfig.model_validate_json(config.model_dump_json())
```
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
from .retry import Retry

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
    """Unknown keyword arguments land in `extra_params` instead of being lost."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64", validate_assignment=True, defer_build=True)

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
    """What to generate. Example: `VideoGenerationRequest(prompt="a cat", aspect_ratio="9:16")`."""

    prompt: str
    """What the video shows, in the provider's own words."""
    duration_seconds: int | None = Field(default=None, gt=0)
    """Length of the video in seconds; each model takes its own set of values."""
    resolution: Resolution | None = None
    """Output resolution, `360p` to `4k`, where the model takes one."""
    aspect_ratio: AspectRatio | None = None
    """Frame shape: `16:9`, `9:16`, `1:1`, `4:3` or `21:9`."""
    generate_audio: bool | None = None
    """Ask for a soundtrack, on models that can make one."""
    # pydantic copies the default for each request; default_factory=list would make it read the
    # builtin's signature, which loads the tokenizer (a few ms of every cold start)
    image_list: list[ImageType] = []
    """Input images, each with its role (`first_frame`, `last_frame`, `reference`, `asset`, `style`)."""
    video: MediaType | None = None
    """An input video (URL, data URI, base64 or bytes) for video-to-video models."""
    seed: int | None = None
    """Seed of the provider's own sampler, where the model takes one."""
    number_of_videos: int = Field(default=1, ge=1)
    """How many videos to generate in one job."""
    negative_prompt: str | None = None
    """What the video should not show."""
    enhance_prompt: bool | None = None
    """Let the provider rewrite the prompt, where the model offers it."""
    extra_params: dict[str, Any] = Field(default_factory=dict)
    """Model parameters sent as given, on top of the mapped fields; unknown keyword arguments land here."""


class ImageGenerationRequest(_Request):
    """What image to generate. `size` is `"WIDTHxHEIGHT"`; `aspect_ratio` takes any `W:H`."""

    prompt: str
    """What the image shows."""
    negative_prompt: str | None = None
    """What the image should not show."""
    size: str | None = Field(default=None, pattern=r"^\d+x\d+$")
    """Output size as `WIDTHxHEIGHT` (`1024x1024`)."""
    quality: str | None = None
    """Quality tier, in the provider's vocabulary (`high`, `hd`, ...)."""
    style: str | None = None
    """Style preset, in the provider's vocabulary (`vivid`, `natural`, ...)."""
    n: int | None = Field(default=None, ge=1)
    """How many images to generate."""
    image_list: list[ImageType] = []  # copied for each request, as above
    """Input images for editing or reference, each with its role."""
    mask_image: MediaType | None = None
    """Mask of the area to repaint, for inpainting models."""
    seed: int | None = None
    """Seed of the provider's own sampler, where the model takes one."""
    aspect_ratio: str | None = Field(default=None, pattern=r"^\d+:\d+$")
    """Frame shape as `W:H`, any ratio the model takes."""
    extra_params: dict[str, Any] = Field(default_factory=dict)
    """Model parameters sent as given, on top of the mapped fields; unknown keyword arguments land here."""


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    model: str
    """The provider's model id (`fal-ai/veo3.1/fast`, `sora-2`, ...)."""
    provider: str
    """Which provider serves the call: `fal`, `replicate`, `openai`, `azure_openai`, `google`, `runway`, `stability`, `xai`, or a registered one."""
    api_key: str | None = Field(default=None, repr=False)
    """The provider's key; when left out, the provider's usual environment variable is read. Never printed in a repr."""
    base_url: str | None = None
    """Replaces the provider's API host: the simulator, a proxy, an Azure endpoint."""
    api_version: str | None = None
    """API version, for providers that take one (Azure OpenAI)."""
    mock: MockConfig | None = None
    """Serve this config's calls from the mock layer instead of the provider."""
    cassette: CassetteField | None = None
    """Record and replay this config's calls: a `CassetteConfig` or a cassette path."""
    provider_config: dict[str, Any] = Field(default_factory=dict, repr=False)
    """Provider-specific settings (`strict_fields`, Vertex `project`/`location`, ...). Never printed in a repr."""
    retry: Retry | None = None
    """Try this config again on transient failures before falling back (see `retry`)."""
    budget_usd: float | None = Field(default=None, ge=0)
    """Refuse real calls of this config once the estimated spending would pass it (see `budget`)."""


class VideoGenerationConfig(_Config):
    """Which provider and model to call, how long to wait, and what to fall back to.

    `timeout` is the overall deadline of one generation, in seconds (fractions allowed);
    `poll_interval` is the wait between status polls.

    Examples:
        >>> VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", mock=MockConfig(enabled=True))
        VideoGenerationConfig(model='fal-ai/veo3.1/fast', provider='fal', ...)
    """

    timeout: float = Field(default=600, gt=0)
    """The overall deadline of one generation, in seconds (fractions allowed)."""
    max_poll_attempts: int = Field(default=120, ge=1)
    """At most this many status polls per generation."""
    poll_interval: float = Field(default=5, gt=0)
    """Seconds between status polls (fractions allowed)."""
    fallback_configs: list[VideoGenerationConfig] | None = None
    """Configs tried in order, depth first, when this one fails with a retryable error."""


class ImageGenerationConfig(_Config):
    """Image twin of `VideoGenerationConfig`, with shorter default waits."""

    timeout: float = Field(default=120, gt=0)
    """The overall deadline of one generation, in seconds (fractions allowed)."""
    max_poll_attempts: int = Field(default=60, ge=1)
    """At most this many status polls per generation."""
    poll_interval: float = Field(default=2, gt=0)
    """Seconds between status polls (fractions allowed)."""
    fallback_configs: list[ImageGenerationConfig] | None = None
    """Configs tried in order, depth first, when this one fails with a retryable error."""


AnyConfig = VideoGenerationConfig | ImageGenerationConfig
AnyRequest = VideoGenerationRequest | ImageGenerationRequest
AnyResponse = VideoGenerationResponse | ImageGenerationResponse
