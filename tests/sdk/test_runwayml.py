"""The runwayml SDK: image_to_video and text_to_image tasks, polled with tasks.retrieve."""

from __future__ import annotations

from tarash.tarash_gateway.simulator import sdk_environment

from .harness import stock_digest


def test_tasks_are_created_polled_and_their_output_downloaded(sdk_sim, run_app):
    since = len(sdk_sim.received)
    out = run_app("runway_app.py", sdk_environment(sdk_sim, "runwayml")).output
    video, image = out["video"], out["image"]
    assert video["statuses"][-1] == "SUCCEEDED" and len(video["statuses"]) == 3
    assert video["url"].startswith(f"{sdk_sim.url}/media/videos/16x9_720p")
    assert image["statuses"][-1] == "SUCCEEDED" and image["url"].startswith(f"{sdk_sim.url}/media/images/")
    for task in (video, image):
        assert {k: task[k] for k in ("size", "sha256")} == stock_digest(task["url"])
    versions = {request.headers.get("x-runway-version") for name, request in list(sdk_sim.received)[since:]
                if name == "runway"}
    assert len(versions) == 1 and None not in versions
