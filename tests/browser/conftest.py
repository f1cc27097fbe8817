"""Fixtures of the browser tests: a cassette recorded through the gateway (real PNG and MP4
bytes from the simulator, an error, progress timelines, raw HTTP interactions, one old
recording) and the browser serving it on 127.0.0.1."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tarash.tarash_gateway import generate_image, generate_video, instant_waits, use_cassette
from tarash.tarash_gateway.browser.server import BrowserServer
from tarash.tarash_gateway.cassettes import CassetteStore, close_cassettes
from tarash.tarash_gateway.cassettes.interop import import_vcr_pairs
from tarash.tarash_gateway.cassettes.persister import decode_interaction
from tarash.tarash_gateway.cassettes.store import BlobSource
from tarash.tarash_gateway.exceptions import GenerationFailedError
from tarash.tarash_gateway.models import (
    ImageGenerationConfig,
    ImageGenerationRequest,
    VideoGenerationConfig,
    VideoGenerationRequest,
)

#: Real Replicate traffic, committed (cassettes/README.md): the raw HTTP part of the test cassette.
REAL_RUN = Path(__file__).parents[2] / "cassettes" / "replicate-real" / "run.db"
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
#: A blob recorded as text/html: the browser must never serve it as a page.
HTML_BLOB = BlobSource.of(b"<html><script>alert(document.cookie)</script></html>", "text/html")


def real_pairs() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The committed real Replicate run's HTTP interactions, as vcrpy pairs."""
    source = CassetteStore.open(REAL_RUN, create=False)
    try:
        return [decode_interaction(source, row) for row in source.http_interactions()]
    finally:
        source.close()


def record(path: Path, sim: Any) -> None:
    video = VideoGenerationConfig(provider="fal", model="fal-ai/veo3.1", base_url=sim.base_url("fal"), api_key="k")
    image = ImageGenerationConfig(provider="openai", model="gpt-image-1", base_url=sim.base_url("openai"),
                                  api_key="k")
    with instant_waits(), use_cassette(path, capture_media=True):
        generate_video(video, VideoGenerationRequest(prompt="a cat playing piano"))
        generate_image(image, ImageGenerationRequest(prompt=HOSTILE))
        with pytest.raises(GenerationFailedError):
            generate_video(video, VideoGenerationRequest(prompt="a dog on a skateboard #sim:failed"))
        generate_video(video.model_copy(update={"model": "fal-ai/kling-video"}),
                       VideoGenerationRequest(prompt="an old lighthouse"))
    close_cassettes()


@pytest.fixture(scope="session")
def cassette(tmp_path_factory: pytest.TempPathFactory, simulator: Any) -> Path:
    """``run.db``: #1 video, #2 image, #3 error, #4 video recorded 40 days ago (and an edited
    media row); raw HTTP too."""
    path = tmp_path_factory.mktemp("browser") / "run.db"  # recorded once for every browser test
    record(path, simulator)
    store = CassetteStore.open(path, create=False)
    try:
        import_vcr_pairs(real_pairs(), store)
        store.put_blobs([HTML_BLOB])
        with store.transaction("backdating") as db:  # the recorder stamps time.time(): age one recording
            db.execute("UPDATE recordings SET recorded_ts = recorded_ts - 40 * 86400 WHERE id = 4")
            # an edited row: a media "hash" that is a path, which no page may point at
            db.execute("INSERT INTO media (recording_id, slot, url, hash, content_type) "
                       "VALUES (4, 'images/9', NULL, '../../run.db', 'image/png')")
            db.execute("INSERT INTO plays (recording_id, plays, run_at) VALUES (1, 3, '2026-11-30T10:00:00+00:00')")
    finally:
        store.close()
    return path


def file_state(path: Path) -> tuple[str, list[str]]:
    """The cassette's sha256 and the names beside it: what a read-only browser must not change."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in path.parent.iterdir())


@pytest.fixture(scope="session")
def server(cassette: Path) -> Iterator[BrowserServer]:
    before = file_state(cassette)
    with BrowserServer(cassette, port=0) as running:
        yield running
    assert file_state(cassette) == before, "serving the cassette changed its file or its directory"


@pytest.fixture(scope="session")
def blobs(cassette: Path) -> dict[str, dict[str, Any]]:
    """The cassette's media blobs by content type: ``{"video/mp4": {"hash", "data"}, ...}``."""
    conn = sqlite3.connect(f"file:{cassette}?immutable=1", uri=True)
    try:
        rows = conn.execute("SELECT b.hash, b.content_type, b.data FROM media m JOIN blobs b ON b.hash = m.hash")
        return {ct: {"hash": h, "data": data} for h, ct, data in rows}
    finally:
        conn.close()
