"""A simulator with its TLS listener for the module, and clients that trust it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from tarash.tarash_gateway.simulator import ProviderSimulator, Scenario


@pytest.fixture(scope="module")
def sim() -> Iterator[ProviderSimulator]:
    """A simulator listening on plain HTTP and TLS (a generated test CA), instant jobs by default."""
    with ProviderSimulator(Scenario(queue_polls=1, run_polls=2), tls=True, max_lifetime=300) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def http(sim: ProviderSimulator) -> Iterator[httpx.Client]:
    """A client that trusts the simulator's test CA (and only it)."""
    assert sim.ca_file is not None
    with httpx.Client(verify=ssl.create_default_context(cafile=str(sim.ca_file)), timeout=10) as client:
        yield client
