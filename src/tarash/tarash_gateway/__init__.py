"""tarash-gateway: one API for AI video and image generation, with record, replay, mock and fallback.

```python
from tarash.tarash_gateway import generate_video
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
from tarash.tarash_gateway.mock import MockConfig

config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", mock=MockConfig(enabled=True))
response = generate_video(config, VideoGenerationRequest(prompt="A cat playing piano"))
```
"""

from importlib.metadata import PackageNotFoundError, version

from .api import (
    generate_image,
    generate_image_async,
    generate_video,
    generate_video_async,
)
from .batch import (
    BatchItem,
    BatchResponse,
    generate_images,
    generate_images_async,
    generate_videos,
    generate_videos_async,
)
from .cassettes import use_cassette
from .clock import InstantClock, instant_waits, use_clock
from .exceptions import (
    BudgetExceededError,
    ContentModerationError,
    GenerationFailedError,
    HTTPConnectionError,
    HTTPError,
    RateLimitError,
    TarashException,
    TimeoutError,
    UnsupportedRequestError,
    ValidationError,
)
from .layers import Layer, add_middleware, clear_middleware, use_middleware
from .media import AspectRatio, ImageType, Resolution
from .mock.chaos import set_global_seed
from .models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    ImageGenerationResponse,
    VideoGenerationConfig,
    VideoGenerationRequest,
    VideoGenerationResponse,
    VideoGenerationUpdate,
)
from .registry import register_provider, unregister_provider
from .retry import Retry

try:
    __version__ = version("tarash-gateway")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "AspectRatio",
    "BatchItem",
    "BatchResponse",
    "BudgetExceededError",
    "ContentModerationError",
    "GenerationFailedError",
    "HTTPConnectionError",
    "HTTPError",
    "ImageGenerationConfig",
    "ImageGenerationRequest",
    "ImageGenerationResponse",
    "ImageType",
    "InstantClock",
    "Layer",
    "RateLimitError",
    "Resolution",
    "Retry",
    "TarashException",
    "TimeoutError",
    "UnsupportedRequestError",
    "ValidationError",
    "VideoGenerationConfig",
    "VideoGenerationRequest",
    "VideoGenerationResponse",
    "VideoGenerationUpdate",
    "__version__",
    "add_middleware",
    "clear_middleware",
    "generate_image",
    "generate_image_async",
    "generate_images",
    "generate_images_async",
    "generate_video",
    "generate_video_async",
    "generate_videos",
    "generate_videos_async",
    "instant_waits",
    "register_provider",
    "set_global_seed",
    "unregister_provider",
    "use_cassette",
    "use_clock",
    "use_middleware",
]
