"""google-genai's versioned paths reach the Gemini API and Vertex AI routes."""

from __future__ import annotations

import pytest

KEY = {"x-goog-api-key": "g"}
VERTEX = "/projects/p/locations/us-central1/publishers/google"


@pytest.mark.parametrize("version", ["", "/v1", "/v1beta", "/v1alpha"])
def test_generate_content_is_served_under_every_api_version(sim, http, version):
    url = f"{sim.base_url('google')}{version}/models/gemini-2.5-flash-image:generateContent"
    answer = http.post(url, json={"contents": [{"parts": [{"text": "a cat"}]}]}, headers=KEY)
    assert answer.status_code == 200
    parts = answer.json()["candidates"][0]["content"]["parts"]
    assert parts[1]["inlineData"]["mimeType"] == "image/png"


def test_vertex_video_flow_is_served_under_v1beta1(sim, http):
    base = f"{sim.base_url('google')}/v1beta1{VERTEX}/models/veo-3.0-generate-001"
    bearer = {"Authorization": "Bearer t"}
    name = http.post(f"{base}:predictLongRunning", json={"instances": [{"prompt": "a dog"}]}, headers=bearer).json()["name"]
    assert name.startswith(VERTEX.lstrip("/"))
    while not (operation := http.post(f"{base}:fetchPredictOperation", json={"operationName": name},
                                      headers=bearer).json()).get("done"):
        pass
    assert operation["response"]["videos"][0]["mimeType"] == "video/mp4"


def test_an_unknown_version_is_still_a_404(sim, http):
    url = f"{sim.base_url('google')}/v9/models/gemini-2.5-flash-image:generateContent"
    assert http.post(url, json={}, headers=KEY).status_code == 404
