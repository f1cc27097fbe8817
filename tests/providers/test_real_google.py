"""Real Google traffic (``cassettes/real/``), replayed through our Google adapter.

Recorded by pydantic-ai (Gemini 2.5 Flash Image on Vertex AI) and ruby_llm (Imagen 3 and
Veo 3.1 Lite on the Gemini API), see ``cassettes/real/NOTICE.md``. vcrpy replays the
committed cassettes through ``SQLitePersister`` with ``record_mode="none"``; the
synchronous image calls are matched on the JSON body too, and the Veo submit body is
compared with the one our protocol builds (its polls were recorded without a body, which
vcrpy's body matcher tells from our empty one).

Differences from what the recording clients did, handled by configuration:

- pydantic-ai's SDK called Vertex's ``v1beta1`` API: ``base_url`` points there (we
  default to ``v1``), and it asked for ``responseModalities: ["TEXT", "IMAGE"]`` where we
  send ``["IMAGE"]``: the test sets it through a dotted ``extra_params`` key, as a user
  would, so the body is the recorded one.
- the Veo submit: we send ``sampleCount: 1`` (one video, the API's default) where
  ruby_llm left it out; otherwise the body is the recorded one.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from tarash.tarash_gateway.call import Call
from tarash.tarash_gateway.flow import run_sync
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
)
from tarash.tarash_gateway.providers.google import GoogleProtocol
from tests.support.real_cassettes import WITH_BODY, body, played, replay

VERTEX = "pydantic-ai__test_google_vertexai_image_generation_with_output_format"
IMAGEN = "ruby_llm__image_basic_functionality_imagen-3_0-generate-002_can_paint_images"
VEO = "ruby_llm__video_basic_functionality_gemini_veo-3_1-lite-generate-preview_can_animate_videos"


def _inline(cassette: Any, index: int, *path: Any) -> str:
    data: Any = json.loads(body(cassette.responses[index]))
    for step in path:
        data = data[step]
    return data


def test_gemini_image_on_vertex_gives_the_recorded_jpeg(face, clock):
    config = ImageGenerationConfig(
        provider="google", model="gemini-2.5-flash-image", api_key="ya29.replay",
        base_url="https://aiplatform.googleapis.com/v1beta1",
        provider_config={"project": "pydantic-ai", "location": "global"})
    request = ImageGenerationRequest(prompt="Generate an image of an axolotl.", extra_params={
        "image_output_options": {"compressionQuality": 85, "mimeType": "image/jpeg"},
        "generationConfig.responseModalities": ["TEXT", "IMAGE"]})
    with replay(VERTEX, match_on=WITH_BODY) as cassette:
        response = face.image(config, request)

    recorded = _inline(cassette, 0, "candidates", 0, "content", "parts", 0, "inlineData", "data")
    assert response.images == [f"data:image/jpeg;base64,{recorded}"]
    assert base64.b64decode(recorded).startswith(b"\xff\xd8\xff")
    assert response.raw_response["modelVersion"] == "gemini-2.5-flash-image"
    assert recorded not in json.dumps(response.raw_response)  # the base64 is elided from raw_response
    assert cassette.all_played


def test_imagen_on_the_gemini_api_gives_the_recorded_png(face, clock):
    config = ImageGenerationConfig(provider="google", model="imagen-3.0-generate-002", api_key="AIza-replay")
    with replay(IMAGEN, match_on=WITH_BODY) as cassette:
        response = face.image(config, ImageGenerationRequest(prompt="a siamese cat", n=1))

    recorded = _inline(cassette, 0, "predictions", 0, "bytesBase64Encoded")
    assert response.images == [f"data:image/png;base64,{recorded}"]
    assert base64.b64decode(recorded)[:8] == b"\x89PNG\r\n\x1a\n"
    assert cassette.all_played


def test_veo_polls_the_operation_and_downloads_the_recorded_mp4(face, clock):
    config = VideoGenerationConfig(provider="google", model="veo-3.1-lite-generate-preview", api_key="AIza-replay",
                                   poll_interval=0.01)
    events: list[Any] = []
    with replay(VEO) as cassette:
        response = face.video(config, VideoGenerationRequest(prompt="a calm ocean wave at sunset", duration_seconds=4),
                              events.append)

    operation = "models/veo-3.1-lite-generate-preview/operations/umz7sqimep69"
    assert response.request_id == operation
    assert response.video["content_type"] == "video/mp4"
    assert response.video["content"] == body(cassette.responses[7]) and len(response.video["content"]) == 2376176
    assert response.video["content"][4:8] == b"ftyp"
    assert [e.status for e in events] == ["queued", "processing", "completed"]
    assert played(cassette) == [("POST", "/v1beta/models/veo-3.1-lite-generate-preview:predictLongRunning")] + [
        ("GET", f"/v1beta/{operation}")] * 5 + [("GET", "/v1beta/files/zqw12cp8qc38:download"),
                                                 ("GET", "/download/v1beta/files/zqw12cp8qc38:download")]
    protocol = GoogleProtocol()
    call = Call("video", config, VideoGenerationRequest(prompt="a calm ocean wave at sunset", duration_seconds=4))
    ours = json.loads(protocol.submit(call, run_sync(protocol.prepare(call))).content)
    recorded = json.loads(cassette.requests[0].body)
    assert recorded == {"instances": [{"prompt": "a calm ocean wave at sunset"}], "parameters": {"durationSeconds": 4}}
    assert ours == {**recorded, "parameters": {**recorded["parameters"], "sampleCount": 1}}
