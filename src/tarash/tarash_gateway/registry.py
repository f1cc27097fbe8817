"""Provider handlers registered by users, in upstream's shape.

A handler has any of `generate_video`, `generate_video_async`, `generate_image` and
`generate_image_async`, each `(config, request, on_progress=None)`. Registered
handlers win over the built-in providers of the same name.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol, runtime_checkable

__all__ = ["ProviderHandler", "get_handler", "register_provider", "registered_providers", "unregister_provider"]


@runtime_checkable
class ProviderHandler(Protocol):
    """Upstream's handler shape; a handler may implement only some of the four methods."""

    def generate_video(self, config: Any, request: Any, on_progress: Any = None) -> Any: ...


_handlers: dict[str, Any] = {}
_lock = threading.Lock()
_METHODS = ("generate_video", "generate_video_async", "generate_image", "generate_image_async")


def register_provider(provider: str, handler: Any) -> None:
    """Serve `config.provider == provider` with `handler` (replaces an earlier one)."""
    if not isinstance(provider, str) or not provider:
        raise TypeError("register_provider needs a provider name, e.g. register_provider('acme', AcmeHandler())")
    if not any(callable(getattr(handler, m, None)) for m in _METHODS):
        raise TypeError(f"a provider handler needs at least one of {', '.join(_METHODS)}")
    with _lock:
        _handlers[provider] = handler


def unregister_provider(provider: str) -> None:
    """Forget a registered handler (built-in providers of that name come back)."""
    with _lock:
        _handlers.pop(provider, None)


def get_handler(provider: str) -> Any | None:
    return _handlers.get(provider)


def registered_providers() -> list[str]:
    return sorted(_handlers)
