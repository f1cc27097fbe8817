"""The HTTP level on a PostgreSQL cassette: raw traffic of plain httpx clients recorded
into the server and replayed from it, with the file's semantics, on both faces."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner

from tarash.tarash_gateway import generate_video, use_cassette
from tarash.tarash_gateway.cassettes import AsyncCassetteTransport, CassetteStore, CassetteTransport
from tarash.tarash_gateway.cassettes.pg_store import PgCassetteStore
from tarash.tarash_gateway.cassettes.stand_in import is_stand_in
from tarash.tarash_gateway.cassettes.store import BlobSource
from tarash.tarash_gateway.cli import main
from tarash.tarash_gateway.cli.output import plural
from tarash.tarash_gateway.exceptions import RecordingNotFoundError

from ..conftest import config, request
from ..http.conftest import AppFace
from ..http.provider_server import API_KEY, MEDIA, POLLS, SIGNATURE, ProviderServer
from .conftest import PASSWORD

LOCAL = {"http_hosts": ("127.0.0.1",)}
APP = os.path.join(os.path.dirname(__file__), "..", "http", "app.py")


@pytest.fixture(params=["sync", "async"])
def app_face(request: pytest.FixtureRequest) -> AppFace:
    return AppFace(request.param, "httpx")


@pytest.fixture
def server():
    with ProviderServer() as running:
        yield running


def _store(url: str) -> PgCassetteStore:
    store = PgCassetteStore.open(url, create=False)
    assert store is not None
    return store


def _scrubbed(outcome: dict, replayed: dict) -> dict:
    """The recorded outcome as a replay gives it: the echoed key redacted, the media URL's
    signature replaced by a stand-in of its shape (the same in every store)."""
    signature = parse_qs(urlsplit(replayed["result"]["images"][0]["url"]).query)["sig"][0]
    assert is_stand_in(signature) and len(signature) == len(SIGNATURE)
    text = json.dumps(outcome).replace(API_KEY, "[REDACTED]").replace(SIGNATURE, signature)
    return {**json.loads(text), "polls": 1}


def test_a_job_flow_recorded_into_postgresql_replays_with_the_provider_gone(app_face, server, pg_url):
    with use_cassette(pg_url, **LOCAL):
        recorded = app_face.run(server.base)
    assert recorded["polls"] == POLLS
    server.stop()
    with use_cassette(pg_url, record_mode="none"):
        replayed = app_face.run(server.base)
    assert replayed == _scrubbed(recorded, replayed)  # polls collapsed to the terminal answer
    assert bytes.fromhex(replayed["media"]) == MEDIA
    with use_cassette(pg_url, record_mode="none", collapse_polls=False):
        assert app_face.run(server.base, fetch_media=False)["polls"] == POLLS


def test_media_is_captured_by_hash_and_served_after_the_provider_is_gone(app_face, server, pg_url):
    with use_cassette(pg_url, **LOCAL):
        recorded = app_face.run(server.base, fetch_media=False)  # the capture downloads it, not the app
    assert server.hits[f"GET /files/{recorded['submit']['request_id']}.png"] == 1
    server.stop()
    with use_cassette(pg_url, record_mode="none"):
        url = app_face.run(server.base, fetch_media=False)["result"]["images"][0]["url"]
        first, again = app_face.get(url), app_face.get(url)
    assert first.status_code == 200 and first.content == MEDIA and again.content == MEDIA
    assert first.headers["content-type"] == "image/png"


def test_secrets_never_reach_the_database(app_face, server, pg_server, pg_url):
    with use_cassette(pg_url, **LOCAL):
        app_face.run(server.base)
    with pg_server.admin("tarash") as conn:
        rows = conn.execute("SELECT url, request, headers FROM http_exchanges").fetchall()
        chunks = [bytes(r[0]) for r in conn.execute("SELECT data FROM blob_chunks").fetchall()]
    text = json.dumps(rows)
    signatures = [parse_qs(urlsplit(r[0]).query)["sig"][0] for r in rows if "sig=" in r[0]]
    assert rows and signatures and all(is_stand_in(s) for s in signatures)  # the media URL, its signature a stand-in
    for secret in (API_KEY, SIGNATURE, PASSWORD):
        assert secret not in text and all(secret.encode() not in c for c in chunks)


def test_repeated_requests_replay_in_recorded_order_and_then_miss(app_face, server, pg_url):
    with use_cassette(pg_url, **LOCAL):
        recorded = [app_face.get(f"{server.base}/v1/counter").json()["n"] for _ in range(3)]
    server.stop()
    with use_cassette(pg_url, record_mode="none"):
        assert [app_face.get(f"{server.base}/v1/counter").json()["n"] for _ in range(3)] == recorded == [1, 2, 3]
        with pytest.raises(RecordingNotFoundError, match="holds 3 recording"):
            app_face.get(f"{server.base}/v1/counter")
    with use_cassette(pg_url, record_mode="none", allow_playback_repeats=True):
        assert [app_face.get(f"{server.base}/v1/counter").json()["n"] for _ in range(4)] == [1, 2, 3, 3]


def test_a_miss_names_the_nearest_recorded_request_without_the_password(app_face, server, pg_url):
    with use_cassette(pg_url, **LOCAL):
        app_face.run(server.base, "a red fox", fetch_media=False)
    with use_cassette(pg_url, record_mode="none"), pytest.raises(RecordingNotFoundError) as caught:
        app_face.run(server.base, "a blue fox", fetch_media=False)
    message = str(caught.value)
    assert "body.prompt: 'a blue fox' here, 'a red fox' recorded" in message
    assert PASSWORD not in message and "cassette=" in message


def test_record_mode_all_replaces_what_an_earlier_run_recorded(app_face, server, pg_url):
    with use_cassette(pg_url, **LOCAL):
        app_face.run(server.base, "one", fetch_media=False)
    store = _store(pg_url)
    try:
        first = {r["id"] for r in store.exchanges() if r["role"] != "media"}  # captured media is kept
        with use_cassette(pg_url, record_mode="all", **LOCAL):
            app_face.run(server.base, "one", fetch_media=False)
        assert server.hits["POST /fal-ai/flux/dev"] == 2
        again = [r for r in store.exchanges() if r["role"] != "media"]
        assert first and again and not first & {r["id"] for r in again}  # the old exchanges gave way to the new
        assert [r["seq"] for r in again if r["method"] == "POST"] == [1]
    finally:
        store.close()


@pytest.mark.parametrize("face", ["sync", "async"])
def test_a_cassette_transport_on_a_url_records_and_replays_with_no_block(face, pg_url):
    def counter(**options):
        if face == "sync":
            with httpx.Client(transport=CassetteTransport(pg_url, **options)) as client:
                return [client.get(f"{base}/v1/counter").json()["n"] for _ in range(3)]

        async def run():
            async with httpx.AsyncClient(transport=AsyncCassetteTransport(pg_url, **options)) as client:
                return [(await client.get(f"{base}/v1/counter")).json()["n"] for _ in range(3)]

        return asyncio.run(run())

    with ProviderServer() as provider:
        base = provider.base
        assert counter() == [1, 2, 3]
    assert counter(record_mode="none") == [1, 2, 3]


def test_an_app_that_never_imports_tarash_records_into_postgresql_through_the_environment(pg_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARASH_")}
    env.update(HOME=str(tmp_path), TARASH_CASSETTE=pg_url, TARASH_CASSETTE_HTTP_HOSTS="127.0.0.1")

    def run(**extra: str) -> dict:
        done = subprocess.run([sys.executable, APP, base, "a red fox"], env={**env, **extra}, capture_output=True,
                              text=True, timeout=60, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    with ProviderServer() as provider:
        base = provider.base
        recorded = run()
    replayed = run(TARASH_RECORD_MODE="none")
    assert recorded["polls"] == POLLS and replayed["polls"] == 1
    assert bytes.fromhex(replayed["media"]) == MEDIA and replayed["result"]["seed"] == recorded["result"]["seed"]


def test_a_big_answer_streams_from_its_chunks_and_small_ones_come_with_the_lookup(pg_url, tmp_path):
    store = PgCassetteStore.open(pg_url, create=True)
    assert store is not None
    try:
        big = bytes(range(256)) * 10_000  # 2.5 MB: three chunks
        spool = tmp_path / "body"
        spool.write_bytes(big)
        with spool.open("rb") as handle:
            blob = BlobSource(BlobSource.of(big).hash, len(big), "video/mp4", file=handle)
            row = {"key": "k" * 64, "method": "GET", "url": "https://cdn.test/v.mp4", "host": "cdn.test",
                   "path": "/v.mp4", "request": "{}", "status": 200, "headers": "[]", "request_body": None,
                   "response_body": blob.hash, "provider": None, "role": "media", "job": None, "terminal": 0}
            assert store.add_exchange(row, [blob])[1] == 1
        streamed = store.find_exchange("k" * 64, 1, inline=1 << 20)
        inline = store.find_exchange("k" * 64, 1, inline=8 << 20)
        assert streamed is not None and streamed["body"] is None and streamed["body_size"] == len(big)
        assert b"".join(store.iter_blob(blob.hash)) == big
        assert inline is not None and inline["body"] == big
    finally:
        store.close()


def test_a_database_of_the_older_schema_replays_as_it_is_and_is_upgraded_at_the_first_write(pg_server, pg_url, acme):
    with use_cassette(pg_url):
        generate_video(config(), request("old"))
    with pg_server.admin("tarash") as conn:  # as a database left by the version before the HTTP level
        conn.execute("DROP TABLE http_exchanges")
        conn.execute("UPDATE schema_version SET version = 1")
    store = _store(pg_url)
    try:
        assert store.version == 1 and store.count_exchanges() == 0 and store.find_exchange("k", 1, inline=0) is None
        calls = acme.calls
        with use_cassette(pg_url, record_mode="none"):
            generate_video(config(), request("old"))
        assert acme.calls == calls
        store.add_exchange({"key": "k" * 64, "method": "GET", "url": "https://a.test/", "host": "a.test", "path": "/",
                            "request": "{}", "status": 204, "headers": "[]", "role": "other", "terminal": 0}, [])
        assert store.version == 2 and store.count_exchanges() == 1
    finally:
        store.close()
    with pg_server.admin("tarash") as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchone()[0] == 2


def test_push_and_pull_carry_http_exchanges_and_their_blobs_and_a_second_push_adds_nothing(pg_url, tmp_path):
    run, back = tmp_path / "run.db", tmp_path / "back.db"
    with ProviderServer() as provider, use_cassette(run, **LOCAL):
        recorded = AppFace("sync", "httpx").run(provider.base)
        base = provider.base
    held = CassetteStore.open(run, create=False)
    count = held.count_exchanges()
    held.close()
    runner = CliRunner()
    first = runner.invoke(main, ["cassette", "push", str(run), pg_url])
    second = runner.invoke(main, ["cassette", "push", str(run), pg_url])
    assert first.exit_code == 0 and f"; {plural(count, 'HTTP exchange')} (0 already there)" in first.output, first.output
    assert second.exit_code == 0 and f"; 0 HTTP exchanges ({count} already there)" in second.output
    pulled = runner.invoke(main, ["cassette", "pull", pg_url, str(back)])
    assert pulled.exit_code == 0 and f"; {plural(count, 'HTTP exchange')}" in pulled.output, pulled.output
    with use_cassette(back, record_mode="none"):  # the provider is gone: media and all from the pulled file
        replayed = AppFace("sync", "httpx").run(base)
    assert replayed == _scrubbed(recorded, replayed) and bytes.fromhex(replayed["media"]) == MEDIA


def test_pushing_a_file_with_a_damaged_exchange_is_a_one_line_error(pg_url, tmp_path):
    run = tmp_path / "run.db"
    with ProviderServer() as provider, use_cassette(run, **LOCAL):
        AppFace("sync", "httpx").run(provider.base, fetch_media=False)
    with sqlite3.connect(run) as conn:
        conn.execute("UPDATE http_exchanges SET response_body = '../../etc/passwd' WHERE id = 1")
    conn.close()
    result = CliRunner().invoke(main, ["cassette", "push", str(run), pg_url])
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert result.exit_code == 1 and "Traceback" not in result.output and len(errors) == 1
    assert "HTTP exchange #1" in errors[0] and "is not a sha256 digest" in errors[0]


def test_verify_of_a_url_rehashes_the_bodies_of_http_exchanges(server, pg_server, pg_url):
    with use_cassette(pg_url, **LOCAL):
        AppFace("sync", "httpx").run(server.base, fetch_media=False)
    ok = CliRunner().invoke(main, ["cassette", "verify", pg_url])
    assert ok.exit_code == 0 and "HTTP exchanges" in ok.output, ok.output
    # the result's body names this test's server port: no other cassette of the database shares it
    chosen = "(SELECT response_body FROM http_exchanges WHERE role = 'result' ORDER BY id DESC LIMIT 1)"
    with pg_server.admin("tarash") as conn:
        kept = conn.execute(f"SELECT data FROM blob_chunks WHERE n = 0 AND hash = {chosen}").fetchone()[0]
        conn.execute(f"UPDATE blob_chunks SET data = 'x' WHERE n = 0 AND hash = {chosen}")
        try:
            damaged = CliRunner().invoke(main, ["cassette", "verify", pg_url])
        finally:
            conn.execute(f"UPDATE blob_chunks SET data = %s WHERE n = 0 AND hash = {chosen}", (kept,))
    assert damaged.exit_code == 1 and "does not hold the bytes its hash says" in damaged.output


def test_latency_as_recorded_reads_the_durations_of_a_postgresql_cassette(acme, pg_url):
    from tarash.tarash_gateway.flow import run_sync
    from tarash.tarash_gateway.mock.recorded import recorded_durations

    with use_cassette(pg_url):
        for prompt in ("one", "two", "three"):
            generate_video(config(), request(prompt))
    store = _store(pg_url)
    try:
        durations = sorted(r["duration"] for r in store.recordings())
    finally:
        store.close()
    assert all(d > 0 for d in durations)
    assert run_sync(recorded_durations(pg_url, config().provider, config().model)) == tuple(durations)
