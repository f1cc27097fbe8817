"""Secrets never take part in matching: a replay with another secret, or none, finds the recording."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes.matching import canonical_json, identity, legacy_keys, request_key
from tarash.tarash_gateway.cassettes.scrub import REDACTED
from tarash.tarash_gateway.exceptions import RecordingNotFoundError

from .conftest import config, request

RECORDED = [
    {"auth": {"token": "t1-recorded-0001"}},
    {"access_token": "at-recorded-0002"},
    {"region": "eu", "headers": {"Authorization": ["Bearer hdr-recorded-0003"]}},
    {"AccountKey": "ak-recorded-0004", "region": "eu"},
]


def _replayed(provider_config: dict) -> list[dict]:
    """The same secrets with other values, and with none at all."""
    def other(value):
        if isinstance(value, dict):
            return {k: other(v) for k, v in value.items()}
        if isinstance(value, list):
            return [other(v) for v in value]
        return value.replace("recorded", "ci-other") if "recorded" in value else value

    bare = {k: v for k, v in provider_config.items() if k == "region"}
    return [other(provider_config), bare]


@pytest.mark.parametrize("recorded", RECORDED, ids=lambda c: next(iter(c)))
def test_a_replay_with_another_secret_or_none_finds_the_recording(face, acme, db, recorded):
    with use_cassette(db):
        live = face.video(config(provider_config=recorded), request())
    for provider_config in _replayed(recorded):
        with use_cassette(db, record_mode="none"):
            replayed = face.video(config(provider_config=provider_config), request())
        assert replayed.request_id == live.request_id
    assert acme.calls == 1


def test_the_stored_request_still_says_a_secret_was_sent(face, acme, db):
    with use_cassette(db):
        face.video(config(provider_config={"auth": {"token": "t1-recorded-0001"}, "region": "eu"}), request())
    with sqlite3.connect(db) as conn:
        stored = json.loads(conn.execute("SELECT request FROM recordings").fetchone()[0])
    conn.close()
    assert stored["provider_config"] == {"auth": {"token": REDACTED}, "region": "eu"}


def test_a_miss_never_lists_a_secret_as_a_difference(face, acme, db):
    with use_cassette(db):
        face.video(config(provider_config={"auth": {"token": "t1-recorded-0001"}, "region": "eu"}), request())
    with use_cassette(db, record_mode="none"), pytest.raises(RecordingNotFoundError) as caught:
        face.video(config(provider_config={"region": "us"}), request())
    message = str(caught.value)
    assert "provider_config.region: 'us' here, 'eu' recorded" in message
    assert "auth" not in message and REDACTED not in message


def test_identity_leaves_out_redacted_fields_and_dicts_that_held_only_them():
    canonical = {"kind": "video", "provider": "p", "model": "m", "api_version": None,
                 "provider_config": {"auth": {"token": REDACTED}, "headers": {"X-Key": [REDACTED, REDACTED]},
                                     "region": "eu", "opts": {}},
                 "request": {"prompt": "a cat", "extra_params": {"api_key": REDACTED, "seed": 3}}}
    assert identity(canonical)["provider_config"] == {"region": "eu", "opts": {}}
    assert identity(canonical)["request"] == {"prompt": "a cat", "extra_params": {"seed": 3}}
    bare = {**canonical, "provider_config": {"region": "eu", "opts": {}}, "request": {"prompt": "a cat",
                                                                                      "extra_params": {"seed": 3}}}
    assert request_key(canonical) == request_key(bare)
    assert request_key(canonical) != request_key({**bare, "request": {"prompt": "a dog"}})


def test_a_recording_keyed_before_secrets_left_matching_still_replays(face, acme, db):
    """Cassettes recorded by earlier versions keyed requests with their [REDACTED] fields."""
    with use_cassette(db):
        live = face.video(config(provider_config={"auth": {"token": "t1-recorded-0001"}}), request())
    with sqlite3.connect(db) as conn:  # re-key the row as earlier versions did
        recording_id, text = conn.execute("SELECT id, request FROM recordings").fetchone()
        old_key = hashlib.sha256(canonical_json(json.loads(text)).encode()).hexdigest()
        assert old_key != request_key(json.loads(text))
        conn.execute("UPDATE recordings SET key = ? WHERE id = ?", (old_key, recording_id))
    conn.close()
    assert legacy_keys([(recording_id, old_key, text)]) == {request_key(json.loads(text)): [recording_id]}
    for provider_config in ({"auth": {"token": "t1-recorded-0001"}}, {"auth": {"token": "other-0009"}}, {}):
        with use_cassette(db, record_mode="none"):
            assert face.video(config(provider_config=provider_config), request()).request_id == live.request_id
    with use_cassette(db, record_mode="none"), pytest.raises(RecordingNotFoundError, match="holds 1 recording"):
        face.video(config(provider_config={}), request())
        face.video(config(provider_config={}), request())  # a second call: one recording only
    assert acme.calls == 1
