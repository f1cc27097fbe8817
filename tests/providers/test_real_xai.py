"""A real xAI image edit (``cassettes/real/ruby_llm__..._xai_...``), replayed through our xAI adapter.

Recorded by ruby_llm against api.x.ai (see ``cassettes/real/NOTICE.md``): an edit of
two reference images with ``grok-imagine-image-quality``, answered with an image URL on
imgen.x.ai, then the download of that JPEG. vcrpy replays the committed cassette through
``SQLitePersister`` with ``record_mode="none"``.

ruby_llm tagged each image ``{"type": "image_url", "url": ...}``; we send ``{"url": ...}``
(xAI's documented shape), so the edit is matched on its prompt and image URLs (a
matcher of this module) rather than the whole body. The download is not part of our call
(we return the URL); it is replayed through our media loader.
"""

from __future__ import annotations

import json
from typing import Any

from tarash.tarash_gateway.media_io import load_media
from tarash.tarash_gateway.models import ImageGenerationConfig, ImageGenerationRequest
from tests.support.real_cassettes import played, recorded_json, replay

NAME = "ruby_llm__image_edit_functionality_with_xai_reference_images_xai_grok-imagine-image-quality_supports_image_edits_with_reference_images"
IMAGE = "https://imgen.x.ai/xai-imgen/xai-tmp-imgen-cec8be61-b894-99a2-b650-ff214ecc89b4-07d9e473.jpeg"


def _image_urls(request: Any) -> list[str]:
    return [item["url"] for item in json.loads(request.body)["images"]]


def same_images(live: Any, recorded: Any) -> None:
    """Matches when both edits carry the same prompt and images, whatever else each item holds
    (other requests, such as the download, are left to the other matchers)."""
    if not (live.path.endswith("/images/edits") and recorded.path.endswith("/images/edits")):
        return
    assert json.loads(live.body)["prompt"] == json.loads(recorded.body)["prompt"]
    assert _image_urls(live) == _image_urls(recorded)


def test_an_edit_of_two_reference_images_gives_the_recorded_jpeg(face, clock):
    with replay(NAME, matchers={"same_images": same_images},
                match_on=["method", "host", "path", "same_images"]) as cassette:
        recorded = recorded_json(cassette, 0)
        inputs = [item["url"] for item in recorded["images"]]
        request = ImageGenerationRequest(prompt=recorded["prompt"],
                                         image_list=[{"image": url, "type": "reference"} for url in inputs])
        config = ImageGenerationConfig(provider="xai", model="grok-imagine-image-quality", api_key="xai-replay")
        response = face.image(config, request)
        assert played(cassette) == [("POST", "/v1/images/edits")]
        data, content_type = load_media(response.images[0], "image/png")

    assert response.images == [IMAGE]
    assert response.raw_response["usage"] == {"cost_in_usd_ticks": 700000000}
    assert recorded["model"] == "grok-imagine-image-quality" and len(inputs) == 2
    assert all(url.startswith("data:image/png;base64,") for url in inputs)
    assert content_type == "image/jpeg" and data.startswith(b"\xff\xd8\xff") and len(data) > 100_000
    assert cassette.all_played
