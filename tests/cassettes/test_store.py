"""The cassette file: damaged and foreign files, schema versions, concurrent writers, crashes."""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tarash.tarash_gateway import generate_video, generate_video_async, use_cassette
from tarash.tarash_gateway.cassettes.maintenance import verify
from tarash.tarash_gateway.cassettes.store import SCHEMA_VERSION, CassetteStore
from tarash.tarash_gateway.exceptions import CassetteError, RecordingNotFoundError

from .conftest import config, request

WRITER = Path(__file__).with_name("writer_process.py")


def _record(db: Path, n: int, tag: str = "p") -> None:
    with use_cassette(db, record_mode="new_episodes"):
        for i in range(n):
            generate_video(config(), request(f"{tag}-{i}"))


def _count(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        rows, keys = conn.execute("SELECT count(*), count(DISTINCT key) FROM recordings").fetchone()
    conn.close()
    return rows, keys


def _replay(db: Path, prompt: str = "p-0") -> None:
    with use_cassette(db, record_mode="none"):
        generate_video(config(), request(prompt))


def test_a_file_that_is_not_sqlite_is_a_clear_cassette_error(db, acme):
    db.parent.mkdir(parents=True)
    db.write_bytes(os.urandom(8192))
    with pytest.raises(CassetteError, match="is damaged or is not a cassette") as error:
        _replay(db)
    assert type(error.value) is CassetteError


def test_a_truncated_cassette_is_a_clear_cassette_error(db, acme):
    _record(db, 40)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    try:
        _replay(db, "p-39")
    except CassetteError as error:
        assert "damaged" in str(error)
    else:  # the pages that survived answered that call: verify must still find the damage
        store = CassetteStore.open(db, create=False)
        try:
            assert not verify(store).ok
        finally:
            store.close()


def test_an_unknown_schema_version_is_refused(db, acme):
    _record(db, 1)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 6}")
    conn.close()
    with pytest.raises(CassetteError, match=f"schema version {SCHEMA_VERSION + 6}, newer than this tarash-gateway"):
        _replay(db)
    with pytest.raises(CassetteError, match="newer"):
        _record(db, 1)


def test_another_applications_database_is_refused(db, acme):
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    with pytest.raises(CassetteError, match="not a tarash cassette .it holds invoices"):
        _record(db, 1)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA application_id=42")
    conn.close()
    with pytest.raises(CassetteError, match="another application"):
        _replay(db)


def test_an_empty_file_is_treated_as_a_missing_cassette(db, acme):
    db.parent.mkdir(parents=True)
    db.touch()
    with pytest.raises(RecordingNotFoundError, match="does not exist"):
        _replay(db)
    _record(db, 1)
    _replay(db)


def _spawn(db: Path, tag: str, count: int, go: Path | None = None) -> subprocess.Popen[str]:
    # -P: the script's directory holds the tests package "http", which must not shadow the stdlib
    args = [sys.executable, "-P", str(WRITER), str(db), tag, str(count)] + ([str(go)] if go else [])
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_threads_tasks_and_processes_record_into_one_cassette_and_lose_nothing(db, acme, tmp_path):
    db.parent.mkdir(parents=True)
    go = tmp_path / "go"
    processes = [_spawn(db, f"process{n}", 30, go) for n in range(2)]
    for process in processes:
        assert process.stdout.readline().strip() == "ready", process.stderr.read()

    def thread_main(t: int) -> None:
        _record(db, 20, f"thread{t}")

    async def tasks() -> None:
        with use_cassette(db, record_mode="new_episodes"):
            await asyncio.gather(*(generate_video_async(config(), request(f"task-{i}")) for i in range(20)))

    threads = [threading.Thread(target=contextvars.copy_context().run, args=(thread_main, t)) for t in range(3)]
    go.touch()
    for thread in threads:
        thread.start()
    asyncio.run(tasks())
    for thread in threads:
        thread.join()
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert out.split()[-1] == "29"
    assert _count(db) == (2 * 30 + 3 * 20 + 20, 140)
    store = CassetteStore.open(db, create=False)
    try:
        assert verify(store).ok
        assert store.count_recordings() == 140
    finally:
        store.close()


def test_equal_requests_from_concurrent_writers_keep_every_recording(db, acme):
    # Every writer opens its block before any records: record mode "all" replaces what was
    # recorded before a block began, so a block opened late would rightly replace the others'.
    started = threading.Barrier(4)

    def writer() -> None:
        with use_cassette(db, record_mode="all"):
            started.wait(timeout=30)
            for _ in range(10):
                generate_video(config(), request("the same"))

    threads = [threading.Thread(target=contextvars.copy_context().run, args=(writer,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with sqlite3.connect(db) as conn:
        seqs = [r[0] for r in conn.execute("SELECT seq FROM recordings ORDER BY seq")]
    conn.close()
    assert seqs == list(range(1, 41))


def test_kill_9_mid_recording_leaves_a_valid_cassette_that_keeps_recording(db, acme):
    db.parent.mkdir(parents=True)
    process = _spawn(db, "crash", 0)
    assert process.stdout.readline().strip() == "ready"
    done = -1
    while done < 40:
        done = int(process.stdout.readline())
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL

    store = CassetteStore.open(db, create=False)
    try:
        report = verify(store)
        assert report.ok, report.problems
        committed = store.count_recordings()
    finally:
        store.close()
    assert committed >= done + 1  # every call that returned was committed
    with use_cassette(db, record_mode="none"):
        for i in range(done + 1):
            assert generate_video(config(), request(f"crash-{i}")).request_id == f"crash-{i}"
    _record(db, 3, "after")  # and recording continues on it
    assert _count(db)[0] == committed + 3


def test_connections_of_finished_worker_threads_are_closed(db, acme):
    from tarash.tarash_gateway.cassettes import CassetteConfig

    shared = config(cassette=CassetteConfig(path=str(db), record_mode="new_episodes"))
    for i in range(6):  # each asyncio.run has its own executor, so its own worker threads
        asyncio.run(generate_video_async(shared, request(f"run-{i}")))
    from tarash.tarash_gateway.cassettes.session import shared_session

    store = shared_session(str(db)).store
    assert store is not None and len(store._conns) <= 3  # not one per thread ever used


def test_a_cassette_another_writer_creates_while_it_is_checked_is_not_taken_for_a_foreign_file(tmp_path, monkeypatch):
    # The race, made certain: this store reads the new file's header (empty), then another
    # writer creates the schema and commits, then this store looks at the tables.
    file = tmp_path / "new.db"
    real = CassetteStore._header
    raced: list[bool] = []

    def header_then_another_writer(self, db):
        found = real(self, db)
        if not raced:
            raced.append(True)
            CassetteStore.open(file, create=True).close()
        return found

    monkeypatch.setattr(CassetteStore, "_header", header_then_another_writer)
    store = CassetteStore.open(file, create=True)
    try:
        assert raced and store.version == SCHEMA_VERSION
    finally:
        store.close()
