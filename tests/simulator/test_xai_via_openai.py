"""xAI's REST API through the openai SDK (xai-sdk speaks gRPC only), as the SDK docs say it works."""

from __future__ import annotations

import openai


def test_openai_sdk_pointed_at_xai_generates_images(sim, http):
    client = openai.OpenAI(base_url=f"{sim.base_url('xai')}/v1", api_key="xai-k", max_retries=0)
    try:
        image = client.images.generate(model="grok-2-image", prompt="a lighthouse", n=2)
    finally:
        client.close()
    assert len(image.data) == 2 and image.data[0].url.startswith(f"{sim.url}/media/images/")
    assert http.get(image.data[0].url).content.startswith(b"\x89PNG")
    assert sim.received[-1][1].headers["authorization"] == "Bearer xai-k"
