"""The PostgreSQL store behind `use_cassette(URL)`: same semantics as the file, on a real server."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.request import url2pathname

import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes.pg_store import PgCassetteStore, parse_url
from tarash.tarash_gateway.cassettes.protocol import Store, media_dir_for, open_store
from tarash.tarash_gateway.cassettes.store import CHUNK, BlobSource
from tarash.tarash_gateway.exceptions import CassetteError, RecordingNotFoundError

from ..conftest import config, request
from .conftest import PASSWORD

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 9000  # ~2.3 MB: three chunks


_opened: list[Store] = []


@pytest.fixture(autouse=True)
def _close_stores():
    yield
    while _opened:
        _opened.pop().close()


def _store(url: str, *, create: bool = False) -> PgCassetteStore:
    store = PgCassetteStore.open(url, create=create)
    assert store is not None
    _opened.append(store)
    return store


def test_record_then_replay_through_a_url(face, acme, pg_url):
    with use_cassette(pg_url):
        recorded = face.video(config(), request("a cat"))
    calls = acme.calls
    with use_cassette(pg_url, record_mode="none"):
        replayed = face.video(config(), request("a cat"))
    assert acme.calls == calls
    assert replayed.request_id == recorded.request_id and replayed.origin.source == "replay"


def test_repeated_requests_replay_in_recorded_order(face, acme, pg_url):
    with use_cassette(pg_url):
        ids = [face.video(config(), request("same")).request_id for _ in range(3)]
    with use_cassette(pg_url, record_mode="none"):
        assert [face.video(config(), request("same")).request_id for _ in range(3)] == ids
    store = _store(pg_url)
    assert sorted(r["seq"] for r in store.recordings()) == [1, 2, 3]


def test_record_mode_none_refuses_a_missing_cassette_and_creates_nothing(face, acme, pg_server):
    name = f"absent-{uuid.uuid4().hex[:8]}"
    with pytest.raises(RecordingNotFoundError), use_cassette(pg_server.url(name), record_mode="none"):
        face.video(config(), request("x"))
    assert PgCassetteStore.open(pg_server.url(name), create=False) is None
    assert acme.calls == 0


def test_record_mode_once_replays_a_cassette_that_holds_recordings(face, acme, pg_url):
    with use_cassette(pg_url, record_mode="once"):
        face.video(config(), request("first"))
    with pytest.raises(RecordingNotFoundError), use_cassette(pg_url, record_mode="once"):
        face.video(config(), request("new one"))


def test_record_mode_all_records_afresh(face, acme, pg_url):
    with use_cassette(pg_url):
        face.video(config(), request("again"))
    with use_cassette(pg_url, record_mode="all"):
        fresh = face.video(config(), request("again")).request_id
    rows = _store(pg_url).recordings()
    assert [(r["seq"], r["response"].count(fresh) > 0) for r in rows] == [(1, True)]


def test_media_is_captured_once_by_hash_and_replayed_verified(face, acme, pg_url, media_server, tmp_path):
    media_server.files["/out.mp4"] = VIDEO
    acme.video = f"{media_server.url}/out.mp4?expires=1"
    with use_cassette(pg_url):
        face.video(config(), request("one"))
        face.video(config(), request("two"))  # same bytes: one blob
    media_server.stop()
    with use_cassette(pg_url, record_mode="none", media="content"):
        assert face.video(config(), request("two")).video == {"content": VIDEO, "content_type": "video/mp4"}
    with use_cassette(pg_url, record_mode="none", media="file", media_dir=tmp_path / "m"):
        file_url = face.video(config(), request("one")).video
    assert Path(url2pathname(file_url[len("file://"):])).read_bytes() == VIDEO
    store = _store(pg_url)
    hashes = {m["hash"] for r in store.recordings() for m in store.media(r["id"]).values()}
    assert len(hashes) == 1
    assert store.blob_info(hashes.pop())["chunks"] == -(-len(VIDEO) // CHUNK)


def test_a_blob_damaged_in_the_database_is_refused(pg_server, pg_url):
    store = _store(pg_url, create=True)
    blob = BlobSource.of(VIDEO + uuid.uuid4().bytes, "video/mp4")  # blobs are shared by hash: damage only ours
    store.put_blobs([blob])
    with pg_server.admin("tarash") as conn:
        conn.execute("UPDATE blob_chunks SET data = 'x' WHERE hash = %s AND n = 2", (blob.hash,))
    with pytest.raises(CassetteError, match="does not hold the bytes its hash says"):
        store.read_blob(blob.hash)


def test_a_blob_streamed_from_a_file_is_stored_in_chunks(pg_url, tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(VIDEO)
    store = _store(pg_url, create=True)
    digest = BlobSource.of(VIDEO).hash
    with source.open("rb") as handle:
        store.put_blobs([BlobSource(digest, len(VIDEO), "video/mp4", file=handle)])
    chunks = list(store.iter_blob(digest))
    assert max(len(c) for c in chunks) <= CHUNK and b"".join(chunks) == VIDEO


def test_cassettes_in_one_database_are_separate(face, acme, pg_server):
    a, b = pg_server.url(f"a-{uuid.uuid4().hex[:8]}"), pg_server.url(f"b-{uuid.uuid4().hex[:8]}")
    with use_cassette(a):
        face.video(config(), request("only in a"))
    with pytest.raises(RecordingNotFoundError), use_cassette(b, record_mode="none"):
        face.video(config(), request("only in a"))


def test_the_url_password_is_never_stored_or_shown(face, acme, pg_server, pg_url):
    with use_cassette(pg_url):
        face.video(config(), request("secretless"))
    store = _store(pg_url)
    assert PASSWORD not in store.path
    with pg_server.admin("tarash") as conn:
        dump = "".join(str(row) for table in ("cassettes", "recordings", "media")
                       for row in conn.execute(f"SELECT * FROM {table}"))  # noqa: S608 - our table names
    assert PASSWORD not in dump


def test_misses_and_origins_name_the_cassette_without_its_password(face, acme, pg_url):
    with use_cassette(pg_url):
        face.video(config(), request("recorded"))
    with use_cassette(pg_url, record_mode="none"):
        replayed = face.video(config(), request("recorded"))
        with pytest.raises(RecordingNotFoundError) as missed:
            face.video(config(), request("never recorded"))
    assert replayed.origin.cassette == pg_url.replace(f":{PASSWORD}@", "@")
    assert PASSWORD not in str(missed.value) and "127.0.0.1" in str(missed.value)


def test_the_pg_store_and_the_file_store_implement_one_protocol(pg_url, tmp_path):
    pg = open_store(pg_url, create=True)
    file = open_store(str(tmp_path / "x.db"), create=True)
    _opened.extend(s for s in (pg, file) if s is not None)
    assert isinstance(pg, Store) and isinstance(file, Store)


def test_media_of_a_url_cassette_default_to_a_directory_named_by_the_cassette(pg_url):
    assert media_dir_for(pg_url) == Path.cwd() / "tarash-media" / parse_url(pg_url).cassette


def test_a_url_without_a_cassette_name_says_how_to_name_one():
    with pytest.raises(CassetteError, match=r"add \?cassette=NAME"):
        parse_url("postgresql://u:pw@127.0.0.1:5432/db")


def test_bad_credentials_are_a_clear_error_without_the_password(pg_server):
    with pytest.raises(CassetteError, match="refused the credentials") as caught:
        PgCassetteStore.open(pg_server.url("x", password="wrong-password"), create=True)
    assert "wrong-password" not in str(caught.value)


def test_a_missing_database_is_a_clear_error(pg_server):
    with pytest.raises(CassetteError, match="database does not exist"):
        PgCassetteStore.open(pg_server.url("x", database="nosuchdb"), create=True)


def test_an_unreachable_server_is_a_clear_error():
    with pytest.raises(CassetteError, match="cannot be reached"):
        PgCassetteStore.open("postgresql://u:pw@127.0.0.1:9/db?cassette=x&connect_timeout=2", create=True)


def test_a_newer_schema_is_refused(pg_server):
    with pg_server.admin() as conn:
        conn.execute("CREATE DATABASE newer")
    url = pg_server.url("x", database="newer")
    _store(url, create=True)
    with pg_server.admin("newer") as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(CassetteError, match="schema version 99, newer than"):
        PgCassetteStore.open(url, create=False)


def test_foreign_tables_with_our_names_are_refused(pg_server):
    with pg_server.admin() as conn:
        conn.execute("CREATE DATABASE foreign_app")
    with pg_server.admin("foreign_app") as conn:
        conn.execute("CREATE TABLE recordings (id int)")
    with pytest.raises(CassetteError, match="not a tarash cassette store"):
        PgCassetteStore.open(pg_server.url("x", database="foreign_app"), create=True)


def test_importing_the_package_loads_no_postgresql_driver():
    import subprocess
    import sys

    code = "import sys, tarash.tarash_gateway; print('psycopg' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() \
        == "False"
