"""The openai SDK: images (plain and streamed), videos with download and list; AzureOpenAI; replayed offline."""

from __future__ import annotations

from tarash.tarash_gateway.mock.stock import match_image, match_video
from tarash.tarash_gateway.simulator import sdk_environment

from .conftest import SECRET
from .harness import digest_of, replay_offline, without_poll_trace


def test_openai_app_runs_against_the_simulator_then_replays_offline(fresh_sim, run_app, recording):
    env = {**sdk_environment(fresh_sim, "openai", api_key=SECRET), **recording.env}
    out = run_app("openai_app.py", env).output
    png = digest_of(match_image("1024x1024", None).path.read_bytes())
    assert out["image"] == png and out["streamed_image"] == png
    assert out["stream"] == ["image_generation.partial_image", "image_generation.completed"]
    video = out["video"]
    assert video["statuses"] == ["queued", "in_progress", "in_progress", "completed"]
    assert {k: video[k] for k in ("size", "sha256")} == digest_of(match_video("16:9", "720p", 4).path.read_bytes())
    assert out["listed"] == [video["id"]]

    replayed = replay_offline(fresh_sim, run_app, "openai_app.py", env, recording)
    assert without_poll_trace(replayed) == without_poll_trace(out)  # the downloaded video included
    assert replayed["video"]["statuses"] == ["queued", "completed"]


def test_azure_openai_app_runs_against_the_simulator_then_replays_offline(fresh_sim, run_app, recording):
    env = {**sdk_environment(fresh_sim, "azure-openai", api_key=SECRET), **recording.env}
    out = run_app("azure_openai_app.py", env).output
    assert out["image"] == digest_of(match_image("1024x1024", None).path.read_bytes())
    assert out["video"]["status"] == "completed" and out["video"]["size"] > 0
    paths = [request.path for name, request in fresh_sim.received if name == "openai"]
    assert paths[0] == "/openai/deployments/my-image-deployment/images/generations"
    assert "/openai/v1/videos" in paths

    assert replay_offline(fresh_sim, run_app, "azure_openai_app.py", env, recording) == out
