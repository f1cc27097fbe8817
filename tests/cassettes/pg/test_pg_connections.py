"""How the PostgreSQL store holds its connections: one per thread, reused across the
worker threads of the async face, replaced when lost, and never shared with a forked
child (multiprocessing `fork`, prefork servers)."""

from __future__ import annotations

import asyncio
import multiprocessing

import pytest

from tarash.tarash_gateway.cassettes.pg_store import PgCassetteStore


def _exchange(key: str) -> dict:
    return {"key": key * 64, "method": "GET", "url": "https://a.test/", "host": "a.test", "path": "/",
            "request": "{}", "status": 204, "headers": "[]", "role": "other", "terminal": 0}


@pytest.fixture
def store(pg_url):
    opened = PgCassetteStore.open(pg_url, create=True)
    assert opened is not None
    yield opened
    opened.close()


def _child(store: PgCassetteStore, results) -> None:
    store.close()  # as a post-fork hook or a worker's exit does: it must not end the parent's sessions
    store.add_exchange(_exchange("c"), [])
    results.put(store.backend_pid())
    store.close()


def test_a_forked_child_connects_afresh_and_leaves_its_parents_connection_alone(store):
    store.add_exchange(_exchange("p"), [])
    parent = store.backend_pid()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_child, args=(store, results))
    child.start()
    backend = results.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0
    assert backend != parent  # the child had a connection of its own
    store.add_exchange(_exchange("q"), [])  # and the parent's still works (a write is never retried)
    assert store.backend_pid() == parent
    assert store.count_exchanges() == 3 and store.find_exchange("c" * 64, 1, inline=0) is not None


def test_worker_threads_that_come_and_go_reuse_one_connection(store):
    backends = {asyncio.run(asyncio.to_thread(store.backend_pid)) for _ in range(5)}  # a new thread each time
    assert len(backends) == 1


def test_a_read_after_the_server_dropped_the_connection_reconnects(store, pg_server):
    store.add_exchange(_exchange("r"), [])
    lost = store.backend_pid()
    with pg_server.admin() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (lost,))
    assert store.count_exchanges() == 1  # on a new connection
    assert store.backend_pid() != lost
