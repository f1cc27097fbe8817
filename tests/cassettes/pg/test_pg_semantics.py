"""The semantics above the store, through a PostgreSQL cassette: environment and config
cassettes, expiry, strict replay, read-only roles, a killed writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tarash.tarash_gateway import generate_video, use_cassette
from tarash.tarash_gateway.cassettes import close_cassettes
from tarash.tarash_gateway.cassettes.pg_store import PgCassetteStore
from tarash.tarash_gateway.exceptions import CassetteError, RecordingNotFoundError

from ..conftest import config, request

WRITER = Path(__file__).with_name("fleet_writer.py")


def _rows(url: str) -> list[dict]:
    store = PgCassetteStore.open(url, create=False)
    assert store is not None
    try:
        return store.recordings()
    finally:
        store.close()


def test_the_environment_names_a_postgresql_cassette(monkeypatch, acme, pg_url):
    monkeypatch.setenv("TARASH_CASSETTE", pg_url)
    first = generate_video(config(), request())
    monkeypatch.setenv("TARASH_RECORD_MODE", "none")
    close_cassettes()
    again = generate_video(config(), request())
    assert again.origin.source == "replay" and again.request_id == first.request_id and acme.calls == 1
    with pytest.raises(RecordingNotFoundError):
        generate_video(config(), request("never recorded"))


def test_a_config_names_a_postgresql_cassette(acme, pg_url):
    first = generate_video(config(cassette=pg_url), request("by config"))
    again = generate_video(config(cassette=pg_url), request("by config"))
    assert len(_rows(pg_url)) == 2 and first.request_id != again.request_id  # two calls, two recordings


def test_an_expired_recording_is_recorded_afresh_in_its_place(face, acme, pg_server, pg_url):
    with use_cassette(pg_url):
        face.video(config(), request("alpha"))
        face.video(config(), request("beta"))
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="milliseconds")
    with pg_server.admin("tarash") as conn:
        conn.execute("UPDATE recordings SET recorded_at = %s WHERE id = %s", (old, _rows(pg_url)[0]["id"]))
    with use_cassette(pg_url, record_mode="new_episodes", max_age=30, on_expired="rerecord") as session:
        face.video(config(), request("alpha"))
        assert session.recorded == 1
    rows = _rows(pg_url)
    assert len(rows) == 2 and {r["seq"] for r in rows} == {1}
    assert all(datetime.fromisoformat(r["recorded_at"]) > datetime.now(UTC) - timedelta(minutes=5) for r in rows)


def test_strict_replay_names_what_was_not_replayed_and_keeps_play_counts(face, acme, pg_url):
    with use_cassette(pg_url):
        face.video(config(), request("alpha"))
        face.video(config(), request("gamma"))
    with pytest.raises(CassetteError, match=r"strict replay: 1 of the 2 .*prompt 'gamma'"), \
            use_cassette(pg_url, strict=True):
        face.video(config(), request("alpha"))
    store = PgCassetteStore.open(pg_url, create=False)
    assert store is not None
    try:
        ids = [r["id"] for r in store.recordings()]
        assert store.plays() == {ids[0]: 1, ids[1]: 0}
    finally:
        store.close()


def test_a_read_only_role_replays_and_cannot_record(face, acme, pg_server, pg_url):
    with use_cassette(pg_url):
        face.video(config(), request("published"))
    role = f"replay_{uuid.uuid4().hex[:8]}"
    with pg_server.admin("tarash") as conn:  # the grants docs/postgresql.md gives replay runners
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'ro-pass'")
        conn.execute(f"GRANT CONNECT ON DATABASE tarash TO {role}")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    url = pg_url.replace("tarash:s3cret-pg-pass@", f"{role}:ro-pass@")
    calls = acme.calls
    with use_cassette(url, record_mode="none"):
        assert face.video(config(), request("published")).origin.source == "replay"
    assert acme.calls == calls
    with pytest.raises(CassetteError, match="may not do that"), use_cassette(url, record_mode="new_episodes"):
        face.video(config(), request("not published"))


def test_a_killed_writer_leaves_every_committed_recording(pg_url, tmp_path):
    go = tmp_path / "go"
    go.touch()
    writer = subprocess.Popen([sys.executable, str(WRITER), pg_url, "killed", "100000", str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready"
    done = [writer.stdout.readline() for _ in range(20)]  # 20 calls returned: 20 committed
    os.kill(writer.pid, signal.SIGKILL)
    writer.communicate(timeout=60)
    rows = _rows(pg_url)
    assert done[-1].strip() == "19" and len(rows) >= 20
    assert sorted(r["request"].count("killed-") for r in rows) == [1] * len(rows)  # whole recordings only
