"""Property tests: a damaged or hostile cassette is replayed right or refused with a
CassetteError, never another exception, and nothing is written outside its own paths.

Each example starts from one good cassette (two responses with captured and inline media,
a recorded error, progress timelines), damages a copy, and replays every recording in
every media mode, then verifies the file.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tarash.tarash_gateway import generate_video, use_cassette
from tarash.tarash_gateway.cassettes.maintenance import verify
from tarash.tarash_gateway.cassettes.store import CassetteStore
from tarash.tarash_gateway.exceptions import CassetteError, GenerationFailedError

from .conftest import config, request

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 300
PROMPTS = ("one", "two", "fail here")
SETTINGS = settings(max_examples=int(os.environ.get("TARASH_HYPOTHESIS_EXAMPLES", "40")), deadline=None, derandomize="TARASH_HYPOTHESIS_EXAMPLES" not in os.environ, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def good() -> Iterator[Path]:
    """The good cassette every example damages a copy of."""
    from tarash.tarash_gateway import InstantClock, register_provider, unregister_provider, use_clock

    from .conftest import PROVIDER, AcmeHandler, MediaServer

    directory = Path(tempfile.mkdtemp(prefix="tarash-good-"))
    server = MediaServer()
    server.files["/out.mp4"] = VIDEO
    handler = AcmeHandler(f"{server.url}/out.mp4")
    register_provider(PROVIDER, handler)
    try:
        with use_clock(InstantClock()), use_cassette(directory / "good.db"):
            generate_video(config(), request("one"))
            handler.video = {"content": VIDEO[::-1], "content_type": "video/mp4"}
            generate_video(config(), request("two"))
            with pytest.raises(GenerationFailedError):
                generate_video(config(), request("fail here"))
        yield directory / "good.db"
    finally:
        unregister_provider(PROVIDER)
        server.stop()
        shutil.rmtree(directory)


def _replay_everything(db: Path, media_dir: Path) -> None:
    """Every recording, every media mode: right, or a CassetteError."""
    for mode in ("url", "content", "file"):
        for prompt in PROMPTS:
            try:
                with use_cassette(db, record_mode="none", media=mode, media_dir=media_dir):
                    response = generate_video(config(), request(prompt))
            except (CassetteError, GenerationFailedError):
                continue  # refused, or the recorded error replayed
            video = response.video
            if mode == "content" and isinstance(video, dict):
                assert video["content"] in (VIDEO, VIDEO[::-1])
            elif mode == "file" and isinstance(video, str) and video.startswith("file://"):
                assert Path(video[len("file://"):]).read_bytes() in (VIDEO, VIDEO[::-1])
    try:
        store = CassetteStore.open(db, create=False)
    except CassetteError:
        return
    try:
        verify(store)
        store.recordings()
    except CassetteError:
        pass
    finally:
        store.close()


def _check(good: Path, damage) -> None:  # noqa: ANN001 - a callable of the copy
    work = Path(tempfile.mkdtemp(prefix="tarash-damaged-"))
    try:
        db = work / "run.db"
        shutil.copy(good, db)
        damage(db)
        media_dir = work / "media"
        _replay_everything(db, media_dir)
        outside = {p.name for p in work.iterdir()} - {"run.db", "media", "run.db-wal", "run.db-shm", "run.db-journal"}
        assert not outside, outside
        if media_dir.exists():
            assert all(p.parent == media_dir and p.suffix in (".mp4", ".bin") for p in media_dir.rglob("*"))
    finally:
        shutil.rmtree(work)


@SETTINGS
@given(flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=8))
def test_byte_flips_anywhere_in_the_file(good, flips):
    def damage(db: Path) -> None:
        data = bytearray(db.read_bytes())
        for where, mask in flips:
            data[int(where * len(data))] ^= mask
        db.write_bytes(bytes(data))

    _check(good, damage)


@SETTINGS
@given(keep=st.floats(0, 1, exclude_max=True))
def test_truncation_anywhere_in_the_file(good, keep):
    _check(good, lambda db: db.write_bytes(db.read_bytes()[: int(keep * db.stat().st_size)]))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
COLUMNS = ("response", "error", "timeline", "request", "outcome", "duration")


@SETTINGS
@given(column=st.sampled_from(COLUMNS), value=JSON | st.text(max_size=40), raw=st.booleans(),
       row=st.integers(1, 3))
def test_edited_recording_columns(good, column, value, raw, row):
    def damage(db: Path) -> None:
        conn = sqlite3.connect(db)
        stored = value if raw and isinstance(value, str) else json.dumps(value)
        conn.execute(f"UPDATE recordings SET {column} = ? WHERE id = ?", (stored, row))
        conn.commit()
        conn.close()

    _check(good, damage)


@SETTINGS
@given(path=st.sampled_from(["$.video", "$.video.$blob", "$.video.content_type", "$.video.form", "$.raw_response",
                             "$.duration", "$.request_id"]),
       value=JSON | st.sampled_from(["../../conftest", "/tmp/x", "..", "a" * 64, "f" * 64 + "/..", "\x00"]))
def test_edited_response_fields(good, path, value):
    def damage(db: Path) -> None:
        conn = sqlite3.connect(db)
        conn.execute("UPDATE recordings SET response = json_set(response, ?, json(?)) WHERE response IS NOT NULL",
                     (path, json.dumps(value)))
        conn.commit()
        conn.close()

    _check(good, damage)


@SETTINGS
@given(column=st.sampled_from(["hash", "content_type", "url", "slot"]),
       value=st.sampled_from(["../../conftest", "/etc/passwd", "..", "", "A" * 64, "a" * 64]) | st.text(max_size=70),
       blob_column=st.sampled_from(["hash", "size", "content_type", None]))
def test_hostile_media_and_blob_rows(good, column, value, blob_column):
    def damage(db: Path) -> None:
        conn = sqlite3.connect(db)
        conn.execute(f"UPDATE media SET {column} = ?", (value,))
        if blob_column == "size":
            conn.execute("UPDATE blobs SET size = size + 1")
        elif blob_column is not None:
            conn.execute(f"UPDATE blobs SET {blob_column} = ? WHERE rowid = 1", (value,))
        conn.commit()
        conn.close()

    _check(good, damage)
