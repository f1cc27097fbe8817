"""The SDKs' async faces (fal-client, replicate) against the simulator, concurrently in one event loop."""

from __future__ import annotations

from tarash.tarash_gateway.simulator import sdk_environment

from .conftest import SECRET
from .harness import stock_digest


def test_async_fal_and_replicate_calls_run_concurrently_against_the_simulator(fresh_sim, run_app):
    env = {**sdk_environment(fresh_sim, "fal-client", api_key=SECRET),
           **sdk_environment(fresh_sim, "replicate", api_key=SECRET), "REPLICATE_POLL_INTERVAL": "0.05"}
    out = run_app("async_app.py", env).output
    for item in (out["fal"], out["replicate"]):
        assert item["url"].startswith(f"{fresh_sim.tls_url}/media/images/")
        assert {k: item[k] for k in ("size", "sha256")} == stock_digest(item["url"])
    assert {name for name, _ in fresh_sim.received} == {"fal", "replicate"}
