"""Pruning the blobs of a PostgreSQL cassette: blobs are shared by the database's
cassettes, and writers record while a prune runs, so a blob goes only when no row of any
cassette refers to it, and a recording committed during the prune keeps its blob."""

from __future__ import annotations

import threading
import time
import uuid

from tarash.tarash_gateway.cassettes.pg_store import PgCassetteStore
from tarash.tarash_gateway.cassettes.store import BlobSource


def _row(key: str) -> dict:
    return {"key": key, "kind": "video", "provider": "acme-test", "model": "m1", "request": "{}",
            "outcome": "response", "response": "{}", "timeline": "[]", "recorded_at": "2026-01-01T00:00:00+00:00",
            "recorded_ts": 1767225600.0}


def _opened(url: str) -> PgCassetteStore:
    store = PgCassetteStore.open(url, create=True)
    assert store is not None
    return store


def test_prune_blobs_keeps_what_any_cassette_refers_to_and_deletes_the_rest(pg_server):
    one, other = (_opened(pg_server.url(f"p-{uuid.uuid4().hex[:8]}")) for _ in range(2))
    shared, alone = BlobSource.of(uuid.uuid4().bytes * 100, "video/mp4"), BlobSource.of(uuid.uuid4().bytes, "image/png")
    try:
        first, _ = one.add_recording(_row("k1"), blobs=[shared, alone], media=[
            {"slot": "video", "hash": shared.hash, "content_type": "video/mp4"},
            {"slot": "images/0", "hash": alone.hash, "content_type": "image/png"}])
        other.add_recording(_row("k2"), blobs=[shared], media=[{"slot": "video", "hash": shared.hash}])
        # the database is shared with other tests' cassettes, whose orphans may be listed too
        ours = (shared.hash, alone.hash)
        assert [b["hash"] for b in one.prune_blobs(excluding=[first], dry_run=True) if b["hash"] in ours] == [alone.hash]
        assert one.blob_info(alone.hash) is not None  # a dry run deletes nothing
        one.delete_recordings([first])
        assert [b["hash"] for b in one.prune_blobs() if b["hash"] in ours] == [alone.hash]
        assert one.blob_info(alone.hash) is None and other.read_blob(shared.hash) == shared.data
    finally:
        one.close()
        other.close()


def test_a_recording_committed_during_a_prune_keeps_its_blob(pg_server):
    url = pg_server.url(f"r-{uuid.uuid4().hex[:8]}")
    store = _opened(url)
    blob = BlobSource.of(uuid.uuid4().bytes * 64, "video/mp4")
    try:
        doomed, _ = store.add_recording(_row("k"), blobs=[blob], media=[{"slot": "video", "hash": blob.hash}])
        store.delete_recordings([doomed])  # the blob is now unused, until a writer records it again
        writer = PgCassetteStore.open(url, create=False)
        assert writer is not None
        conn = writer._conn()
        transaction = conn.transaction()
        transaction.__enter__()  # a writer mid-way: the blob stored again (already there), a recording that uses it
        conn.execute("INSERT INTO blobs VALUES (%s, %s, %s, 1) ON CONFLICT (hash) DO NOTHING",
                     (blob.hash, blob.size, blob.content_type))
        new_id = conn.execute("INSERT INTO recordings (cassette_id, key, seq, kind, provider, model, request, outcome) "
                              "VALUES (%s, 'k', 1, 'video', 'acme-test', 'm1', '{}', 'response') RETURNING id",
                              (writer.cassette_id,)).fetchone()[0]
        conn.execute("INSERT INTO media (recording_id, slot, hash) VALUES (%s, 'video', %s)", (new_id, blob.hash))
        pruned: list[list[dict]] = []
        pruning = threading.Thread(target=lambda: pruned.append(store.prune_blobs()))
        pruning.start()
        time.sleep(0.5)
        assert pruning.is_alive()  # waits for the writer's transaction
        transaction.__exit__(None, None, None)  # the writer commits
        pruning.join(timeout=30)
        assert blob.hash not in [b["hash"] for b in pruned[0]]
        assert store.read_blob(blob.hash) == blob.data  # whole, for the recording that uses it
        writer.close()
    finally:
        store.close()
