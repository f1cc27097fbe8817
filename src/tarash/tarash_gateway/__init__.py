"""tarash-gateway: one API for AI video and image generation, with record, replay, mock and fallback.

```python
from tarash.tarash_gateway import generate_video
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
from tarash.tarash_gateway.mock import MockConfig

config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1/fast", mock=MockConfig(enabled=True))
response = generate_video(config, VideoGenerationRequest(prompt="A cat playing piano"))
```

Importing the package imports nothing of its own: each public name loads its module on
first use (PEP 562), so `import tarash.tarash_gateway.pytest_plugin` or a mock-only
process pays only for what it touches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_names

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, __getattr__ below
    from .api import generate_image, generate_image_async, generate_video, generate_video_async
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

    __version__: str

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

# Which module holds each public name. Keep in step with the TYPE_CHECKING block and
# __all__ (tests/test_public_names.py checks all three agree).
_LAZY = {
    "AspectRatio": ".media",
    "BatchItem": ".batch",
    "BatchResponse": ".batch",
    "BudgetExceededError": ".exceptions",
    "ContentModerationError": ".exceptions",
    "GenerationFailedError": ".exceptions",
    "HTTPConnectionError": ".exceptions",
    "HTTPError": ".exceptions",
    "ImageGenerationConfig": ".models",
    "ImageGenerationRequest": ".models",
    "ImageGenerationResponse": ".models",
    "ImageType": ".media",
    "InstantClock": ".clock",
    "Layer": ".layers",
    "RateLimitError": ".exceptions",
    "Resolution": ".media",
    "Retry": ".retry",
    "TarashException": ".exceptions",
    "TimeoutError": ".exceptions",
    "UnsupportedRequestError": ".exceptions",
    "ValidationError": ".exceptions",
    "VideoGenerationConfig": ".models",
    "VideoGenerationRequest": ".models",
    "VideoGenerationResponse": ".models",
    "VideoGenerationUpdate": ".models",
    "add_middleware": ".layers",
    "clear_middleware": ".layers",
    "generate_image": ".api",
    "generate_image_async": ".api",
    "generate_images": ".batch",
    "generate_images_async": ".batch",
    "generate_video": ".api",
    "generate_video_async": ".api",
    "generate_videos": ".batch",
    "generate_videos_async": ".batch",
    "instant_waits": ".clock",
    "register_provider": ".registry",
    "set_global_seed": ".mock.chaos",
    "unregister_provider": ".registry",
    "use_cassette": ".cassettes",
    "use_clock": ".clock",
    "use_middleware": ".layers",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tarash-gateway")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


__getattr__, __dir__ = lazy_names(__name__, _LAZY, {"__version__": _version})
