"""Media capture: downloaded at record time, stored once by hash, replayed after the URL died."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.request import url2pathname

import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes.store import CHUNK, CassetteStore
from tarash.tarash_gateway.exceptions import CassetteError

from .conftest import config, request

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 5000  # ~1.3 MB, more than one chunk


def _path(file_url: str) -> Path:
    assert file_url.startswith("file://")
    return Path(url2pathname(file_url[len("file://"):]))


@pytest.fixture
def recorded(face, acme, db, media_server):
    media_server.files["/jobs/1/out.mp4"] = VIDEO
    acme.video = f"{media_server.url}/jobs/1/out.mp4?expires=1700000000"
    with use_cassette(db):
        face.video(config(), request("one"))
        face.video(config(), request("two"))  # same bytes: stored once
    media_server.stop()  # the provider's URL has expired
    return acme.video


def test_replay_returns_the_original_url_by_default(face, recorded, db, media_server):
    with use_cassette(db, record_mode="none"):
        assert face.video(config(), request("one")).video == recorded
    assert len(media_server.hits) == 2  # downloaded once per recording, while recording


def test_replay_as_a_local_file_after_the_url_expired(face, recorded, db, tmp_path):
    with use_cassette(db, record_mode="none", media="file", media_dir=tmp_path / "media"):
        first = face.video(config(), request("one")).video
        second = face.video(config(), request("two")).video
    assert first == second  # one file per content hash
    assert _path(first).read_bytes() == VIDEO and _path(first).suffix == ".mp4"
    assert _path(first).parent == (tmp_path / "media")


def test_media_dir_defaults_to_beside_the_cassette(face, recorded, db):
    with use_cassette(db, record_mode="none", media="file"):
        video = face.video(config(), request("one")).video
    assert _path(video).parent == db.with_name("run.media")


def test_replay_as_bytes(face, recorded, db):
    with use_cassette(db, record_mode="none", media="content"):
        video = face.video(config(), request("two")).video
    assert video == {"content": VIDEO, "content_type": "video/mp4"}


def test_equal_media_is_stored_once_as_raw_bytes(recorded, db):
    store = CassetteStore.open(db, create=False)
    try:
        assert [(b["size"]) for b in store.blobs()] == [len(VIDEO)]
        chunks = list(store.iter_blob(store.blobs()[0]["hash"]))
        assert len(chunks) == -(-len(VIDEO) // CHUNK) and b"".join(chunks) == VIDEO
    finally:
        store.close()


def test_file_urls_are_captured_too(face, acme, db, media_file, tmp_path):
    with use_cassette(db):
        face.video(config(), request())
    media_file.unlink()
    with use_cassette(db, record_mode="none", media="file", media_dir=tmp_path / "out"):
        assert _path(face.video(config(), request()).video).read_bytes().startswith(b"\x00\x00\x00\x18ftyp")


def test_a_failed_download_keeps_the_recording_and_says_so(face, acme, db, media_server, caplog):
    acme.video = f"{media_server.url}/missing.mp4"
    with caplog.at_level(logging.WARNING, logger="tarash.cassettes"), use_cassette(db):
        face.video(config(), request())
    assert "not captured" in caplog.text
    with use_cassette(db, record_mode="none", allow_playback_repeats=True):
        assert face.video(config(), request()).video == acme.video
        with use_cassette(db, record_mode="none", media="file"), pytest.raises(CassetteError, match="not captured"):
            face.video(config(), request())


def test_capture_can_be_turned_off(face, acme, db, media_server):
    media_server.files["/x.mp4"] = VIDEO
    acme.video = f"{media_server.url}/x.mp4"
    with use_cassette(db, capture_media=False):
        face.video(config(), request())
    assert media_server.hits == []


def test_image_urls_are_captured_and_replayed_as_data_uris(face, db, media_server):
    from tarash.tarash_gateway import register_provider, unregister_provider
    from tarash.tarash_gateway.models import (
        ImageGenerationConfig,
        ImageGenerationRequest,
        ImageGenerationResponse,
    )

    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    media_server.files["/a.png"] = png

    class Painter:
        def generate_image(self, config, request, on_progress=None):
            url = f"{media_server.url}/a.png"
            return ImageGenerationResponse(request_id="img-1", images=[url, url], content_type="image/png")

    register_provider("painter", Painter())
    image_config = ImageGenerationConfig(provider="painter", model="p1")
    try:
        with use_cassette(db):
            face.image(image_config, ImageGenerationRequest(prompt="a logo"))
    finally:
        unregister_provider("painter")
    media_server.stop()
    assert len(media_server.hits) == 1  # the same URL twice: downloaded once
    with use_cassette(db, record_mode="none", media="content"):
        images = face.image(image_config, ImageGenerationRequest(prompt="a logo")).images
    import base64

    assert images == ["data:image/png;base64," + base64.b64encode(png).decode()] * 2
