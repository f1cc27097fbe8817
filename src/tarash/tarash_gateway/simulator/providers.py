"""The simulated providers, one module each; each class's `name` is its path prefix."""

from __future__ import annotations

from .base import SimulatedProvider
from .fal import FalSimulator
from .google import GoogleSimulator
from .openai import OpenAISimulator
from .replicate import ReplicateSimulator
from .runway import RunwaySimulator
from .stability import StabilitySimulator
from .xai import XAISimulator

__all__ = ["all_providers"]

_ALL: tuple[type[SimulatedProvider], ...] = (
    FalSimulator,
    ReplicateSimulator,
    OpenAISimulator,
    GoogleSimulator,
    RunwaySimulator,
    StabilitySimulator,
    XAISimulator,
)


def all_providers() -> list[type[SimulatedProvider]]:
    """Every simulated provider class, in mount order."""
    return list(_ALL)
