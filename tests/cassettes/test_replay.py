"""MockResponse(replay=...): a replayed recording as one weighted outcome of the mock."""

from __future__ import annotations

import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.exceptions import (
    GenerationFailedError,
    RecordingNotFoundError,
)
from tarash.tarash_gateway.mock import MockConfig, MockResponse

from .conftest import PROVIDER, config, request


def mocked(db, *others, seed=3):
    return config(mock=MockConfig(seed=seed, responses=[MockResponse(weight=1, replay=str(db)), *others]))


def test_a_replayed_recording_is_one_weighted_outcome(face, acme, db):
    with use_cassette(db):
        recorded = face.video(config(), request())
    config_ = mocked(db, MockResponse(weight=1, video_url="https://cdn.example/other.mp4"))
    sources = []
    for _ in range(30):
        response = face.video(config_, request())
        sources.append(response.origin.source)
        if response.origin.source == "replay":
            assert response.request_id == recorded.request_id and response.video == recorded.video
            assert response.origin.cassette == str(db) and response.origin.outcome == 0
            assert response.origin.seed == 3
    assert {"replay", "mock"} == set(sources)  # both outcomes drawn, the recording replayed every time
    assert acme.calls == 1


def test_the_progress_timeline_is_replayed_too(face, acme, db):
    with use_cassette(db):
        live = []
        face.video(config(), request(), live.append)
    replayed = []
    face.video(mocked(db), request(), replayed.append)
    assert [u.status for u in replayed] == [u.status for u in live] == ["queued", "processing"]


def test_a_replayed_recorded_error_is_raised(face, acme, db):
    with use_cassette(db), pytest.raises(GenerationFailedError):
        face.video(config(), request("fail here"))
    with pytest.raises(GenerationFailedError, match="the job failed on the GPU") as error:
        face.video(mocked(db), request("fail here"))
    assert error.value.raw_response == {"status": "failed", "n": 1}
    assert error.value.origin.source == "replay"


def test_a_call_the_cassette_does_not_hold_names_the_nearest(face, acme, db):
    with use_cassette(db):
        face.video(config(), request("a cat"))
    with pytest.raises(RecordingNotFoundError, match="request.prompt: 'a dog' here, 'a cat' recorded"):
        face.video(mocked(db), request("a dog"))


def test_a_missing_cassette_is_named(face, acme, tmp_path):
    with pytest.raises(RecordingNotFoundError, match="missing.db does not exist"):
        face.video(mocked(tmp_path / "missing.db"), request())
    assert PROVIDER == "acme-test"


@pytest.mark.parametrize(
    "column, damage",
    [("response", '{"request_id": "r", "video'), ("response", '{"request_id": 3, "status": "exploded"}'),
     ("timeline", "[[0.0, {")],
)
def test_a_recording_that_cannot_be_decoded_is_a_clear_cassette_error(face, acme, db, column, damage):
    import sqlite3

    from tarash.tarash_gateway.cassettes import close_cassettes
    from tarash.tarash_gateway.exceptions import CassetteError

    with use_cassette(db):
        face.video(config(), request(), lambda u: None)
    close_cassettes()
    with sqlite3.connect(db) as connection:
        connection.execute(f"update recordings set {column} = ?", (damage,))
    connection.close()
    with use_cassette(db, record_mode="none"), pytest.raises(CassetteError, match=r"recording #\d+ of cassette .* cannot be read"):
        face.video(config(), request(), lambda u: None)
