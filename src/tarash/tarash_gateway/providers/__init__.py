"""Built-in providers over httpx.

`get_provider(name)` returns the adapter serving a provider name, or `None`. An
adapter offers `handle(call)` and `ahandle(call)` like a layer.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["builtin_providers", "get_provider"]

#: provider name -> "module:attribute" of its adapter, imported on first use.
_BUILTIN: dict[str, str] = {
    "fal": ".fal:ADAPTER",
    "replicate": ".replicate:ADAPTER",
    "openai": ".openai:ADAPTER",
    "azure_openai": ".openai:AZURE_ADAPTER",
    "google": ".google:ADAPTER",
    "runway": ".runway:ADAPTER",
    "stability": ".stability:ADAPTER",
    "xai": ".xai:ADAPTER",
}
_loaded: dict[str, Any] = {}


def builtin_providers() -> list[str]:
    return sorted(_BUILTIN)


def get_provider(name: str) -> Any | None:
    adapter = _loaded.get(name)
    if adapter is None and name in _BUILTIN:
        module_name, _, attribute = _BUILTIN[name].partition(":")
        module = importlib.import_module(module_name, __name__)
        adapter = _loaded[name] = getattr(module, attribute)
    return adapter
