"""Real OpenAI image traffic (``cassettes/real/``), replayed through our OpenAI adapter.

Recorded by openai-dotnet, ruby-openai and ruby_llm against api.openai.com (see
``cassettes/real/NOTICE.md``). vcrpy replays the committed cassettes through
``SQLitePersister`` with ``record_mode="none"``: a request our adapter sends that the
recording does not hold fails the test. Generations are matched on the JSON body too, so
our field mapping is the one those clients sent.

What is not replayed through the adapter, and why:

- the ``POST /v1/chat/completions`` interactions of the two openai-dotnet runs: the
  clients described their image with a chat model afterwards; we make no chat calls;
- ``images_variations_image_png``: ``POST /v1/images/variations`` is an endpoint we do
  not use (dall-e-2 with an input image is an edit); the test shows our call goes to
  ``/images/edits`` and is refused by the cassette, and reads the recorded answer with
  our response parser;
- the two ruby_llm edit errors were sent as JSON with ``images[].image_url``; we send
  edits as multipart with the image bytes, so they are matched without the body.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from tarash.tarash_gateway.call import Call
from tarash.tarash_gateway.exceptions import HTTPError, ValidationError, is_retryable
from tarash.tarash_gateway.flow import run_sync
from tarash.tarash_gateway.models import ImageGenerationConfig, ImageGenerationRequest
from tarash.tarash_gateway.providers.openai import OpenAIProtocol
from tests.support.real_cassettes import WITH_BODY, body, played, recorded_json, replay

OTTER = "A baby sea otter cooking pasta wearing a hat of some sort"
LION = "A lion cooking pasta wearing a hat of some sort"
SPANIEL = "A springer spaniel cooking pasta wearing a hat of some sort"
ONE_PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVQYV2NgAAIAAAUAAarVyFEAAAAASUVORK5CYII="


def config(model: str, **changes: Any) -> ImageGenerationConfig:
    return ImageGenerationConfig(provider="openai", model=model, **{"api_key": "sk-replay", **changes})


def _recorded_png(cassette: Any) -> bytes:
    """The input image a ruby-openai multipart request carried (its ``image`` part)."""
    raw = cassette.requests[0].body
    part = raw.split(b'name="image"; filename="image.png"', 1)[1]
    start = part.index(b"\x89PNG")
    return part[start: part.index(b"\r\n---", start)]


def test_gpt_image_1_gives_the_recorded_base64_image(face, clock):
    request = ImageGenerationRequest(prompt="An isolated stop sign.")
    with replay("openai-dotnet__BasicGenerationWorks", match_on=WITH_BODY) as cassette:
        response = face.image(config("gpt-image-1"), request)

    assert response.images == [f"data:image/png;base64,{ONE_PIXEL_PNG}"]
    assert response.content_type == "image/png"
    assert response.raw_response["usage"]["output_tokens"] == 6240
    assert response.raw_response["data"][0]["b64_json"] != ONE_PIXEL_PNG  # elided from raw_response
    assert played(cassette) == [("POST", "/v1/images/generations")]  # the chat call after it is not ours
    assert recorded_json(cassette, 0) == {"prompt": "An isolated stop sign.", "model": "gpt-image-1"}


def test_an_invalid_key_is_a_401_http_error_that_does_not_fall_back(face, clock):
    request = ImageGenerationRequest(prompt="An isolated stop sign.", n=2)
    with replay("openai-dotnet__GenerateImagesCanParseServiceError", match_on=WITH_BODY) as cassette, \
            pytest.raises(HTTPError) as caught:
        face.image(config("gpt-image-1", api_key="fake_key"), request)

    error = caught.value
    assert type(error) is HTTPError and error.status_code == 401
    assert not is_retryable(error)
    assert "Incorrect API key provided" in str(error)
    assert error.raw_response["body"]["error"]["code"] == "invalid_api_key"
    assert cassette.play_count == 1


def test_dall_e_2_gives_two_recorded_urls(face, clock):
    request = ImageGenerationRequest(prompt="An isolated stop sign.", n=2, size="256x256",
                                     extra_params={"response_format": "url"})
    with replay("openai-dotnet__GenerationOfMultipleImagesWorks__at_609a7dcc", match_on=WITH_BODY) as cassette:
        response = face.image(config("dall-e-2"), request)

    assert len(response.images) == 2
    assert all(url.startswith("https://oaidalleapiprodscus.blob.core.windows.net/private/") for url in response.images)
    assert ["img-s8K4JcsJM93jXcbgVmm7gwrJ.png" in response.images[0], "img-zLSzbJW0cLEXBPJx89kbEJy5.png" in
            response.images[1]] == [True, True]
    assert played(cassette) == [("POST", "/v1/images/generations")]


@pytest.mark.parametrize(("name", "model", "request_", "image", "revised"), [
    ("ruby-openai__images_generate_A_baby_sea_otter_cooking_pasta_wearing_a_hat_of_some_sort", "dall-e-2",
     ImageGenerationRequest(prompt=OTTER, size="256x256"), "img-TXGcLfiIhAqPEEED1eQ4SyMg.png", None),
    ("ruby-openai__images_generate_A_lion_cooking_pasta_wearing_a_hat_of_some_sort", "dall-e-3",
     ImageGenerationRequest(prompt=LION, size="1024x1792"), None, "Imagine a scene where a majestic African lion"),
    ("ruby-openai__images_generate_A_springer_spaniel_cooking_pasta_wearing_a_hat_of_some_sort", "dall-e-3",
     ImageGenerationRequest(prompt=SPANIEL, aspect_ratio="9:16", quality="hd"), None, "A Springer Spaniel, a breed"),
], ids=["dall-e-2 otter", "dall-e-3 lion", "dall-e-3 hd spaniel"])
def test_dall_e_generations_give_the_recorded_url_and_revised_prompt(face, clock, name, model, request_, image, revised):
    with replay(name, match_on=WITH_BODY) as cassette:
        response = face.image(config(model), request_)

    recorded = json.loads(body(cassette.responses[0]))["data"][0]
    assert response.images == [recorded["url"]]
    assert response.images[0].startswith("https://oaidalleapiprodscus.blob.core.windows.net/private/")
    if image:
        assert image in response.images[0]
    assert response.revised_prompt == recorded.get("revised_prompt")
    assert (response.revised_prompt or "").startswith(revised or "")
    assert response.request_id == cassette.responses[0]["headers"]["X-Request-Id"][0]
    assert cassette.all_played


def test_a_dall_e_2_edit_with_the_recorded_image_gives_the_recorded_url(face, clock):
    name = "ruby-openai__images_edit_image_png_A_solid_red_Ruby_on_a_blue_background"
    with replay(name) as cassette:
        png = _recorded_png(cassette)
        request = ImageGenerationRequest(prompt="A solid red Ruby on a blue background",
                                         image_list=[{"image": {"content": png, "content_type": "image/png"},
                                                      "type": "reference"}])
        response = face.image(config("dall-e-2"), request)

    assert png.startswith(b"\x89PNG") and len(png) == 249
    assert response.images == [json.loads(body(cassette.responses[0]))["data"][0]["url"]]
    assert "img-OZFc8dNHwZ5C6RAh94sIswHf.png" in response.images[0]
    assert played(cassette) == [("POST", "/v1/images/edits")]  # the file holds two runs; one call plays the first


def _form(raw: bytes) -> dict[bytes, bytes]:
    """A multipart body's plain form fields (name -> value), files left out."""
    return dict(re.findall(rb'name="(\w+)"\r\n(?:[^\r\n]+\r\n)*\r\n([^\r]*)\r\n', raw))


def test_our_edit_sends_the_recorded_prompt_and_image_as_multipart():
    name = "ruby-openai__images_edit_image_png_A_solid_red_Ruby_on_a_blue_background"
    with replay(name) as cassette:
        recorded, png = cassette.requests[0].body, _recorded_png(cassette)
    protocol = OpenAIProtocol()
    call = Call("image", config("dall-e-2"), ImageGenerationRequest(
        prompt="A solid red Ruby on a blue background",
        image_list=[{"image": {"content": png, "content_type": "image/png"}, "type": "reference"}]))
    ours = protocol.submit(call, run_sync(protocol.prepare(call)))

    assert ours.url.path == "/v1/images/edits"
    assert _form(ours.content)[b"prompt"] == _form(recorded)[b"prompt"] == b"A solid red Ruby on a blue background"
    assert png in ours.content and b'name="image"' in ours.content


@pytest.mark.parametrize(("name", "message", "param"), [
    ("ruby_llm__image_edit_functionality_with_remote_urls_rejects_edits_with_a_url_having_invalid_content_type",
     "Invalid image data.", "images[0].image_url"),
    ("ruby_llm__image_edit_functionality_with_remote_urls_rejects_edits_with_a_url_that_returns_404",
     "Error while downloading file. Upstream status code: 404.", "url"),
], ids=["invalid content type", "url returns 404"])
def test_a_rejected_edit_is_a_validation_error_that_does_not_fall_back(face, clock, name, message, param):
    request = ImageGenerationRequest(prompt="turn the logo to green", n=1,
                                     image_list=[{"image": f"data:image/png;base64,{ONE_PIXEL_PNG}", "type": "reference"}])
    with replay(name) as cassette, pytest.raises(ValidationError) as caught:
        face.image(config("gpt-image-1.5"), request)

    error = caught.value
    assert type(error) is ValidationError and not is_retryable(error)
    assert message in str(error)
    assert error.raw_response["body"]["error"]["param"] == param
    assert played(cassette) == [("POST", "/v1/images/edits")]


def test_variations_are_an_endpoint_we_do_not_call(face, clock):
    name = "ruby-openai__images_variations_image_png"
    with replay(name) as cassette:
        png = _recorded_png(cassette)
        request = ImageGenerationRequest(prompt="a variation",
                                         image_list=[{"image": {"content": png, "content_type": "image/png"},
                                                      "type": "reference"}])
        with pytest.raises(CannotOverwriteExistingCassetteException, match="/v1/images/edits"):
            face.image(config("dall-e-2"), request)
        assert cassette.play_count == 0
        recorded = cassette.responses[0]

    # the recorded answer has the generations shape, and our parser reads it
    protocol = OpenAIProtocol()
    call = Call("image", config("dall-e-2"), ImageGenerationRequest(prompt="a variation"))
    answer = httpx.Response(200, headers={"x-request-id": "req-1"}, content=body(recorded))
    job = protocol.parse_submit(call, answer)
    assert job.status == "completed" and "img-IDjaONUIUX21UkUXO1eMjb1w.png" in job.result.images[0]
