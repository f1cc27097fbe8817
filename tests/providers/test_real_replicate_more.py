"""More real Replicate traffic (``cassettes/real/``), replayed through our Replicate adapter.

Recorded by replicate-python and openllmetry against api.replicate.com (see
``cassettes/real/NOTICE.md``). vcrpy replays the committed cassettes through
``SQLitePersister`` with ``record_mode="none"``; creates are matched on the JSON body.

- ``replicate-python__predictions-create`` and ``__predictions-get`` are two halves of
  one prediction (``vgcm4plb7tgzlyznry5d5jkgvu``): its create, and a poll answered
  ``succeeded`` (the get file holds two runs of that test, both after the end). The test joins them into one scratch cassette (the second exported as
  HAR and imported into a copy of the first) and replays the whole call through the
  adapter, on both faces. The file's second create (``vme6...``, another run of the
  same test) is replayed by a second create through our protocol.
- ``openllmetry__..._predictions_legacy`` holds one create of ``kvfrans/clipdraw`` and
  no poll: it is replayed through our protocol's create (sans I/O), since a whole call
  would poll on.

Not ours: the SDKs' ``GET /v1/models/{owner}/{name}`` and ``.../versions/{id}`` lookups
(we send the version id given in ``model`` as it is).
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import httpx

from tarash.tarash_gateway.call import Call
from tarash.tarash_gateway.cassettes import har
from tarash.tarash_gateway.cassettes.store import CassetteStore
from tarash.tarash_gateway.flow import run_sync
from tarash.tarash_gateway.models import ImageGenerationConfig, ImageGenerationRequest
from tarash.tarash_gateway.providers.replicate import ReplicateProtocol
from tests.support.real_cassettes import WITH_BODY, cassette_path, played, recorded_json, replay

SDXL = "stability-ai/sdxl:39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"
CLIPDRAW = "kvfrans/clipdraw:5797a99edc939ea0e9242d5e8c9cb3bc7d125b1eac21bda852e5cb79ede2cd9b"
CORGI = ImageGenerationRequest(prompt="a studio photo of a rainbow colored corgi", size="512x512", seed=42069)


def config(model: str) -> ImageGenerationConfig:
    return ImageGenerationConfig(provider="replicate", model=model, api_key="r8_replay", poll_interval=0.01)


def _sent(protocol: ReplicateProtocol, call: Call) -> Any:
    """The JSON body of the create our protocol sends for ``call``."""
    return json.loads(protocol.submit(call, run_sync(protocol.prepare(call))).content)


def _joined(tmp_path: Any) -> Any:
    joined = tmp_path / "predictions-create-and-get.db"
    shutil.copyfile(cassette_path("replicate-python__predictions-create"), joined)
    source = CassetteStore.open(cassette_path("replicate-python__predictions-get"), create=False)
    store = CassetteStore.open(joined, create=True)
    try:
        with (tmp_path / "get.har").open("w", encoding="utf-8") as out:
            har.export_har(source, out)
        assert har.import_har(tmp_path / "get.har", store) == 2
    finally:
        source.close()
        store.close()
    return joined


def test_the_created_prediction_is_polled_to_its_recorded_images(face, clock, tmp_path):
    import vcr

    from tarash.tarash_gateway.cassettes import SQLitePersister

    recorder = vcr.VCR(record_mode="none")  # the GETs were recorded with no body, ours carry an empty one
    recorder.register_persister(SQLitePersister)
    events: list[Any] = []
    with recorder.use_cassette(str(_joined(tmp_path))) as cassette:
        response = face.image(config(SDXL), CORGI, events.append)

    assert response.request_id == "vgcm4plb7tgzlyznry5d5jkgvu"
    assert response.images == [
        "https://replicate.delivery/pbxt/9inf36wjsEWuQ6XTf84iezPftv9QZdePfGySnU5tUai3BOrWE/out-0.png"]
    assert response.raw_response["status"] == "succeeded"
    assert [(e.status, e.progress_percent) for e in events] == [("queued", None), ("completed", 100)]
    assert events[-1].update["logs"][-1].startswith("100%|")
    # one poll answers succeeded; the file's other GET is a second run of the same test
    assert played(cassette) == [("POST", "/v1/predictions"), ("GET", "/v1/predictions/vgcm4plb7tgzlyznry5d5jkgvu")]
    call = Call("image", config(SDXL), CORGI)
    assert recorded_json(cassette, 1) == _sent(ReplicateProtocol(), call)  # the create we sent


def test_the_second_recorded_create_is_the_second_run(clock):
    protocol, call = ReplicateProtocol(), Call("image", config(SDXL), CORGI)
    with replay("replicate-python__predictions-create", match_on=WITH_BODY) as cassette, httpx.Client() as client:
        payload = run_sync(protocol.prepare(call))
        jobs = [protocol.parse_submit(call, client.send(protocol.submit(call, payload))) for _ in range(2)]

    assert [(job.id, job.status) for job in jobs] == [("vgcm4plb7tgzlyznry5d5jkgvu", "queued"),
                                                      ("vme6tftbgoggoxnjiwkzr6zrpa", "queued")]
    assert recorded_json(cassette, 1) == _sent(protocol, call)
    assert played(cassette) == [("POST", "/v1/predictions")] * 2  # not the SDK's model and version lookups


def test_a_legacy_version_create_is_a_starting_prediction(clock):
    protocol = ReplicateProtocol()
    call = Call("image", config(CLIPDRAW), ImageGenerationRequest(prompt="robots"))
    with replay("openllmetry__test_replicate_image_generation_predictions_legacy", match_on=WITH_BODY) as cassette, \
            httpx.Client() as client:
        payload = run_sync(protocol.prepare(call))
        job = protocol.parse_submit(call, client.send(protocol.submit(call, payload)))

    assert _sent(protocol, call) == recorded_json(cassette, 2) == {"input": {"prompt": "robots"},
                                                                    "version": CLIPDRAW.split(":")[1]}
    assert (job.id, job.status, job.update["provider_status"]) == ("to5tvnrbh43inejuzpcz27oqse", "queued", "starting")
    assert played(cassette) == [("POST", "/v1/predictions")]
