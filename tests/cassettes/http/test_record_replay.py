"""Record a provider's job flow made by plain httpx clients, then replay it offline."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes import CassetteStore
from tarash.tarash_gateway.cassettes.stand_in import is_stand_in
from tarash.tarash_gateway.exceptions import RecordingNotFoundError

from .provider_server import API_KEY, MEDIA, POLLS, SIGNATURE, ProviderServer

LOCAL = {"http_hosts": ("127.0.0.1",)}


def _scrubbed(outcome: dict, replayed: dict) -> dict:
    """What a replay gives back: the recorded answers with the API key the provider echoed
    redacted, and the media URL's signature replaced by a stand-in of its shape."""
    signature = parse_qs(urlsplit(replayed["result"]["images"][0]["url"]).query)["sig"][0]
    assert is_stand_in(signature) and len(signature) == len(SIGNATURE) and signature != SIGNATURE
    text = json.dumps(outcome).replace(API_KEY, "[REDACTED]").replace(SIGNATURE, signature)
    return {**json.loads(text), "polls": 1}


def test_a_job_flow_recorded_with_plain_clients_replays_offline_with_the_same_answers(app_face, server, db):
    with use_cassette(db, **LOCAL):
        recorded = app_face.run(server.base)
    assert recorded["polls"] == POLLS and bytes.fromhex(recorded["media"]) == MEDIA
    server.stop()
    with use_cassette(db, record_mode="none"):
        replayed = app_face.run(server.base)
    assert replayed == _scrubbed(recorded, replayed)
    assert replayed["status"] == 200 and bytes.fromhex(replayed["media"]) == MEDIA


@pytest.mark.parametrize("collapse, polls", [(True, 1), (False, POLLS)])
def test_polls_collapse_to_the_terminal_answer_unless_collapse_polls_is_off(app_face, server, db, collapse, polls):
    with use_cassette(db, **LOCAL):
        app_face.run(server.base, fetch_media=False)
    server.stop()
    with use_cassette(db, record_mode="none", collapse_polls=collapse):
        assert app_face.run(server.base, fetch_media=False)["polls"] == polls


def test_record_mode_none_never_touches_the_network(app_face, server, db):
    with use_cassette(db, record_mode="none", **LOCAL), pytest.raises(RecordingNotFoundError, match="does not exist"):
        app_face.run(server.base)
    assert not server.hits and not db.exists()


def test_a_miss_names_the_nearest_recorded_request_and_what_differs(app_face, server, db):
    with use_cassette(db, **LOCAL):
        app_face.run(server.base, "a red fox", fetch_media=False)
    with use_cassette(db, record_mode="none"), pytest.raises(RecordingNotFoundError) as caught:
        app_face.run(server.base, "a blue fox", fetch_media=False)
    message = str(caught.value)
    assert "POST http://127.0.0.1/fal-ai/flux/dev" in message
    assert "body.prompt: 'a blue fox' here, 'a red fox' recorded" in message
    assert server.hits["POST /fal-ai/flux/dev"] == 1


def test_media_is_captured_beside_the_app_and_served_after_the_server_is_gone(app_face, server, db):
    with use_cassette(db, **LOCAL):
        recorded = app_face.run(server.base, fetch_media=False)  # the app never downloads it
    assert server.hits[f"GET /files/{recorded['submit']['request_id']}.png"] == 1  # the capture did, before the exit
    server.stop()
    with use_cassette(db, record_mode="none"):
        url = app_face.run(server.base, fetch_media=False)["result"]["images"][0]["url"]
        first, again = app_face.get(url), app_face.get(url)
    assert "[" not in url and is_stand_in(parse_qs(urlsplit(url).query)["sig"][0])
    assert first.status_code == 200 and first.content == MEDIA and again.content == MEDIA
    assert first.headers["content-type"] == "image/png"


def test_a_failed_media_download_is_a_warning_and_the_recording_is_kept(app_face, db, caplog):
    with ProviderServer() as server:
        server.media_status = 500
        with use_cassette(db, **LOCAL), caplog.at_level(logging.WARNING, "tarash.cassettes"):
            app_face.run(server.base, fetch_media=False)
    assert "was not captured: HTTP 500" in caplog.text
    with use_cassette(db, record_mode="none"):
        assert app_face.run(server.base, fetch_media=False)["polls"] == 1


def test_secrets_are_absent_from_the_file_and_its_write_ahead_log(app_face, server, db):
    with use_cassette(db, **LOCAL):
        app_face.run(server.base)
        during = [p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name)]
    after = [p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name)]
    assert len(during) >= 2  # the -wal file held the writes
    for raw in during + after:
        assert API_KEY.encode() not in raw and SIGNATURE.encode() not in raw
    assert any(b"[REDACTED]" in raw for raw in during)


def test_repeated_identical_requests_replay_in_recorded_order_and_then_miss(app_face, server, db):
    with use_cassette(db, **LOCAL):
        recorded = [app_face.get(f"{server.base}/v1/counter").json()["n"] for _ in range(3)]
    assert recorded == [1, 2, 3]
    server.stop()
    with use_cassette(db, record_mode="none"):
        assert [app_face.get(f"{server.base}/v1/counter").json()["n"] for _ in range(3)] == recorded
        with pytest.raises(RecordingNotFoundError, match="holds 3 recording"):
            app_face.get(f"{server.base}/v1/counter")
    with use_cassette(db, record_mode="none", allow_playback_repeats=True):
        assert [app_face.get(f"{server.base}/v1/counter").json()["n"] for _ in range(4)] == [1, 2, 3, 3]


def test_once_records_a_new_cassette_then_only_replays_it(app_face, server, db):
    with use_cassette(db, **LOCAL):
        app_face.run(server.base, fetch_media=False)
    hits = sum(server.hits.values())
    with use_cassette(db, **LOCAL):  # once, existing: replay, nothing sent
        app_face.run(server.base, fetch_media=False)
        with pytest.raises(RecordingNotFoundError):
            app_face.run(server.base, "another prompt", fetch_media=False)
    assert sum(server.hits.values()) == hits


def test_new_episodes_records_what_the_cassette_lacks_and_all_records_again(app_face, server, db):
    with use_cassette(db, **LOCAL):
        app_face.run(server.base, "one", fetch_media=False)
    with use_cassette(db, record_mode="new_episodes", **LOCAL):
        app_face.run(server.base, "one", fetch_media=False)
        app_face.run(server.base, "two", fetch_media=False)
    assert server.hits["POST /fal-ai/flux/dev"] == 2
    store = CassetteStore.open(db, create=False)
    before = store.count_exchanges()
    with use_cassette(db, record_mode="all", **LOCAL):
        app_face.run(server.base, "one", fetch_media=False)
    assert server.hits["POST /fal-ai/flux/dev"] == 3
    assert store.count_exchanges() <= before + 1  # the old recordings of those requests were replaced
    store.close()


def test_traffic_to_hosts_out_of_scope_passes_through_untouched(app_face, server, db):
    with use_cassette(db):  # http="providers": 127.0.0.1 is not a provider host
        assert app_face.get(f"{server.base}/v1/counter").json()["n"] == 1
    with use_cassette(db, http="off", record_mode="none"):
        assert app_face.get(f"{server.base}/v1/counter").json()["n"] == 2
    assert not db.exists()  # nothing to record: no file either


def test_http_all_records_every_host(app_face, server, db):
    with use_cassette(db, http="all"):
        app_face.get(f"{server.base}/v1/counter")
    server.stop()
    with use_cassette(db, record_mode="none"):  # the hosts the cassette holds are replayed
        assert app_face.get(f"{server.base}/v1/counter").json() == {"n": 1}
