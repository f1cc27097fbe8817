"""The openai SDK: images (plain and streamed), videos with download and list; AzureOpenAI."""

from __future__ import annotations

from tarash.tarash_gateway.mock.stock import match_image, match_video
from tarash.tarash_gateway.simulator import sdk_environment

from .harness import digest_of


def test_images_and_videos_reach_the_simulator(sdk_sim, run_app):
    out = run_app("openai_app.py", sdk_environment(sdk_sim, "openai")).output
    png = digest_of(match_image("1024x1024", None).path.read_bytes())
    assert out["image"] == png and out["streamed_image"] == png
    assert out["stream"] == ["image_generation.partial_image", "image_generation.completed"]
    video = out["video"]
    assert video["statuses"][0] == "queued" and video["statuses"][-1] == "completed"
    assert {k: video[k] for k in ("size", "sha256")} == digest_of(match_video("16:9", "720p", 4).path.read_bytes())
    assert video["id"] in out["listed"]


def test_azure_openai_deployments_and_v1_videos_reach_the_simulator(sdk_sim, run_app):
    since = len(sdk_sim.received)
    out = run_app("azure_openai_app.py", sdk_environment(sdk_sim, "azure-openai")).output
    assert out["image"] == digest_of(match_image("1024x1024", None).path.read_bytes())
    assert out["video"]["status"] == "completed" and out["video"]["size"] > 0
    paths = [request.path for name, request in list(sdk_sim.received)[since:] if name == "openai"]
    assert paths[0] == "/openai/deployments/my-image-deployment/images/generations"
    assert "/openai/v1/videos" in paths
