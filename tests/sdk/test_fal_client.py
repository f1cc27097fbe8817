"""fal-client against the simulator's TLS listener (run, subscribe, submit / status / result), then replayed offline."""

from __future__ import annotations

from tarash.tarash_gateway.simulator import sdk_environment

from .conftest import SECRET
from .harness import replay_offline, stock_digest, without_poll_trace


def test_fal_client_app_runs_against_the_simulator_then_replays_offline(fresh_sim, run_app, recording):
    env = {**sdk_environment(fresh_sim, "fal-client", api_key=SECRET), **recording.env}
    out = run_app("fal_app.py", env).output
    image, video = out["image"], out["video"]
    assert out["ran"]["url"] == f"{fresh_sim.tls_url}/media/images/1344x756.png"
    assert {k: out["ran"][k] for k in ("size", "sha256")} == stock_digest(out["ran"]["url"])
    assert image["url"].startswith(f"{fresh_sim.tls_url}/media/images/")
    assert video["url"].startswith(f"{fresh_sim.tls_url}/media/videos/16x9_")
    assert {k: image[k] for k in ("size", "sha256")} == stock_digest(image["url"])
    assert {k: video[k] for k in ("size", "sha256")} == stock_digest(video["url"])
    assert out["statuses"] == ["InProgress", "InProgress", "Completed"]
    job = fresh_sim.job(out["request_id"])
    assert job is not None and job.provider == "fal" and job.state == "completed"
    agents = {request.headers.get("user-agent", "") for name, request in fresh_sim.received if name == "fal"}
    assert agents and all(agent.startswith("fal-client/") for agent in agents)

    replayed = replay_offline(fresh_sim, run_app, "fal_app.py", env, recording)
    assert without_poll_trace(replayed) == without_poll_trace(out)  # media bytes included
    assert replayed["statuses"] == ["Completed"]  # the first poll got the terminal answer
