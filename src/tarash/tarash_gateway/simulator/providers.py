"""The simulated providers, one module each, imported when a simulator starts."""

from __future__ import annotations

import importlib

from .server import SimulatedProvider

__all__ = ["all_providers"]

#: module -> class; each class's ``name`` is its path prefix on the simulator.
_MODULES = {
    ".fal": "FalSimulator",
    ".replicate": "ReplicateSimulator",
    ".openai": "OpenAISimulator",
    ".google": "GoogleSimulator",
    ".runway": "RunwaySimulator",
    ".stability": "StabilitySimulator",
    ".xai": "XAISimulator",
}


def all_providers() -> list[type[SimulatedProvider]]:
    return [getattr(importlib.import_module(name, __package__), attribute) for name, attribute in _MODULES.items()]
