"""fal-client against the simulator's TLS listener: subscribe, submit / status / result, media downloads."""

from __future__ import annotations

from tarash.tarash_gateway.simulator import sdk_environment

from .harness import stock_digest


def test_subscribe_and_submit_status_result_reach_the_simulator_over_https(sdk_sim, run_app):
    since = len(sdk_sim.received)
    out = run_app("fal_app.py", sdk_environment(sdk_sim, "fal-client")).output
    image, video = out["image"], out["video"]
    assert image["url"].startswith(f"{sdk_sim.tls_url}/media/images/")
    assert video["url"].startswith(f"{sdk_sim.tls_url}/media/videos/16x9_")
    assert {k: image[k] for k in ("size", "sha256")} == stock_digest(image["url"])
    assert {k: video[k] for k in ("size", "sha256")} == stock_digest(video["url"])
    assert out["statuses"][-1] == "Completed" and "InProgress" in out["statuses"]
    job = sdk_sim.job(out["request_id"])
    assert job is not None and job.provider == "fal" and job.state == "completed"
    agents = {request.headers.get("user-agent", "") for name, request in list(sdk_sim.received)[since:] if name == "fal"}
    assert agents and all(agent.startswith("fal-client/") for agent in agents)
