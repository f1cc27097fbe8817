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
    assert live.origin.source == "provider"
    assert (again.origin.source, again.origin.cassette, again.origin.provider) == ("replay", path, provider)
    assert isinstance(again.origin.recording, int)  # the submit's interaction
    assert "x-tarash-replay" not in str(again.raw_response)  # the mark never reaches the adapter
    assert served >= 4 and cassette.play_count == served
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(f"{provider}.db"))
    assert b"sqlite" in on_disk.lower() and b"key-never-on-disk" not in on_disk


def test_an_error_replayed_by_vcrpy_says_it_is_a_replay_and_the_mark_is_never_saved(face, clock, tmp_path):
    from tarash.tarash_gateway.cassettes.store import CassetteStore
    from tarash.tarash_gateway.exceptions import HTTPError

    path = str(tmp_path / "errors.db")
    request = VideoGenerationRequest(prompt="a cat #sim:server_error")
    with ProviderSimulator() as sim:
        config = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", api_key="k", base_url=sim.base_url("fal"))
        with _vcr("once").use_cassette(path), pytest.raises(HTTPError) as live:
            face.video(config, request)
        with _vcr("new_episodes").use_cassette(path), pytest.raises(HTTPError) as again:
            face.video(config, request)  # replayed, then saved again: nothing new to add
    assert live.value.origin.source == "provider"
    assert (again.value.origin.source, again.value.origin.cassette, again.value.origin.phase) == ("replay", path, "submit")
    store = CassetteStore.open(path, create=False)
    try:
        rows = store.http_interactions()
    finally:
        store.close()
    assert len(rows) == 1 and "x-tarash-replay" not in rows[0]["response"]


def test_the_adapters_know_the_persisters_replay_header():
    from tarash.tarash_gateway.cassettes.persister import REPLAY_HEADER
    from tarash.tarash_gateway.providers import http

    assert http._REPLAY_HEADER == REPLAY_HEADER
