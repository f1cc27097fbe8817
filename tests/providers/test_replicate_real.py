"""Real Replicate traffic, replayed offline through our adapter with vcrpy.

The cassettes are real HTTP exchanges with api.replicate.com recorded by the maintainers
of replicate-python (see ``cassettes/replicate-real/NOTICE.md``), imported into the
committed ``cassettes/replicate-real/*.db`` by ``tools/build_real_cassettes.py``. vcrpy
reads them through our ``SQLitePersister`` with ``record_mode="none"`` and its default
matchers (method, scheme, host, port, path, query): a request our adapter sends that was
not recorded fails the test.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tarash.tarash_gateway.call import Call
from tarash.tarash_gateway.exceptions import (
    GenerationFailedError,
    HTTPError,
    TimeoutError,
    is_retryable,
)
from tarash.tarash_gateway.flow import run_sync
from tarash.tarash_gateway.models import ImageGenerationConfig, ImageGenerationRequest
from tarash.tarash_gateway.providers.base import Job
from tarash.tarash_gateway.providers.replicate import ReplicateProtocol
from tests.support.real_cassettes import body, played
from tests.support.real_cassettes import replay as replay_cassette

SDXL_VERSION = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"
CORGI = ImageGenerationRequest(prompt="a studio photo of a rainbow colored corgi", size="512x512", seed=42069)
RECORDED_IMAGE = "https://replicate.delivery/pbxt/gDoc64M9pRaQNdZb0evCRgm57WZJ5BKi0T5kzV6qm2tGmd8IA/out-0.png"


def config(**changes: Any) -> ImageGenerationConfig:
    values = {"api_key": "r8_replay", "poll_interval": 0.01, **changes}  # no base_url: the real API's
    return ImageGenerationConfig(provider="replicate", model=f"stability-ai/sdxl:{SDXL_VERSION}", **values)


def replay(name: str, **options: Any) -> Any:
    return replay_cassette(name, "replicate-real", **options)


def test_run_gives_the_recorded_image_and_the_progress_in_order(face, clock):
    events: list[Any] = []

    with replay("run") as cassette:
        response = face.image(config(), CORGI, events.append)

    assert response.images == [RECORDED_IMAGE]
    assert response.content_type == "image/png"
    assert response.request_id == "azaq55dbukgxg6kubr4k6g3pby"
    assert response.raw_response["status"] == "succeeded"
    assert response.raw_response["metrics"] == {"predict_time": 5.524512}
    # starting -> queued; processing with the percentage of the last tqdm line; succeeded -> completed
    assert [(e.status, e.progress_percent) for e in events] == [
        ("queued", None),
        ("processing", None),
        ("processing", 0),
        ("processing", 18),
        ("processing", 38),
        ("processing", 58),
        ("processing", 78),
        ("processing", 98),
        ("completed", 100),
    ]
    assert {e.request_id for e in events} == {"azaq55dbukgxg6kubr4k6g3pby"}
    assert events[-1].update["logs"][-1].startswith("100%|")
    # every recorded create and poll was played; only the SDK's model-version lookup was not
    assert played(cassette) == [("POST", "/v1/predictions")] + [("GET", "/v1/predictions/azaq55dbukgxg6kubr4k6g3pby")] * 11
    assert not cassette.all_played
    assert cassette.requests[1].path == f"/v1/models/stability-ai/sdxl/versions/{SDXL_VERSION}"


def test_run_sends_the_same_create_body_as_the_recorded_one(clock):
    from tarash.tarash_gateway import generate_image

    # the body matcher compares JSON bodies as data: our mapping of size and seed is Replicate's
    with replay("run", match_on=["method", "scheme", "host", "port", "path", "query", "body"]) as cassette:
        generate_image(config(), CORGI)

    recorded = json.loads(cassette.requests[0].body)
    assert recorded == {"input": {"prompt": CORGI.prompt, "width": 512, "height": 512, "seed": 42069},
                        "version": SDXL_VERSION}


def test_an_invalid_token_is_a_401_http_error_that_does_not_fall_back(face, clock):
    with replay("run__invalid-token") as cassette, pytest.raises(HTTPError) as caught:
        face.image(config(api_key="r8_invalid"), CORGI)

    error = caught.value
    assert type(error) is HTTPError
    assert error.status_code == 401
    assert not is_retryable(error)
    assert "You did not pass a valid authentication token" in str(error)
    assert error.raw_response["phase"] == "submit"
    assert error.raw_response["body"]["title"] == "Unauthenticated"
    assert cassette.play_count == 1


def test_a_timeout_cancels_the_recorded_prediction(face, clock):
    # the cassette holds a pinned create (201 starting) and its cancel (200 canceled), no poll:
    # a deadline shorter than the first wait times out, and the cancel is the recorded one
    with replay("predictions-cancel") as cassette, pytest.raises(TimeoutError) as caught:
        face.image(config(timeout=0.5, poll_interval=1.0), CORGI)

    assert caught.value.request_id == "hdwst0bb05rgp0cf0p29mzk2am"
    assert played(cassette) == [("POST", "/v1/predictions"), ("POST", "/v1/predictions/hdwst0bb05rgp0cf0p29mzk2am/cancel")]


def test_an_official_model_is_created_at_its_model_endpoint():
    # sans-I/O: our protocol builds the request, a plain httpx client sends it into the cassette
    protocol = ReplicateProtocol()
    call = Call(
        "image",
        ImageGenerationConfig(provider="replicate", model="meta/llama-2-70b-chat", api_key="r8_replay"),
        ImageGenerationRequest(prompt="Please write a haiku about llamas."),
    )
    payload = run_sync(protocol.prepare(call))

    with replay("predictions-cancel") as cassette, httpx.Client() as client:
        response = client.send(protocol.submit(call, payload))

    job = protocol.parse_submit(call, response)
    assert response.status_code == 201
    assert played(cassette) == [("POST", "/v1/models/meta/llama-2-70b-chat/predictions")]
    assert json.loads(cassette.requests[0].body) == payload == {"input": {"prompt": "Please write a haiku about llamas."}}
    assert (job.id, job.status, job.update["provider_status"]) == ("heat2o3bzn3ahtr6bjfftvbaci", "queued", "starting")


def test_the_recorded_cancel_answer_reads_as_a_failed_prediction():
    with replay("predictions-cancel") as cassette:
        at = next(i for i, r in enumerate(cassette.requests) if r.path.endswith("/cancel"))
        prediction = json.loads(body(cassette.responses[at]))

    job = ReplicateProtocol().parse_poll(
        Call("image", config(), CORGI), Job(id=prediction["id"]), httpx.Response(200, json=prediction)
    )

    assert job.status == "failed"
    assert isinstance(job.error, GenerationFailedError) and "canceled" in str(job.error)
    assert job.error.raw_response["prediction"]["metrics"] == {"predict_time": 0.128148, "total_time": 0.175128}

