"""Signed URLs at the HTTP level: the app gets the real URL while recording, and on replay
the same URL with a stand-in for its signature, which it can fetch and pass on."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes.stand_in import is_stand_in

from .provider_server import MEDIA, SIGNATURE

LOCAL = {"http_hosts": ("127.0.0.1",)}


def _signature(url: str) -> str:
    return parse_qs(urlsplit(url).query)["sig"][0]


def _chain(app_face, base: str) -> tuple[str, dict, bytes]:
    """Make an image, fetch it, then pass its URL to the next call (image to video)."""
    url = app_face.run(base, "a red fox", fetch_media=False)["result"]["images"][0]["url"]
    media = app_face.get(url).content
    submitted = app_face.post(f"{base}/fal-ai/flux/dev", {"prompt": "animate it", "image_url": url}).json()
    return url, submitted, media


def test_the_app_gets_the_real_url_recording_and_a_valid_stand_in_url_replaying_that_it_can_fetch_and_chain(
        app_face, server, db):
    with use_cassette(db, **LOCAL):
        recorded_url, recorded_submit, recorded_media = _chain(app_face, server.base)
    assert _signature(recorded_url) == SIGNATURE and recorded_media == MEDIA  # the provider checked the real one
    server.stop()
    with use_cassette(db, record_mode="none"):
        url, submitted, media = _chain(app_face, server.base)  # the image's URL, fetched and passed on: all replayed
    stand_in = _signature(url)
    assert url == recorded_url.replace(SIGNATURE, stand_in)
    assert is_stand_in(stand_in) and len(stand_in) == len(SIGNATURE) and "[" not in url
    assert media == MEDIA
    assert submitted == {**recorded_submit, "echo": "[REDACTED]"}  # the API key it echoed, as everywhere


def test_a_replayed_url_is_the_same_in_every_answer_and_every_replay(app_face, server, db):
    with use_cassette(db, **LOCAL):
        app_face.run(server.base, "a red fox", fetch_media=False)
    server.stop()
    urls = set()
    for _ in range(2):
        with use_cassette(db, record_mode="none"):
            urls.add(app_face.run(server.base, "a red fox", fetch_media=False)["result"]["images"][0]["url"])
    assert len(urls) == 1
    with open(db, "rb") as file:
        raw = file.read()
    assert SIGNATURE.encode() not in raw and _signature(urls.pop()).encode() in raw


def test_httpx_request_log_lines_name_urls_as_the_cassette_keeps_them(app_face, server, db, caplog):
    with caplog.at_level(logging.INFO, logger=app_face.module_name), use_cassette(db, **LOCAL):
        url = app_face.run(server.base, "a red fox")["result"]["images"][0]["url"]  # the app fetches it, and so
    lines = [r.getMessage() for r in caplog.records if r.name == app_face.module_name]  # does the media capture
    assert any("HTTP Request: GET" in line and "/files/" in line for line in lines), lines
    assert SIGNATURE not in caplog.text and _signature(url) == SIGNATURE  # the app still got the real URL
    with open(db, "rb") as file:
        raw = file.read()
    stand_ins = {_signature(line.split()[3]) for line in lines if "/files/" in line}
    assert len(stand_ins) == 1 and stand_ins.pop().encode() in raw
