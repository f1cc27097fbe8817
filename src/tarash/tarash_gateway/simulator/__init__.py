"""The loopback provider simulator: `ProviderSimulator`, `Scenario`, `NAMED`, `Capacity`, TLS and SDK environments."""

from .capacity import Capacity
from .scenario import NAMED, Scenario
from .sdk_env import sdk_environment
from .server import ProviderSimulator
from .tls import SimulatorTLS

__all__ = ["Capacity", "NAMED", "ProviderSimulator", "Scenario", "SimulatorTLS", "sdk_environment"]
