"""The mock provider: stock media, weighted and scheduled outcomes, phase faults, capacity, latency and polling.

`from tarash.tarash_gateway.mock import MockConfig, MockResponse, MockPollingConfig`
"""

from .config import Latency, MockConfig, MockPollingConfig, MockResponse, Outage, Schedule

__all__ = ["Latency", "MockConfig", "MockPollingConfig", "MockResponse", "Outage", "Schedule"]
