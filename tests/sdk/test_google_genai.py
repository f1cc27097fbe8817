"""google-genai: generate_content answering an image (Gemini API), generate_videos on Vertex AI."""

from __future__ import annotations

from tarash.tarash_gateway.mock.stock import match_image, match_video
from tarash.tarash_gateway.simulator import sdk_environment

from .conftest import SECRET
from .harness import digest_of


def test_gemini_image_app_runs_against_the_simulator(fresh_sim, run_app):
    env = sdk_environment(fresh_sim, "google-genai", api_key=SECRET)
    out = run_app("google_app.py", env).output
    assert out["image"] == {"mime_type": "image/png", **digest_of(match_image(None, None).path.read_bytes())}
    assert out["text"] == ["Here is your image."]
    (sent,) = [request for name, request in fresh_sim.received if name == "google"]
    assert sent.path == "/v1/models/gemini-2.5-flash-image:generateContent"



def test_vertex_video_app_runs_against_the_simulator(fresh_sim, run_app,
                                                                          vertex_credentials):
    env = {**sdk_environment(fresh_sim, "google-genai", api_key=SECRET), **vertex_credentials}
    out = run_app("vertex_app.py", env).output
    assert out["operation"].startswith("projects/sim-project/locations/us-central1/publishers/google/models/")
    assert out["polls"] == 3
    assert out["video"] == {"mime_type": "video/mp4", **digest_of(match_video("16:9", "720p", 8).path.read_bytes())}
    sent = [request for name, request in fresh_sim.received if name == "google"]
    assert sent[0].path.startswith("/v1beta1/projects/sim-project/")
    assert sent[0].headers["authorization"] == "Bearer ya29.sim-access-token"
