"""google-genai: generate_content answering an image (Gemini API), generate_videos on Vertex AI."""

from __future__ import annotations

from tarash.tarash_gateway.mock.stock import match_image, match_video
from tarash.tarash_gateway.simulator import sdk_environment

from .harness import digest_of


def test_generate_content_image_reaches_the_simulator_with_the_default_api_version(sdk_sim, run_app):
    since = len(sdk_sim.received)
    out = run_app("google_app.py", sdk_environment(sdk_sim, "google-genai")).output
    assert out["image"] == {"mime_type": "image/png", **digest_of(match_image(None, None).path.read_bytes())}
    assert out["text"] == ["Here is your image."]
    (sent,) = [request for name, request in list(sdk_sim.received)[since:] if name == "google"]
    assert sent.path == "/v1/models/gemini-2.5-flash-image:generateContent"


def test_vertex_generate_videos_polls_the_operation_to_its_video(sdk_sim, run_app, vertex_credentials):
    env = {**sdk_environment(sdk_sim, "google-genai"), **vertex_credentials}
    since = len(sdk_sim.received)
    out = run_app("vertex_app.py", env).output
    assert out["operation"].startswith("projects/sim-project/locations/us-central1/publishers/google/models/")
    assert out["polls"] == 3
    stock = match_video("16:9", "720p", 8).path.read_bytes()
    assert out["video"] == {"mime_type": "video/mp4", **digest_of(stock)}
    sent = [request for name, request in list(sdk_sim.received)[since:] if name == "google"]
    assert sent[0].path.startswith("/v1beta1/projects/sim-project/")
    assert sent[0].headers["authorization"] == "Bearer ya29.sim-access-token"
