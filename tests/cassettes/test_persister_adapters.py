"""Faithful replay: the real provider adapters replay raw HTTP recorded by vcrpy into our SQLite file."""

from __future__ import annotations

import pytest
import vcr

from tarash.tarash_gateway.cassettes import SQLitePersister
from tarash.tarash_gateway.models import VideoGenerationConfig, VideoGenerationRequest
from tarash.tarash_gateway.simulator import ProviderSimulator, Scenario


def _vcr(record_mode: str) -> vcr.VCR:
    my_vcr = vcr.VCR(record_mode=record_mode)
    my_vcr.register_persister(SQLitePersister)
    return my_vcr


@pytest.mark.parametrize("provider, model", [("fal", "fal-ai/veo3.1"), ("replicate", "google/veo-3")])
def test_adapter_http_recorded_once_replays_after_the_provider_is_gone(face, clock, tmp_path, provider, model):
    path = str(tmp_path / f"{provider}.db")
    sim = ProviderSimulator(Scenario(queue_polls=1, run_polls=2)).start()
    try:
        config = VideoGenerationConfig(
            provider=provider, model=model, api_key="key-never-on-disk", base_url=sim.base_url(provider), poll_interval=0.01
        )
        request = VideoGenerationRequest(prompt="a cat", duration_seconds=8)
        live_events: list[str] = []
        with _vcr("once").use_cassette(path):
            live = face.video(config, request, lambda u: live_events.append(u.status))
        served = len(sim.requests)
    finally:
        sim.stop()

    events: list[str] = []
    with _vcr("none").use_cassette(path) as cassette:
        again = face.video(config, request, lambda u: events.append(u.status))
        assert cassette.all_played
    assert (again.request_id, again.video, events) == (live.request_id, live.video, live_events)
    assert again.origin.source == "provider"  # parsed by the adapter from the replayed HTTP
    assert served >= 4 and cassette.play_count == served
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(f"{provider}.db"))
    assert b"sqlite" in on_disk.lower() and b"key-never-on-disk" not in on_disk
