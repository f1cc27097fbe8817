"""The runwayml SDK: image_to_video and text_to_image tasks polled with tasks.retrieve."""

from __future__ import annotations

from tarash.tarash_gateway.simulator import sdk_environment

from .conftest import SECRET
from .harness import stock_digest


def test_runwayml_app_runs_against_the_simulator(fresh_sim, run_app):
    env = sdk_environment(fresh_sim, "runwayml", api_key=SECRET)
    out = run_app("runway_app.py", env).output
    video, image = out["video"], out["image"]
    assert video["statuses"] == ["RUNNING", "RUNNING", "SUCCEEDED"]
    assert video["url"].startswith(f"{fresh_sim.url}/media/videos/16x9_720p")
    assert image["statuses"][-1] == "SUCCEEDED" and image["url"].startswith(f"{fresh_sim.url}/media/images/")
    for task in (video, image):
        assert {k: task[k] for k in ("size", "sha256")} == stock_digest(task["url"])
    versions = {request.headers.get("x-runway-version") for name, request in fresh_sim.received if name == "runway"}
    assert len(versions) == 1 and None not in versions

