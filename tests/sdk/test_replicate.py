"""The replicate SDK: replicate.run gives FileOutput over https; predictions create / get / wait."""

from __future__ import annotations

from tarash.tarash_gateway.simulator import sdk_environment

from .harness import stock_digest


def test_run_and_predictions_reach_the_simulator(sdk_sim, run_app):
    env = {**sdk_environment(sdk_sim, "replicate"), "REPLICATE_POLL_INTERVAL": "0.05"}
    since = len(sdk_sim.received)
    out = run_app("replicate_app.py", env).output
    (image,) = out["run"]
    assert image["type"] == "FileOutput" and image["url"].startswith(f"{sdk_sim.tls_url}/media/images/")
    assert {k: image[k] for k in ("size", "sha256")} == stock_digest(image["url"])
    prediction = out["prediction"]
    assert (prediction["created"], prediction["status"]) == ("starting", "succeeded")
    assert prediction["output"].startswith(f"{sdk_sim.tls_url}/media/videos/")
    served = [(request.method, request.path, request.headers.get("prefer"))
              for name, request in list(sdk_sim.received)[since:] if name == "replicate"]
    # replicate.run blocks on Prefer: wait, so its prediction needs no poll
    assert served[0] == ("POST", "/v1/models/black-forest-labs/flux-schnell/predictions", "wait")
    assert ("GET", f"/v1/predictions/{prediction['id']}", None) in served
