"""Real fal queue traffic (``cassettes/real/851-labs-fal__*``), replayed through our fal adapter.

Recorded by the 851-labs/fal Ruby client against queue.fal.run (see
``cassettes/real/NOTICE.md``): FLUX [dev] jobs submitted, polled while ``IN_PROGRESS``
and cancelled. No recording reaches ``COMPLETED``, so none yields an image: what is
replayed is the submit, the progress, the timeout and the cancel. vcrpy replays the
committed cassettes through ``SQLitePersister`` with ``record_mode="none"`` and vcrpy's
default matchers (the Ruby client sent its cancels with a ``{}`` body, we send none, and
vcrpy's body matcher tells an empty GET body from a missing one); the submit bodies are
compared with what our protocol prepares.

What is not replayed through the adapter, and why:

- ``GET .../status`` without ``?logs=1`` (the Ruby client's first status check): we
  always poll with logs, so those interactions are not ours;
- ``GET https://api.fal.ai/v1/models?endpoint_id=...``: a model metadata lookup we do
  not make;
- runs whose submit is not in the file (the Ruby tests looked up earlier jobs by id):
  their polls and cancels are replayed through our protocol's requests (sans I/O) with a
  plain httpx client, and the answers read by our parser;
- the ``a dog`` run has no cancel recorded, so it is replayed sans I/O too (submit and
  poll) rather than through the whole flow, whose timeout would send a cancel.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tarash.tarash_gateway.call import Call
from tarash.tarash_gateway.exceptions import TimeoutError
from tarash.tarash_gateway.flow import run_sync
from tarash.tarash_gateway.models import ImageGenerationConfig, ImageGenerationRequest
from tarash.tarash_gateway.providers.base import Job
from tarash.tarash_gateway.providers.fal import FalProtocol
from tests.support.real_cassettes import WITH_BODY, body, played, recorded_json, replay

LIFECYCLE = "851-labs-fal__test_request_lifecycle_create_status_logs_cancel"
FIND_BY = "851-labs-fal__test_find_by_fetches_status_with_logs"
INSTANCE_RUN = "851-labs-fal__test_model_instance_run_creates_request"


def config(**changes: Any) -> ImageGenerationConfig:
    return ImageGenerationConfig(provider="fal", model="fal-ai/flux/dev",
                                 **{"api_key": "fal-replay", "poll_interval": 0.01, **changes})


def test_a_job_that_stays_in_progress_times_out_and_is_cancelled(face, clock):
    events: list[Any] = []
    with replay(LIFECYCLE) as cassette, pytest.raises(TimeoutError) as caught:
        face.image(config(max_poll_attempts=1), ImageGenerationRequest(prompt="a cat"), events.append)

    job_id = "59899b99-07ca-4177-b21c-037a18d1e441"
    assert caught.value.request_id == job_id
    assert [(e.status, e.update.get("provider_status")) for e in events] == [("queued", "IN_QUEUE"),
                                                                              ("processing", "IN_PROGRESS")]
    assert {e.request_id for e in events} == {job_id}
    base = f"/fal-ai/flux/requests/{job_id}"
    assert played(cassette) == [("POST", "/fal-ai/flux/dev"), ("GET", f"{base}/status"), ("PUT", f"{base}/cancel")]
    assert [cassette.requests[i].query for i, n in sorted(cassette.play_counts.items()) if n][1] == [("logs", "1")]
    protocol = FalProtocol()
    ours = run_sync(protocol.prepare(Call("image", config(), ImageGenerationRequest(prompt="a cat"))))
    assert recorded_json(cassette, 12) == ours == {"prompt": "a cat"}
    cancel_answer = json.loads(body(cassette.responses[15]))
    assert cancel_answer == {"status": "CANCELLATION_REQUESTED"}


def _replay_by_id(name: str, *, cancel: bool) -> list[tuple[str, str | None, int]]:
    """Every recorded job of ``name`` without its submit, polled (and cancelled) through our protocol."""
    protocol, call = FalProtocol(), Call("image", config(), ImageGenerationRequest(prompt="x"))
    seen = []
    with replay(name) as cassette, httpx.Client() as client:
        ids = sorted({r.path.split("/")[4] for r in cassette.requests if r.query == [("logs", "1")]})
        for job_id in ids:
            base = f"https://queue.fal.run/fal-ai/flux/requests/{job_id}"
            job = Job(id=job_id, urls={"status": f"{base}/status", "response": base, "cancel": f"{base}/cancel"})
            polled = protocol.parse_poll(call, job, client.send(protocol.poll(call, job)))
            seen.append((polled.status, polled.update.get("provider_status"), 0))
            if cancel:
                request = protocol.cancel(call, job)
                assert request is not None
                seen[-1] = (*seen[-1][:2], client.send(request).status_code)
    return seen


def test_the_lifecycle_runs_looked_up_by_id_poll_and_cancel_through_our_requests():
    seen = _replay_by_id(LIFECYCLE, cancel=True)
    assert seen == [("processing", "IN_PROGRESS", 202)] * 5  # the four earlier runs and the "a cat" one


def test_a_dog_is_submitted_and_polled_with_its_logs(clock):
    protocol, call = FalProtocol(), Call("image", config(), ImageGenerationRequest(prompt="a dog"))
    with replay(FIND_BY) as cassette, httpx.Client() as client:
        payload = run_sync(protocol.prepare(call))
        job = protocol.parse_submit(call, client.send(protocol.submit(call, payload)))
        polled = protocol.parse_poll(call, job, client.send(protocol.poll(call, job)))

    assert payload == recorded_json(cassette, 4) == {"prompt": "a dog"}
    assert (job.id, job.status) == ("5c17e5b2-07da-4e2d-95f0-d0a300e45c44", "queued")
    assert job.urls["status"].endswith("/requests/5c17e5b2-07da-4e2d-95f0-d0a300e45c44/status")
    assert polled.status == "processing" and polled.update["provider_status"] == "IN_PROGRESS"
    recorded_logs = json.loads(body(cassette.responses[5])).get("logs") or []
    assert polled.update.get("logs", []) == [entry["message"] for entry in recorded_logs]


def test_the_find_by_runs_read_as_in_progress():
    assert _replay_by_id(FIND_BY, cancel=False) == [("processing", "IN_PROGRESS", 0)] * 5


def test_an_instance_run_is_a_queued_job_with_the_recorded_urls(clock):
    protocol, call = FalProtocol(), Call("image", config(), ImageGenerationRequest(prompt="instance run"))
    with replay(INSTANCE_RUN, match_on=WITH_BODY) as cassette, httpx.Client() as client:
        job = protocol.parse_submit(call, client.send(protocol.submit(call, run_sync(protocol.prepare(call)))))

    recorded = json.loads(body(cassette.responses[1]))
    assert (job.id, job.status) == ("3509a73b-4c04-43bd-9466-8b17d75c3fc0", "queued")
    assert job.urls == {"status": recorded["status_url"], "response": recorded["response_url"],
                        "cancel": recorded["cancel_url"]}
    assert played(cassette) == [("POST", "/fal-ai/flux/dev")]  # not the model metadata lookup
