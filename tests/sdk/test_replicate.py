"""The replicate SDK: replicate.run gives FileOutput over https; predictions create / get / wait; replayed offline."""

from __future__ import annotations

from tarash.tarash_gateway.simulator import sdk_environment

from .conftest import SECRET
from .harness import replay_offline, stock_digest, without_poll_trace


def test_replicate_app_runs_against_the_simulator_then_replays_offline(fresh_sim, run_app, recording):
    env = {**sdk_environment(fresh_sim, "replicate", api_key=SECRET), "REPLICATE_POLL_INTERVAL": "0.05",
           **recording.env}
    out = run_app("replicate_app.py", env).output
    (image,) = out["run"]
    assert image["type"] == "FileOutput" and image["url"].startswith(f"{fresh_sim.tls_url}/media/images/")
    assert {k: image[k] for k in ("size", "sha256")} == stock_digest(image["url"])
    prediction = out["prediction"]
    assert (prediction["created"], prediction["fetched"], prediction["status"]) == ("starting", "processing",
                                                                                    "succeeded")
    assert prediction["output"].startswith(f"{fresh_sim.tls_url}/media/videos/")
    served = [(request.method, request.path, request.headers.get("prefer"))
              for name, request in fresh_sim.received if name == "replicate"]
    # replicate.run blocks on Prefer: wait, so its prediction needs no poll
    assert served[0] == ("POST", "/v1/models/black-forest-labs/flux-schnell/predictions", "wait")
    assert ("GET", f"/v1/predictions/{prediction['id']}", None) in served

    replayed = replay_offline(fresh_sim, run_app, "replicate_app.py", env, recording)
    assert without_poll_trace(replayed) == without_poll_trace(out)  # FileOutput bytes included
    assert replayed["prediction"]["fetched"] == "succeeded"  # the first get got the terminal answer
