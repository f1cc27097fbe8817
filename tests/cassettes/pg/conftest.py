"""The PostgreSQL store's tests run against a throwaway server of their own
(`tests.support.pgserver`), started once per session and removed at the end. Without
the binaries the tests skip, saying how to get them; on CI (`CI=true`) they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support.pgserver import DATABASE, HOW, PASSWORD, PgServer, find_bindir

__all__ = ["PASSWORD"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the PostgreSQL store's tests must run on CI, and initdb was not found: {HOW}")
        pytest.skip(f"PostgreSQL server binaries not found: {HOW}")
    server = PgServer(bindir)
    try:
        with server.admin() as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh cassette's URL (cassettes share the database, as a fleet's do)."""
    return pg_server.url(f"t-{uuid.uuid4().hex[:12]}")
