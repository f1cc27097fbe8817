"""google-genai: generate_content answering an image (Gemini API), generate_videos on Vertex AI; replayed offline."""

from __future__ import annotations

from tarash.tarash_gateway.mock.stock import match_image, match_video
from tarash.tarash_gateway.simulator import sdk_environment

from .conftest import SECRET
from .harness import digest_of, replay_offline, without_poll_trace


def test_gemini_image_app_runs_against_the_simulator_then_replays_offline(fresh_sim, run_app, recording):
    env = {**sdk_environment(fresh_sim, "google-genai", api_key=SECRET), **recording.env}
    out = run_app("google_app.py", env).output
    assert out["image"] == {"mime_type": "image/png", **digest_of(match_image(None, None).path.read_bytes())}
    assert out["text"] == ["Here is your image."]
    (sent,) = [request for name, request in fresh_sim.received if name == "google"]
    assert sent.path == "/v1/models/gemini-2.5-flash-image:generateContent"

    assert replay_offline(fresh_sim, run_app, "google_app.py", env, recording) == out


def test_vertex_video_app_runs_against_the_simulator_then_replays_offline(fresh_sim, run_app, recording,
                                                                          vertex_credentials):
    env = {**sdk_environment(fresh_sim, "google-genai", api_key=SECRET), **vertex_credentials, **recording.env}
    out = run_app("vertex_app.py", env).output
    assert out["operation"].startswith("projects/sim-project/locations/us-central1/publishers/google/models/")
    assert out["polls"] == 3
    assert out["video"] == {"mime_type": "video/mp4", **digest_of(match_video("16:9", "720p", 8).path.read_bytes())}
    sent = [request for name, request in fresh_sim.received if name == "google"]
    assert sent[0].path.startswith("/v1beta1/projects/sim-project/")
    assert sent[0].headers["authorization"] == "Bearer ya29.sim-access-token"

    replayed = replay_offline(fresh_sim, run_app, "vertex_app.py", env, recording)
    assert without_poll_trace(replayed) == without_poll_trace(out)
    assert replayed["polls"] == 1
