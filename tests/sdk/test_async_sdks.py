"""The SDKs' async faces (fal-client, replicate) against the simulator, concurrently in one event loop; replayed offline."""

from __future__ import annotations

from tarash.tarash_gateway.simulator import sdk_environment

from .conftest import SECRET
from .harness import replay_offline, stock_digest


def test_async_fal_and_replicate_calls_run_concurrently_against_the_simulator_then_replay_offline(
        fresh_sim, run_app, recording):
    env = {**sdk_environment(fresh_sim, "fal-client", api_key=SECRET),
           **sdk_environment(fresh_sim, "replicate", api_key=SECRET), "REPLICATE_POLL_INTERVAL": "0.05",
           **recording.env}
    out = run_app("async_app.py", env).output
    for item in (out["fal"], out["replicate"]):
        assert item["url"].startswith(f"{fresh_sim.tls_url}/media/images/")
        assert {k: item[k] for k in ("size", "sha256")} == stock_digest(item["url"])
    assert {name for name, _ in fresh_sim.received} == {"fal", "replicate"}

    assert replay_offline(fresh_sim, run_app, "async_app.py", env, recording) == out
