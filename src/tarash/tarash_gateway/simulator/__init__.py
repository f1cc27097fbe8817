"""The loopback provider simulator: `ProviderSimulator`, `Scenario`, `NAMED`."""

from .scenario import NAMED, Scenario
from .server import ProviderSimulator

__all__ = ["NAMED", "ProviderSimulator", "Scenario"]
