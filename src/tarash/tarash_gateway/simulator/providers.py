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
    found = []
    for module_name, attribute in _MODULES.items():
        try:
            module = importlib.import_module(module_name, __package__)
        except ModuleNotFoundError as error:
            if error.name != f"{__package__}{module_name}":
                raise
            continue  # a provider not simulated (yet)
        found.append(getattr(module, attribute))
    return found
