"""The mock provider: stock media, weighted outcomes, injected errors, latency and polling.

`from tarash.tarash_gateway.mock import MockConfig, MockResponse, MockPollingConfig`
"""

from .config import Latency, MockConfig, MockPollingConfig, MockResponse

__all__ = ["Latency", "MockConfig", "MockPollingConfig", "MockResponse"]
