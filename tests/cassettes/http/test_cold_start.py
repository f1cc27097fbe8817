"""The first replayed request of a fresh process costs one indexed lookup: the file opens
read-only, nothing reads a whole table, and only what a replay needs is imported.

The figures themselves come from ``tools/bench/bench_http.py`` (section 2), not from
timed tests: these tests pin what makes them, in numbers that cannot drift with the
machine (modules loaded, SQLite virtual-machine steps).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tarash.tarash_gateway import use_cassette
from tarash.tarash_gateway.cassettes import CassetteStore

LOCAL = {"http_hosts": ("127.0.0.1",)}
#: What a replay of raw HTTP traffic must not load: the writer's library, the event loop,
#: the call level's response models, the media downloader.
NOT_FOR_A_REPLAY = ("sqlite_utils", "asyncio", "concurrent.futures", "tarash.tarash_gateway.cassettes.codec",
                    "tarash.tarash_gateway.models", "tarash.tarash_gateway.cassettes.http.capture")


def _record_one(server, db: Path) -> str:
    url = f"{server.base}/v1/counter"
    with use_cassette(db, **LOCAL), httpx.Client() as client:
        assert client.get(url).json() == {"n": 1}
    return url


def test_a_fresh_process_replays_without_loading_the_writer_the_event_loop_or_the_response_models(server, db):
    url = _record_one(server, db)
    server.stop()
    probe = (
        "import json, sys, httpx\n"
        "from tarash.tarash_gateway import use_cassette\n"
        f"with use_cassette({str(db)!r}, record_mode='none'), httpx.Client() as client:\n"
        f"    answer = client.get({url!r}).json()\n"
        "print(json.dumps({'answer': answer, 'modules': sorted(sys.modules)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=db.parent)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["answer"] == {"n": 1}
    assert sorted(set(NOT_FOR_A_REPLAY) & set(result["modules"])) == []


def _grow(db: Path, copies: int) -> None:
    """`copies` more exchanges of the same host, under other keys and paths."""
    with sqlite3.connect(db) as conn:
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO http_exchanges (key, seq, method, url, host, path, request, status, headers, "
            "request_body, response_body, provider, role, job, terminal, recorded_at, recorded_ts) "
            "SELECT key || '-' || i, seq, method, url || '/' || i, host, path || '/' || i, request, status, headers, "
            "request_body, response_body, provider, role, job, terminal, recorded_at, recorded_ts "
            "FROM http_exchanges, n",
            (copies,),
        )
    conn.close()


def _steps_of_first_replay(db: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """SQLite virtual-machine steps spent opening the cassette and replaying one request."""
    steps = [0]
    connect = CassetteStore._connect

    def counted(target: str | Path, *, uri: bool = False) -> sqlite3.Connection:
        conn = connect(target, uri=uri)

        def tick() -> int:
            steps[0] += 1
            return 0

        conn.set_progress_handler(tick, 1)
        return conn

    with monkeypatch.context() as patch:
        patch.setattr(CassetteStore, "_connect", staticmethod(counted))
        with use_cassette(db, record_mode="none"), httpx.Client() as client:  # 127.0.0.1 is not named: looked up
            assert client.get(url).json() == {"n": 1}
    return steps[0]


def test_opening_a_cassette_and_replaying_its_first_request_reads_no_whole_table(server, tmp_path, monkeypatch):
    small, large = tmp_path / "small.db", tmp_path / "large.db"
    url = _record_one(server, small)
    large.write_bytes(small.read_bytes())
    _grow(small, 5)
    _grow(large, 5000)
    few, many = _steps_of_first_replay(small, url, monkeypatch), _steps_of_first_replay(large, url, monkeypatch)
    # A count or a DISTINCT over the table would take thousands of steps more at 5,000
    # exchanges; indexed lookups take a few more for one more level of the b-tree.
    assert few > 0
    assert many < few + 200, (few, many)
