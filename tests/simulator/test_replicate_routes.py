"""Replicate's model and version routes, and ``Prefer: wait``, as the replicate SDK uses them."""

from __future__ import annotations

import time

from tarash.tarash_gateway.simulator import Scenario

AUTH = {"Authorization": "Bearer r8_k"}


def test_model_names_its_latest_version_with_an_output_schema(sim, http):
    model = http.get(f"{sim.base_url('replicate')}/v1/models/black-forest-labs/flux-schnell", headers=AUTH)
    assert model.status_code == 200
    body = model.json()
    assert (body["owner"], body["name"]) == ("black-forest-labs", "flux-schnell")
    output = body["latest_version"]["openapi_schema"]["components"]["schemas"]["Output"]
    assert output["type"] == "array" and output["items"]["format"] == "uri"


def test_a_video_model_version_outputs_one_uri(sim, http):
    url = f"{sim.base_url('replicate')}/v1/models/kwaivgi/kling-v2.1/versions/abc123"
    version = http.get(url, headers=AUTH).json()
    assert version["id"] == "abc123"
    assert version["openapi_schema"]["components"]["schemas"]["Output"]["format"] == "uri"
    listed = http.get(f"{sim.base_url('replicate')}/v1/models/kwaivgi/kling-v2.1/versions", headers=AUTH).json()
    assert [v["id"] for v in listed["results"]] == [
        http.get(f"{sim.base_url('replicate')}/v1/models/kwaivgi/kling-v2.1", headers=AUTH).json()["latest_version"]["id"]
    ]


def test_prefer_wait_answers_the_finished_prediction(sim, http):
    url = f"{sim.base_url('replicate', tls=True)}/v1/models/black-forest-labs/flux-schnell/predictions"
    answer = http.post(url, json={"input": {"prompt": "a cat"}}, headers={**AUTH, "Prefer": "wait"})
    assert answer.status_code == 201
    prediction = answer.json()
    assert prediction["status"] == "succeeded"
    assert prediction["output"][0].startswith(f"{sim.tls_url}/media/images/")


def test_without_prefer_wait_the_prediction_starts(sim, http):
    url = f"{sim.base_url('replicate')}/v1/models/black-forest-labs/flux-schnell/predictions"
    assert http.post(url, json={"input": {"prompt": "a cat"}}, headers=AUTH).json()["status"] == "starting"


def test_prefer_wait_gives_up_after_its_seconds_on_a_stuck_job(sim, http):
    sim.push(Scenario(stuck=True))
    url = f"{sim.base_url('replicate')}/v1/models/black-forest-labs/flux-schnell/predictions"
    started = time.monotonic()
    answer = http.post(url, json={"input": {"prompt": "a cat"}}, headers={**AUTH, "Prefer": "wait=1"})
    assert 1.0 <= time.monotonic() - started < 3.0
    assert answer.json()["status"] in ("starting", "processing")
