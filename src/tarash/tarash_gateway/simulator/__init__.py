"""The loopback provider simulator: `ProviderSimulator`, `Scenario`, `NAMED`, TLS and SDK environments."""

from .scenario import NAMED, Scenario
from .sdk_env import sdk_environment
from .server import ProviderSimulator
from .tls import SimulatorTLS

__all__ = ["NAMED", "ProviderSimulator", "Scenario", "SimulatorTLS", "sdk_environment"]
