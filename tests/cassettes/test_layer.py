"""The record layer through the public API, on both faces: record, replay, refuse."""

from __future__ import annotations

import json

import pytest

from tarash.tarash_gateway import generate_video, use_cassette
from tarash.tarash_gateway.cassettes import CassetteConfig
from tarash.tarash_gateway.cassettes.store import CassetteStore
from tarash.tarash_gateway.exceptions import (
    CassetteError,
    GenerationFailedError,
    RateLimitError,
    RecordingNotFoundError,
)
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
)

from .conftest import PROVIDER, STEP, config, request


def test_record_then_replay_offline_gives_the_same_response(face, acme, db):
    with use_cassette(db) as recording:
        recorded = face.video(config(), request())
    assert (recording.recorded, recording.replayed, acme.calls) == (1, 0, 1)
    assert recorded.origin.source == "provider"

    with use_cassette(db, record_mode="none") as replay:
        replayed = face.video(config(), request())
    assert (replay.recorded, replay.replayed, acme.calls) == (0, 1, 1)  # the provider was not called
    assert replayed.origin.source == "replay" and replayed.origin.cassette == str(db)
    assert replayed.model_dump(exclude={"origin", "execution_metadata"}) == recorded.model_dump(
        exclude={"origin", "execution_metadata"})
    assert replayed.execution_metadata.attempts[0].origin.source == "replay"


def test_progress_timeline_replays_in_order_with_recorded_offsets(face, acme, db, clock):
    with use_cassette(db):
        live = []
        face.video(config(), request(), live.append)
    recorded_time = clock.slept
    assert recorded_time == 2 * STEP

    instant, realtime, doubled = [], [], []
    with use_cassette(db, record_mode="none", allow_playback_repeats=True):
        before = clock.slept
        face.video(config(), request(), instant.append)
        assert clock.slept == before  # instant by default: no wait at all
    with use_cassette(db, record_mode="none", replay_speed="realtime"):
        before = clock.slept
        face.video(config(), request(), realtime.append)
        assert clock.slept - before == pytest.approx(2 * STEP)
    with use_cassette(db, record_mode="none", replay_speed=2.0):
        before = clock.slept
        face.video(config(), request(), doubled.append)
        assert clock.slept - before == pytest.approx(STEP)

    for events in (instant, realtime, doubled):
        assert [(u.status, u.progress_percent, u.update, u.request_id, u.attempt) for u in events] == [
            (u.status, u.progress_percent, u.update, u.request_id, u.attempt) for u in live
        ]


def test_timeline_offsets_are_stored(acme, db, clock):
    with use_cassette(db) as cassette:
        generate_video(config(), request())
    store = CassetteStore.open(db, create=False)
    row = store.recordings()[0]
    store.close()
    assert [e["t"] for e in json.loads(row["timeline"])] == [0.0, STEP]
    assert row["duration"] == 2 * STEP and cassette.recorded == 1


def test_a_recorded_error_replays_as_the_same_class_and_fields(face, acme, db):
    with use_cassette(db), pytest.raises(RateLimitError) as live:
        face.video(config(), request("slow please"))
    with use_cassette(db, record_mode="none"), pytest.raises(RateLimitError) as replayed:
        face.video(config(), request("slow please"))
    assert acme.calls == 1
    for name in ("message", "provider", "model", "request_id", "raw_response", "status_code", "retry_after"):
        assert getattr(replayed.value, name) == getattr(live.value, name), name
    assert replayed.value.retry_after == 7.5
    assert replayed.value.origin.source == "replay"
    assert replayed.value.execution_metadata.attempts[0].error_type == "RateLimitError"


def test_repeated_identical_requests_replay_in_recorded_order(face, acme, db):
    with use_cassette(db):
        ids = [face.video(config(), request()).request_id for _ in range(3)]
    assert ids == ["acme-1", "acme-2", "acme-3"]
    with use_cassette(db, record_mode="none"):
        assert [face.video(config(), request()).request_id for _ in range(3)] == ids
        with pytest.raises(RecordingNotFoundError, match="holds 3 recording.*this is call 4"):
            face.video(config(), request())
    with use_cassette(db, record_mode="none", allow_playback_repeats=True):
        assert [face.video(config(), request()).request_id for _ in range(4)] == [*ids, "acme-3"]


def test_a_miss_names_the_nearest_recordings_and_the_fields_that_differ(face, acme, db):
    with use_cassette(db):
        face.video(config(), request("a cat playing piano", seed=7))
        face.video(config(), request("a dog on a skateboard", aspect_ratio="9:16"))
        face.video(VideoGenerationConfig(provider=PROVIDER, model="m2"), request("a cat playing piano", seed=7))
    with use_cassette(db, record_mode="none"), pytest.raises(RecordingNotFoundError) as miss:
        face.video(config(), request("a cat playing piano", seed=8))
    message = str(miss.value)
    lines = message.splitlines()
    assert "holds no recording of this video call to acme-test/m1" in lines[0]
    assert lines[1] == "Nearest recordings:"
    assert lines[2].startswith("  #1 acme-test/m1") and "request.seed: 8 here, 7 recorded" in lines[2]
    assert "request.seed" not in lines[3] or "model" in lines[3]
    assert any("model: 'm1' here, 'm2' recorded" in line for line in lines)
    assert "record_mode='none'" in message
    assert miss.value.provider == PROVIDER and acme.calls == 3


def test_replay_only_on_a_missing_cassette_says_so(face, acme, db):
    with use_cassette(db, record_mode="none"), pytest.raises(RecordingNotFoundError, match="does not exist"):
        face.video(config(), request())
    assert not db.exists() and acme.calls == 0


def test_once_records_a_new_cassette_then_refuses_new_calls(face, acme, db):
    with use_cassette(db, record_mode="once"):
        face.video(config(), request("first"))
    with use_cassette(db, record_mode="once") as again:
        face.video(config(), request("first"))
        with pytest.raises(RecordingNotFoundError):
            face.video(config(), request("second"))
    assert (again.replayed, again.refused, acme.calls) == (1, 1, 1)


def test_new_episodes_replays_the_known_and_records_the_new(face, acme, db):
    with use_cassette(db):
        face.video(config(), request("first"))
    with use_cassette(db, record_mode="new_episodes") as cassette:
        face.video(config(), request("first"))
        face.video(config(), request("second"))
    assert (cassette.replayed, cassette.recorded, acme.calls) == (1, 1, 2)
    with use_cassette(db, record_mode="none") as cassette:
        assert face.video(config(), request("second")).request_id == "acme-2"


def test_all_records_again_and_replaces_the_older_recordings(face, acme, db):
    with use_cassette(db):
        face.video(config(), request())
        face.video(config(), request())
    with use_cassette(db, record_mode="all") as cassette:
        fresh = face.video(config(), request()).request_id
    assert cassette.recorded == 1 and fresh == "acme-3"
    with use_cassette(db, record_mode="none"):
        assert face.video(config(), request()).request_id == "acme-3"
        with pytest.raises(RecordingNotFoundError, match="holds 1 recording"):
            face.video(config(), request())


def test_one_link_of_a_fallback_chain_replays_while_another_records(face, acme, db):
    with use_cassette(db):  # the primary failed when this was recorded
        with pytest.raises(GenerationFailedError):
            face.video(config(), request("fail on the primary"))
    # per-config cassettes share one session per file for the process: repeats on, so
    # that the chain can run twice
    chain = config(
        cassette=CassetteConfig(path=str(db), record_mode="none", allow_playback_repeats=True),
        fallback_configs=[VideoGenerationConfig(provider=PROVIDER, model="backup", cassette=CassetteConfig(
            path=str(db), record_mode="new_episodes", allow_playback_repeats=True))],
    )
    response = face.video(chain, request("fail on the primary"))
    attempts = response.execution_metadata.attempts
    assert [(a.model, a.status, a.origin.source) for a in attempts] == [
        ("m1", "failed", "replay"), ("backup", "success", "provider")]
    assert acme.calls == 2  # the primary was replayed, only the backup was called
    again = face.video(chain, request("fail on the primary"))
    assert again.origin.source == "replay" and acme.calls == 2


def test_errors_of_the_users_callback_are_not_recorded(face, acme, db):
    def callback(update):
        raise KeyError("my bug")

    with use_cassette(db, record_mode="new_episodes"), pytest.raises(KeyError):
        face.video(config(), request(), callback)
    with use_cassette(db, record_mode="none"), pytest.raises(RecordingNotFoundError):
        face.video(config(), request())


def test_matching_on_fewer_fields(face, acme, db):
    with use_cassette(db):
        face.video(config(), request("a cat", seed=1))
    narrow = dict(match_on=("kind", "provider", "model", "request.prompt"), record_mode="none")
    with use_cassette(db, **narrow):
        assert face.video(config(), request("a cat", seed=99)).request_id == "acme-1"
        with pytest.raises(RecordingNotFoundError, match="request.prompt: 'a dog' here, 'a cat' recorded"):
            face.video(config(), request("a dog", seed=1))


def test_keys_ignore_api_key_timeouts_mock_and_cassette_settings(face, acme, db):
    with use_cassette(db):
        face.video(config(api_key="sk-one-111111"), request())
    with use_cassette(db, record_mode="none") as cassette:
        face.video(config(api_key="sk-two-222222", timeout=30, poll_interval=1), request())
    assert cassette.replayed == 1


def test_images_round_trip_with_inline_data(face, acme, db):
    image_config = ImageGenerationConfig(provider=PROVIDER, model="img")
    with use_cassette(db, capture_media=False):
        live = face.image(image_config, ImageGenerationRequest(prompt="a logo"))
    with use_cassette(db, record_mode="none"):
        replayed = face.image(image_config, ImageGenerationRequest(prompt="a logo"))
    assert replayed.images == live.images
    with use_cassette(db, record_mode="none", media="content", allow_playback_repeats=True), \
            pytest.raises(CassetteError, match="not captured"):
        face.image(image_config, ImageGenerationRequest(prompt="a logo"))


def test_an_error_of_a_foreign_class_is_not_recorded_so_replay_misses_clearly(face, db):
    from tarash.tarash_gateway import register_provider, unregister_provider

    class QuotaExceeded(Exception):
        pass

    class Quota:
        def generate_video(self, config, request, on_progress=None):
            raise QuotaExceeded("monthly quota used up")

    register_provider("quota-test", Quota())
    try:
        cfg = config().model_copy(update={"provider": "quota-test"})
        with use_cassette(db) as recording, pytest.raises(QuotaExceeded):
            face.video(cfg, request())
        assert recording.recorded == 0
        with use_cassette(db, record_mode="none"), pytest.raises(RecordingNotFoundError):
            face.video(cfg, request())
    finally:
        unregister_provider("quota-test")
