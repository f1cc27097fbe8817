"""Stability against the loopback simulator: multipart requests, JSON answers, errors."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tarash.tarash_gateway import (
    ContentModerationError,
    HTTPError,
    ImageGenerationConfig,
    ImageGenerationRequest,
    RateLimitError,
    TimeoutError,
    ValidationError,
    generate_image,
)
from tarash.tarash_gateway.call import Call
from tarash.tarash_gateway.exceptions import is_retryable
from tarash.tarash_gateway.mock.stock import STOCK_DIR, match_image
from tarash.tarash_gateway.providers.mapping import mapping_table
from tarash.tarash_gateway.providers.stability import SPECS, StabilityProtocol
from tarash.tarash_gateway.simulator import Scenario

PNG = (STOCK_DIR / match_image("512x512", None).file).read_bytes()


def config(simulator: Any, model: str = "sd3.5-large", **changes: Any) -> ImageGenerationConfig:
    return ImageGenerationConfig(
        provider="stability", model=model, api_key="sk-test", base_url=simulator.base_url("stability"), **changes
    )


def _image(simulator: Any, request: ImageGenerationRequest, on_progress: Any = None, **changes: Any) -> Any:
    return generate_image(config(simulator, **changes), request, on_progress)


def stability_requests(simulator: Any, since: int) -> list[tuple[str, str, str]]:
    return [r for r in simulator.requests[since:] if r[0] == "stability"]


def test_sd3_image_comes_back_as_a_data_uri_on_both_faces(face, simulator, clock) -> None:
    simulator.push(Scenario())
    request = ImageGenerationRequest(prompt="an eagle over peaks", aspect_ratio="16:9", seed=7)

    response = face.image(config(simulator), request)

    header, _, data = response.images[0].partition(",")
    assert header == "data:image/png;base64"
    expected = (STOCK_DIR / match_image(None, "16:9").file).read_bytes()
    assert base64.b64decode(data) == expected
    assert response.content_type == "image/png"
    assert response.raw_response == {
        "finish_reason": "SUCCESS", "seed": 7, "content_type": "image/png", "image_bytes": len(expected)
    }
    job = simulator.job(response.request_id)  # the request id is Stability's x-request-id
    assert job.payload == {
        "endpoint": "sd3", "model": "sd3.5-large", "prompt": "an eagle over peaks", "aspect_ratio": "16:9", "seed": "7"
    }


def test_the_one_progress_event_is_completed(simulator, clock) -> None:
    events: list[Any] = []
    response = _image(simulator, ImageGenerationRequest(prompt="a cat"), events.append)
    assert [(e.status, e.progress_percent, e.request_id) for e in events] == [("completed", 100, response.request_id)]


def test_submit_rate_limit_carries_retry_after_and_falls_back(face, simulator, clock) -> None:
    simulator.push("rate_limit")
    with pytest.raises(RateLimitError) as caught:
        face.image(config(simulator), ImageGenerationRequest(prompt="a cat"))
    assert (caught.value.status_code, caught.value.retry_after) == (429, 2.0)
    assert caught.value.raw_response["phase"] == "submit"
    assert is_retryable(caught.value)


def test_rate_limit_without_retry_after_still_falls_back(simulator, clock) -> None:
    simulator.push("rate_limit_no_retry_after")
    with pytest.raises(RateLimitError) as caught:
        _image(simulator, ImageGenerationRequest(prompt="a cat"))
    assert caught.value.retry_after is None
    assert is_retryable(caught.value)


@pytest.mark.parametrize(("scenario", "status", "retryable"), [("auth", 401, False), ("server_error", 500, True)])
def test_http_failures_keep_their_status(simulator, clock, scenario: str, status: int, retryable: bool) -> None:
    simulator.push(scenario)
    with pytest.raises(HTTPError) as caught:
        _image(simulator, ImageGenerationRequest(prompt="a cat"))
    assert type(caught.value) is HTTPError
    assert caught.value.status_code == status
    assert is_retryable(caught.value) is retryable


def test_a_bad_request_answer_is_a_validation_error(simulator, clock) -> None:
    simulator.push("validation")
    with pytest.raises(ValidationError) as caught:
        _image(simulator, ImageGenerationRequest(prompt="a cat"))
    assert "aspect_ratio" in str(caught.value)
    assert caught.value.raw_response["body"]["name"] == "bad_request"


def test_403_content_moderation_is_a_moderation_error(simulator, clock) -> None:
    simulator.push("moderation")
    with pytest.raises(ContentModerationError) as caught:
        _image(simulator, ImageGenerationRequest(prompt="a cat"))
    assert caught.value.raw_response["status_code"] == 403
    assert not is_retryable(caught.value)


def test_content_filtered_finish_reason_is_a_moderation_error(simulator, clock) -> None:
    simulator.push("moderated_output")
    events: list[Any] = []
    with pytest.raises(ContentModerationError) as caught:
        _image(simulator, ImageGenerationRequest(prompt="a cat"), events.append)
    assert caught.value.raw_response["body"]["finish_reason"] == "CONTENT_FILTERED"
    assert caught.value.request_id == events[-1].request_id
    assert events[-1].status == "failed"


def test_a_generation_failure_answer_falls_back(simulator, clock) -> None:
    simulator.push("failed")
    with pytest.raises(HTTPError) as caught:
        _image(simulator, ImageGenerationRequest(prompt="a cat"))
    assert caught.value.status_code == 500
    assert is_retryable(caught.value)


def test_a_slow_answer_times_out_at_the_deadline(simulator, clock) -> None:
    simulator.push(Scenario(latency=2.0))
    with pytest.raises(TimeoutError) as caught:
        _image(simulator, ImageGenerationRequest(prompt="a cat"), timeout=0.3)
    assert is_retryable(caught.value)
    assert "POST" in str(caught.value)  # Stability has no job to cancel: the request itself timed out


@pytest.mark.parametrize(
    ("model", "fields", "message"),
    [
        ("sd4-giga", {}, "unknown stability model 'sd4-giga'"),
        ("sd3.5-large", {"aspect_ratio": "4:3"}, "aspect_ratio='4:3'; allowed: '1:1', '16:9'"),
        ("sd3.5-large", {"seed": 4294967295}, "seed=4294967295; allowed: 0..4294967294"),
        ("sd3.5-large", {"seed": -1}, "seed=-1"),
        ("sd3.5-medium", {"cfg_scale": 40}, "extra_params:cfg_scale=40; allowed: 1..35"),
        ("sd3.5-large", {"steps": 0}, "extra_params:steps=0; allowed: 1..50"),
        ("sd3.5-large", {"n": 2}, "n=2; allowed: 1"),
        ("sd3.5-large", {"output_format": "webp"}, "output_format='webp'"),
        ("stable-image-core", {"image_list": [{"image": "https://x/a.png", "type": "reference"}], "strength": 0.5},
         "image-to-image on sd3 and ultra only"),
        ("stable-image-ultra", {"image_list": [{"image": "https://x/a.png", "type": "reference"}]}, "needs extra_params strength"),
        ("stable-image-ultra", {"mask_image": "https://x/m.png"}, "does not take mask_image"),
    ],
)
def test_requests_a_model_cannot_take_fail_before_any_network_call(
    simulator, clock, model: str, fields: dict[str, Any], message: str
) -> None:
    before = len(simulator.requests)
    with pytest.raises(ValidationError) as caught:
        _image(simulator, ImageGenerationRequest(prompt="a cat", **fields), model=model)
    assert message in str(caught.value)
    assert stability_requests(simulator, before) == []


def test_sd3_medium_sends_its_model_and_sd3_knobs(simulator, clock) -> None:
    request = ImageGenerationRequest(prompt="a fox", negative_prompt="blur", cfg_scale=6.5, steps=30, output_format="jpeg")
    response = _image(simulator, request, model="sd3.5-medium")
    assert simulator.job(response.request_id).payload == {
        "endpoint": "sd3", "model": "sd3.5-medium", "prompt": "a fox", "negative_prompt": "blur",
        "output_format": "jpeg", "cfg_scale": "6.5", "steps": "30",
    }


def test_ultra_image_to_image_uploads_the_file(simulator, clock) -> None:
    request = ImageGenerationRequest(
        prompt="as a watercolour",
        aspect_ratio="1:1",
        image_list=[{"image": {"content": PNG, "content_type": "image/png"}, "type": "reference"}],
        strength=0.35,
    )
    response = _image(simulator, request, model="stable-image-ultra")
    assert simulator.job(response.request_id).payload == {
        "endpoint": "ultra", "prompt": "as a watercolour", "strength": "0.35", "image": f"<{len(PNG)} bytes>"
    }


@pytest.mark.parametrize("model", ["stable-image-core", "stable-image"])
def test_core_models_pass_style_preset_and_webp_through(simulator, clock, model: str) -> None:
    request = ImageGenerationRequest(prompt="a robot", aspect_ratio="9:21", style_preset="anime", output_format="webp")
    response = _image(simulator, request, model=model)
    assert simulator.job(response.request_id).payload == {
        "endpoint": "core", "prompt": "a robot", "aspect_ratio": "9:21", "output_format": "webp", "style_preset": "anime"
    }


def test_a_raw_bytes_answer_is_accepted_too() -> None:
    protocol = StabilityProtocol()
    call = Call(kind="image", config=ImageGenerationConfig(provider="stability", model="sd3.5-large"),
                request=ImageGenerationRequest(prompt="p"))
    answer = httpx.Response(200, content=PNG, headers={"content-type": "image/png", "finish-reason": "SUCCESS",
                                                       "seed": "9", "x-request-id": "req-1"})
    job = protocol.parse_submit(call, answer)
    assert (job.status, job.id) == ("completed", "req-1")
    assert job.result.images[0] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    filtered = httpx.Response(200, content=PNG, headers={"content-type": "image/png", "finish-reason": "CONTENT_FILTERED"})
    assert isinstance(protocol.parse_submit(call, filtered).error, ContentModerationError)


def test_docs_table_lists_every_model() -> None:
    table = mapping_table(SPECS)
    for model in ("sd3.5-large", "sd3.5-large-turbo", "sd3.5-medium", "stable-image-ultra", "stable-image-core"):
        assert f"### `{model}`" in table
    assert "`0`..`4294967294`" in table


def test_other_sd3_models_are_sent_by_their_own_name(simulator, clock) -> None:
    response = _image(simulator, ImageGenerationRequest(prompt="a fox"), model="sd3.5-flash")
    assert simulator.job(response.request_id).payload == {"endpoint": "sd3", "model": "sd3.5-flash", "prompt": "a fox"}
