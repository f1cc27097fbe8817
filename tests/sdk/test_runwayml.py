"""The runwayml SDK: image_to_video and text_to_image tasks polled with tasks.retrieve; replayed offline."""

from __future__ import annotations

from tarash.tarash_gateway.simulator import Scenario, sdk_environment

from .conftest import SECRET
from .harness import replay_offline, stock_digest, without_poll_trace


def test_runwayml_app_runs_against_the_simulator_then_replays_offline(fresh_sim, run_app, recording):
    env = {**sdk_environment(fresh_sim, "runwayml", api_key=SECRET), **recording.env}
    out = run_app("runway_app.py", env).output
    video, image = out["video"], out["image"]
    assert video["statuses"] == ["RUNNING", "RUNNING", "SUCCEEDED"]
    assert video["url"].startswith(f"{fresh_sim.url}/media/videos/16x9_720p")
    assert image["statuses"][-1] == "SUCCEEDED" and image["url"].startswith(f"{fresh_sim.url}/media/images/")
    for task in (video, image):
        assert {k: task[k] for k in ("size", "sha256")} == stock_digest(task["url"])
    versions = {request.headers.get("x-runway-version") for name, request in fresh_sim.received if name == "runway"}
    assert len(versions) == 1 and None not in versions

    replayed = replay_offline(fresh_sim, run_app, "runway_app.py", env, recording)
    assert without_poll_trace(replayed) == without_poll_trace(out)
    assert replayed["video"]["statuses"] == replayed["image"]["statuses"] == ["SUCCEEDED"]


def test_a_recorded_eight_poll_flow_replays_in_one_poll_for_an_app_polling_every_half_second(
        fresh_sim, run_app, recording):
    fresh_sim.default = Scenario(queue_polls=2, run_polls=6)
    env = {**sdk_environment(fresh_sim, "runwayml", api_key=SECRET), **recording.env, "APP_SKIP_IMAGE": "1"}
    recorded = run_app("runway_app.py", {**env, "APP_POLL_SECONDS": "0.01"}).output
    assert len(recorded["video"]["statuses"]) == 8

    replayed = replay_offline(fresh_sim, run_app, "runway_app.py", {**env, "APP_POLL_SECONDS": "0.5"}, recording)
    assert replayed["video"]["statuses"] == ["SUCCEEDED"]
    assert replayed["video"]["sha256"] == recorded["video"]["sha256"]
    assert replayed["seconds"] < 1.5  # eight polls at 0.5 s would take 3.5 s at least
