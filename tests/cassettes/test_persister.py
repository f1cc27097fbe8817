"""SQLitePersister: vcrpy recording and replaying real httpx traffic into a SQLite cassette."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
import vcr
from vcr.persisters.filesystem import CassetteDecodeError, CassetteNotFoundError
from vcr.request import Request

from tarash.tarash_gateway.cassettes import SQLitePersister
from tarash.tarash_gateway.cassettes.persister import Persister

KEY, TOKEN = "qk-0123456789", "tok-abcdefghij"


@pytest.fixture
def api(media_server):
    media_server.files["/v1/predictions/abc"] = b'{"id": "abc", "status": "succeeded", "output": ["https://x/o.png"]}'
    return media_server


def _vcr(**options) -> vcr.VCR:
    my_vcr = vcr.VCR(match_on=("method", "path"), **options)
    my_vcr.register_persister(SQLitePersister)
    return my_vcr


def test_records_and_replays_httpx_traffic_offline(api, tmp_path):
    path = str(tmp_path / "http.db")
    url = f"{api.url}/v1/predictions/abc?api_key={KEY}"
    with _vcr().use_cassette(path):
        live = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    api.stop()
    with _vcr(record_mode="none").use_cassette(path) as cassette:
        replayed = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
        assert cassette.play_count == 1
    assert replayed.status_code == live.status_code == 200
    assert replayed.json() == live.json()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("http.db*"))
    assert KEY.encode() not in raw and TOKEN.encode() not in raw
    assert b'"status": "succeeded"' in raw


async def test_async_httpx_replays_too(api, tmp_path):
    path = str(tmp_path / "http.db")
    async with httpx.AsyncClient() as client:
        with _vcr().use_cassette(path):
            await client.get(f"{api.url}/v1/predictions/abc")
        api.stop()
        with _vcr(record_mode="none").use_cassette(path):
            assert (await client.get(f"{api.url}/v1/predictions/abc")).json()["id"] == "abc"


def test_saving_adds_only_new_interactions_and_keeps_other_writers(api, tmp_path):
    path = str(tmp_path / "http.db")
    with _vcr().use_cassette(path):
        httpx.get(f"{api.url}/v1/predictions/abc")
    with _vcr(record_mode="new_episodes").use_cassette(path):  # replays the first, records a second
        httpx.get(f"{api.url}/v1/predictions/abc")
        httpx.get(f"{api.url}/v1/predictions/missing")
    assert _interactions(path) == 2
    # two writers that loaded the same cassette each save it with their own new interaction:
    # vcrpy's YAML files keep the last writer's; both are kept here
    requests, responses = SQLitePersister.load_cassette(path, serializer=None)
    for extra in ("a", "b"):
        new = Request("GET", f"{api.url}/{extra}", None, {})
        response = {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": extra.encode()}}
        SQLitePersister.save_cassette(path, {"requests": [*requests, new], "responses": [*responses, response]}, None)
    assert _interactions(path) == 4


def _interactions(path: str) -> int:
    with sqlite3.connect(path) as conn:
        count = conn.execute("SELECT count(*) FROM http_interactions").fetchone()[0]
    conn.close()
    return count


def test_load_follows_vcrpys_contract(tmp_path):
    with pytest.raises(CassetteNotFoundError):
        SQLitePersister.load_cassette(tmp_path / "missing.db", serializer=None)
    (tmp_path / "empty.db").touch()
    with pytest.raises(CassetteNotFoundError):
        SQLitePersister.load_cassette(tmp_path / "empty.db", serializer=None)
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(CassetteDecodeError) as error:
        SQLitePersister.load_cassette(tmp_path / "junk.db", serializer=None)
    assert isinstance(error.value, ValueError) and "damaged" in str(error.value)


def test_it_satisfies_the_protocol():
    persister: type[Persister] = SQLitePersister  # type-checked; and at runtime:
    assert callable(persister.load_cassette) and callable(persister.save_cassette)


def test_subclasses_scrub_more(api, tmp_path):
    class Strict(SQLitePersister):
        secret_keys = ("x-tenant",)

    my_vcr = vcr.VCR(match_on=("path",))
    my_vcr.register_persister(Strict)
    with my_vcr.use_cassette(str(tmp_path / "http.db")):
        httpx.get(f"{api.url}/v1/predictions/abc", headers={"X-Tenant": "tenant-secret-77"})
    assert b"tenant-secret-77" not in b"".join(p.read_bytes() for p in tmp_path.glob("http.db*"))
