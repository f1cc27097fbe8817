"""A cassette in a PostgreSQL database, shared by a fleet: the second `protocol.Store`.

`postgresql://user:password@host:5432/db?cassette=render-farm` names one cassette;
many live in one database. What makes it safe to share:

- one connection per thread, in autocommit, with one short transaction per recording
  or exchange: a killed writer leaves every recording committed before it. A thread
  that ends gives its connection back for the next one (worker threads of the async
  face come and go), a broken connection is replaced at the next call, and a forked
  child (multiprocessing, gunicorn or celery prefork workers) never touches its
  parent's connections: it notices the new pid and connects afresh;
- each key's next `seq` is taken under a transaction-scoped advisory lock on
  (cassette, key), so concurrent writers of equal requests get dense, ordered numbers
  with no read-then-write race; blobs are inserted in hash order, so two writers
  storing the same blobs never deadlock;
- a versioned schema (`schema_version`), migrated under an advisory lock: a newer
  schema, or tables of ours held by another application, raise a `CassetteError`
  that says so; so do an unreachable server, bad credentials and a missing database.

Schema (version 1):

```text
schema_version  app (primary key), version
cassettes       id, name (unique), created_at
recordings      id, cassette_id, key, seq, kind, provider, model, request, outcome,
                response, error, timeline, duration, library_version, recorded_at,
                recorded_ts                            unique (cassette_id, key, seq)
blobs           hash (sha256) primary key, size, content_type, chunks
blob_chunks     hash, n, data (bytea, at most 1 MiB)   primary key (hash, n)
media           recording_id, slot, url, hash, content_type
plays           recording_id, plays, run_at
```

Version 2 adds the HTTP level (`cassettes.http`), as the file's version 3 does:

```text
http_exchanges  id, cassette_id, key, seq, method, url (scrubbed), host, path,
                request (canonical JSON), status, headers, request_body,
                response_body (blob hashes), provider, role, job, terminal,
                recorded_at, recorded_ts           unique (cassette_id, key, seq)
```

A database of an older version is read as it is (a replay-only role needs no
upgrade); the first write migrates it.

Blobs are stored once per database by content hash, in 1 MiB chunks written and read
one at a time, so a 500 MB video never sits in memory. The password of the URL is
handed to the driver only: messages and `path` show the URL without it.

(Past 400 lines on purpose, as `store` is: every SQL statement that touches the
database lives here, so locking, transactions and error mapping are decided in one
place.)
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..exceptions import CassetteError
from .pg_http import PgExchanges
from .store import CHUNK, BlobSource, check_digest, verified, write_file

__all__ = ["PG_SCHEMA_VERSION", "PgCassetteStore", "PgUrl", "parse_url"]

APP = "tarash-cassette"
_COLUMNS = ("key", "seq", "kind", "provider", "model", "request", "outcome", "response", "error", "timeline",
            "duration", "library_version", "recorded_at", "recorded_ts")
_TABLES = ("cassettes", "recordings", "blobs", "blob_chunks", "media", "plays", "http_exchanges")
_IDLE = 4  # connections of ended threads kept for the next ones
_MIGRATE_LOCK = 0x54524353  # advisory lock held while the schema is created or migrated

_M001 = """
CREATE TABLE cassettes (id serial PRIMARY KEY, name text NOT NULL UNIQUE,
                        created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE recordings (
    id bigserial PRIMARY KEY, cassette_id integer NOT NULL REFERENCES cassettes(id) ON DELETE CASCADE,
    key text NOT NULL, seq integer NOT NULL, kind text NOT NULL, provider text NOT NULL, model text NOT NULL,
    request text NOT NULL, outcome text NOT NULL, response text, error text, timeline text,
    duration double precision, library_version text, recorded_at text, recorded_ts double precision,
    UNIQUE (cassette_id, key, seq));
CREATE INDEX recordings_kind ON recordings (cassette_id, kind, provider, model);
CREATE TABLE blobs (hash text PRIMARY KEY, size bigint NOT NULL, content_type text, chunks integer NOT NULL);
CREATE TABLE blob_chunks (hash text NOT NULL REFERENCES blobs(hash) ON DELETE CASCADE, n integer NOT NULL,
                          data bytea NOT NULL, PRIMARY KEY (hash, n));
CREATE TABLE media (recording_id bigint NOT NULL REFERENCES recordings(id) ON DELETE CASCADE, slot text NOT NULL,
                    url text, hash text, content_type text, PRIMARY KEY (recording_id, slot));
CREATE INDEX media_hash ON media (hash);
CREATE TABLE plays (recording_id bigint PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
                    plays integer NOT NULL, run_at text);
"""

_M002 = """
CREATE TABLE http_exchanges (
    id bigserial PRIMARY KEY, cassette_id integer NOT NULL REFERENCES cassettes(id) ON DELETE CASCADE,
    key text NOT NULL, seq integer NOT NULL, method text NOT NULL, url text NOT NULL, host text NOT NULL,
    path text, request text NOT NULL, status integer NOT NULL, headers text NOT NULL, request_body text,
    response_body text, provider text, role text NOT NULL, job text, terminal integer NOT NULL DEFAULT 0,
    recorded_at text, recorded_ts double precision, UNIQUE (cassette_id, key, seq));
CREATE INDEX http_exchanges_host ON http_exchanges (cassette_id, host, path);
"""

#: The schema's migrations, oldest first; the schema version is their number.
_STEPS: tuple[str, ...] = (_M001, _M002)
PG_SCHEMA_VERSION = len(_STEPS)


@dataclass(frozen=True, slots=True)
class PgUrl:
    """A `postgresql://` cassette URL taken apart: what the driver gets, what is shown."""

    conninfo: str
    display: str
    cassette: str


def parse_url(url: str) -> PgUrl:
    """Split `postgresql://user:pw@host:port/db?cassette=NAME&...` into the driver's
    connection string (without `cassette`), a display form without the password, and
    the cassette's name."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    names = [v for k, v in query if k == "cassette"]
    rest = [(k, v) for k, v in query if k != "cassette"]
    host = parts.hostname or "localhost"
    shown_netloc = (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
    display = urlunsplit((parts.scheme, shown_netloc, parts.path, f"cassette={names[0]}" if names else "", ""))
    if not names or not names[0]:
        raise CassetteError(f"PostgreSQL cassette {display} names no cassette: add ?cassette=NAME to the URL")
    if not parts.path.strip("/"):
        raise CassetteError(f"PostgreSQL cassette {display} names no database (postgresql://user@host:5432/DB?...)")
    if not any(k == "connect_timeout" for k, _ in rest):
        rest.append(("connect_timeout", "10"))
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), ""))
    return PgUrl(conninfo, display, names[0])


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the extra is part of the dev install
        raise CassetteError(
            "PostgreSQL cassettes need psycopg 3: pip install 'tarash-gateway[postgresql]'") from None
    return psycopg


def _explain(error: BaseException, where: str, doing: str) -> CassetteError:
    """A driver error as the CassetteError a user can act on (most specific first)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    lowered = str(error).lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        meaning = "the server refused the credentials (check the user and password)"
    elif "does not exist" in lowered and "database" in lowered:
        meaning = "the database does not exist (create it, or fix the URL's database name)"
    elif "connection refused" in lowered or "could not connect" in lowered or "timeout expired" in lowered \
            or "could not translate host" in lowered or "connection failed" in lowered:
        meaning = "the PostgreSQL server cannot be reached (is it running, and are host and port right?)"
    elif "permission denied" in lowered or "read-only" in lowered:
        meaning = "this role may not do that (a read-only role replays, it cannot record)"
    else:
        meaning = "the database answered with an error"
    return CassetteError(f"cassette {where}: {meaning} ({doing}: {text})")


class PgCassetteStore(PgExchanges):
    """One named cassette in a PostgreSQL database. Open it with `open`; thread-safe.

    Examples:
        >>> store = PgCassetteStore.open("postgresql://ci@db:5432/tarash?cassette=farm", create=False)  # doctest: +SKIP
        >>> store.count_recordings()  # doctest: +SKIP
        12
    """

    def __init__(self, url: str) -> None:
        self.url = parse_url(url)
        self.path = self.url.display
        self.version = PG_SCHEMA_VERSION
        self.readonly = False
        self.file: Path | None = None  # a database: no file an export could write onto
        self.cassette_id = 0
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[tuple[threading.Thread, Any]] = []
        self._idle: list[Any] = []
        self._pid = os.getpid()

    @classmethod
    def open(cls, url: str, *, create: bool) -> PgCassetteStore | None:
        """Open (with `create`, make, migrating the schema) a cassette; `None` when it
        does not exist and `create` is false."""
        store = cls(url)
        try:
            found = store._check(create=create)
        except BaseException:
            store.close()
            raise
        if not found:
            store.close()
            return None
        return store

    # -- connections -------------------------------------------------------------------

    @contextlib.contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        psycopg = _driver()
        try:
            yield
        except psycopg.Error as error:
            raise _explain(error, self.path, doing) from None

    def _forked(self) -> None:
        """In a forked child, forget the parent's connections without closing them:
        closing would end the parent's sessions on the server (psycopg itself leaves
        them alone when they are collected in a child)."""
        if os.getpid() != self._pid:
            self._pid, self._conns, self._idle = os.getpid(), [], []
            self._local, self._lock = threading.local(), threading.Lock()

    def _conn(self) -> Any:
        """This thread's connection: its own, an idle one an ended thread left, or a new one."""
        self._forked()
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        with self._lock:
            ended = [c for t, c in self._conns if not t.is_alive() or c is conn]
            self._conns = [(t, c) for t, c in self._conns if t.is_alive() and c is not conn]
            usable = [c for c in (*self._idle, *ended) if not c.closed and not c.broken and c.info.transaction_status == 0]
            self._idle, spare = usable[:_IDLE], [c for c in (*self._idle, *ended) if c not in usable[:_IDLE]]
            conn = self._idle.pop() if self._idle else None
        for old in spare:
            with contextlib.suppress(Exception):
                old.close()
        if conn is None:
            psycopg = _driver()
            with self._guard("connecting"):
                conn = psycopg.connect(self.url.conninfo, autocommit=True)
        with self._lock:
            self._conns.append((threading.current_thread(), conn))
        self._local.conn = conn
        return conn

    def backend_pid(self) -> int:
        """The server process serving this thread's connection (which connection is in use)."""
        return int(self._conn().info.backend_pid)

    def close(self) -> None:
        self._forked()  # a child closing its store must not end its parent's sessions
        with self._lock:
            conns, self._conns = [c for _, c in self._conns] + self._idle, []
            self._idle, self._local = [], threading.local()
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()

    def upgrade(self) -> bool:
        """Writable (whether the role may write is the server's to say, at the write); a
        database of an older schema, opened for reading, is migrated first."""
        if self.version < PG_SCHEMA_VERSION:
            self._check(create=True)
            self.version = PG_SCHEMA_VERSION
        return True

    def _rows(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        def fetch(conn: Any) -> list[dict[str, Any]]:
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(sql, params)
                return list(cur.fetchall())

        with self._guard("reading"):
            return self._read(fetch)  # type: ignore[no-any-return]

    def _one(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        with self._guard("reading"):
            row = self._read(lambda conn: conn.execute(sql, params).fetchone())
        return None if row is None else row[0]

    def _read(self, query: Any) -> Any:
        """Run a read; once more on a new connection when the one it used was lost (the
        server restarted, or dropped an idle connection): a read changes nothing."""
        conn = self._conn()
        try:
            return query(conn)
        except _driver().OperationalError:
            if not conn.broken:
                raise
        return query(self._conn())

    @contextlib.contextmanager
    def _transaction(self, doing: str) -> Iterator[Any]:
        conn = self._conn()
        with self._guard(doing), conn.transaction():
            yield conn

    # -- schema ------------------------------------------------------------------------

    def _check(self, *, create: bool) -> bool:
        with self._transaction("opening"):
            conn = self._conn()
            if create:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
            version = self._schema_version(conn)
            if version > PG_SCHEMA_VERSION:
                raise CassetteError(
                    f"cassette {self.path}: the database holds cassette schema version {version}, newer than "
                    f"this tarash-gateway understands ({PG_SCHEMA_VERSION}); upgrade tarash-gateway to use it")
            if version < PG_SCHEMA_VERSION and not create:
                if version == 0:
                    return False
                self.version = version  # an older schema reads as it is; the first write upgrades it
            elif version < PG_SCHEMA_VERSION:
                if version == 0:
                    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (app text PRIMARY KEY, version integer)")
                for step in _STEPS[version:]:
                    conn.execute(step)
                conn.execute("INSERT INTO schema_version VALUES (%s, %s) ON CONFLICT (app) DO UPDATE "
                             "SET version = excluded.version", (APP, PG_SCHEMA_VERSION))
            if create:
                conn.execute("INSERT INTO cassettes (name) VALUES (%s) ON CONFLICT (name) DO NOTHING",
                             (self.url.cassette,))
            found = conn.execute("SELECT id FROM cassettes WHERE name = %s", (self.url.cassette,)).fetchone()
        if found is None:
            return False
        self.cassette_id = int(found[0])
        return True

    def _schema_version(self, conn: Any) -> int:
        """Our schema's version in this database (0: none yet); foreign tables refused."""
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
        if "schema_version" in tables:
            columns = {r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = 'schema_version'")}
            row = conn.execute("SELECT version FROM schema_version WHERE app = %s", (APP,)).fetchone() \
                if columns >= {"app", "version"} else None
            if row is not None:
                return int(row[0])
        ours = sorted(tables & {"schema_version", *_TABLES})
        if ours:
            raise CassetteError(
                f"cassette {self.path}: the database's schema holds tables named like ours ({', '.join(ours)}) "
                "that are not a tarash cassette store; use another database or schema")
        return 0

    # -- recordings --------------------------------------------------------------------

    def has_recordings(self) -> bool:
        return bool(self._one("SELECT EXISTS (SELECT 1 FROM recordings WHERE cassette_id = %s)", (self.cassette_id,)))

    def count_recordings(self) -> int:
        return int(self._one("SELECT count(*) FROM recordings WHERE cassette_id = %s", (self.cassette_id,)))

    def max_recording_id(self) -> int:
        return int(self._one("SELECT coalesce(max(id), 0) FROM recordings WHERE cassette_id = %s",
                             (self.cassette_id,)))

    def find(self, key: str, index: int, *, repeats: bool = False) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM recordings WHERE cassette_id = %s AND key = %s ORDER BY seq "
                          "LIMIT 1 OFFSET %s", (self.cassette_id, key, index - 1))
        if not rows and repeats:
            rows = self._rows("SELECT * FROM recordings WHERE cassette_id = %s AND key = %s ORDER BY seq DESC "
                              "LIMIT 1", (self.cassette_id, key))
        return _plain(rows[0]) if rows else None

    def get(self, recording_id: int) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM recordings WHERE cassette_id = %s AND id = %s",
                          (self.cassette_id, recording_id))
        return _plain(rows[0]) if rows else None

    def count(self, key: str) -> int:
        return int(self._one("SELECT count(*) FROM recordings WHERE cassette_id = %s AND key = %s",
                             (self.cassette_id, key)))

    def requests(self) -> Iterator[tuple[int, str]]:
        for row in self._rows("SELECT id, request FROM recordings WHERE cassette_id = %s ORDER BY id",
                              (self.cassette_id,)):
            yield int(row["id"]), row["request"]

    def redacted_requests(self) -> list[dict[str, Any]]:
        return self._rows("SELECT id, key, request FROM recordings WHERE cassette_id = %s AND "
                          "strpos(request, '[REDACTED]') > 0 ORDER BY id", (self.cassette_id,))

    def candidates(self, kind: str, provider: str, model: str, limit: int = 200) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT id, provider, model, recorded_at, request FROM recordings WHERE cassette_id = %s AND kind = %s "
            "ORDER BY (provider = %s AND model = %s) DESC, id DESC LIMIT %s",
            (self.cassette_id, kind, provider, model, limit))

    def recordings(self) -> list[dict[str, Any]]:
        return [_plain(r) for r in self._rows("SELECT * FROM recordings WHERE cassette_id = %s ORDER BY id",
                                              (self.cassette_id,))]

    def recordings_by_id(self, ids: list[int]) -> list[dict[str, Any]]:
        return [_plain(r) for r in self._rows(
            "SELECT * FROM recordings WHERE cassette_id = %s AND id = ANY(%s) ORDER BY id",
            (self.cassette_id, list(ids)))]

    def recording_ids(self, up_to: int) -> list[int]:
        return [int(r["id"]) for r in self._rows(
            "SELECT id FROM recordings WHERE cassette_id = %s AND id <= %s ORDER BY id", (self.cassette_id, up_to))]

    def add_recording(
        self,
        row: dict[str, Any],
        *,
        blobs: list[BlobSource] = (),  # type: ignore[assignment]
        media: list[dict[str, Any]] = (),  # type: ignore[assignment]
        replace_before: float | None = None,
        replace: int | None = None,
    ) -> tuple[int, int]:
        """See `protocol.Store.add_recording`: the key's advisory lock is held from the
        `seq` it reads to the commit, so no two writers take one number."""
        cid, key = self.cassette_id, row["key"]
        with self._transaction("recording") as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))", (key, cid))
            if replace_before is not None:
                conn.execute("DELETE FROM recordings WHERE cassette_id = %s AND key = %s AND recorded_ts < %s",
                             (cid, key, replace_before))
            kept = None
            if replace is not None:
                kept = conn.execute("DELETE FROM recordings WHERE cassette_id = %s AND id = %s AND key = %s "
                                    "RETURNING seq", (cid, replace, key)).fetchone()
            seq = kept[0] if kept is not None else conn.execute(
                "SELECT coalesce(max(seq), 0) + 1 FROM recordings WHERE cassette_id = %s AND key = %s",
                (cid, key)).fetchone()[0]
            for blob in in_hash_order(blobs):
                self._put_blob(conn, blob)
            values = {**{c: row.get(c) for c in _COLUMNS}, "seq": seq}
            recording_id = conn.execute(
                f"INSERT INTO recordings (cassette_id, {', '.join(_COLUMNS)}) "
                f"VALUES (%s, {', '.join(['%s'] * len(_COLUMNS))}) RETURNING id",
                (cid, *(values[c] for c in _COLUMNS))).fetchone()[0]
            for item in media:
                conn.execute("INSERT INTO media (recording_id, slot, url, hash, content_type) VALUES (%s, %s, %s, %s, "
                             "%s) ON CONFLICT (recording_id, slot) DO UPDATE SET url = excluded.url, "
                             "hash = excluded.hash, content_type = excluded.content_type",
                             (recording_id, item["slot"], item.get("url"), item.get("hash"), item.get("content_type")))
        return int(recording_id), int(seq)

    def delete_recordings(self, ids: list[int]) -> int:
        with self._transaction("deleting recordings") as conn:
            conn.execute("DELETE FROM recordings WHERE cassette_id = %s AND id = ANY(%s)", (self.cassette_id, ids))
        return len(ids)

    def save_plays(self, plays: dict[int, int], held: list[int], run_at: str) -> None:
        with self._transaction("keeping play counts") as conn:
            conn.execute("DELETE FROM plays WHERE recording_id IN (SELECT id FROM recordings WHERE cassette_id = %s)",
                         (self.cassette_id,))
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO plays VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                                [(i, plays.get(i, 0), run_at) for i in held])

    def plays(self) -> dict[int, int]:
        return {int(r["recording_id"]): int(r["plays"]) for r in self._rows(
            "SELECT p.recording_id, p.plays FROM plays p JOIN recordings r ON r.id = p.recording_id "
            "WHERE r.cassette_id = %s", (self.cassette_id,))}

    # -- blobs and media ---------------------------------------------------------------

    def _put_blob(self, conn: Any, blob: BlobSource) -> None:
        """Store a blob once, one chunk at a time; a concurrent writer of the same blob
        waits on the primary key and then finds it stored."""
        check_digest(blob.hash, f"cassette {self.path}")
        chunks = max(1, -(-blob.size // CHUNK))
        inserted = conn.execute("INSERT INTO blobs VALUES (%s, %s, %s, %s) ON CONFLICT (hash) DO NOTHING RETURNING 1",
                                (blob.hash, blob.size, blob.content_type, chunks)).fetchone()
        if inserted is None:
            return
        if blob.data is not None:
            pieces: Iterator[bytes] = (blob.data[i : i + CHUNK] for i in range(0, max(len(blob.data), 1), CHUNK))
        else:
            assert blob.file is not None
            blob.file.seek(0)
            pieces = iter(lambda: blob.file.read(CHUNK), b"")  # type: ignore[union-attr]
        n = 0
        for n, piece in enumerate(pieces):
            conn.execute("INSERT INTO blob_chunks VALUES (%s, %s, %s)", (blob.hash, n, piece))
        if n + 1 != chunks and blob.size:
            conn.execute("UPDATE blobs SET chunks = %s WHERE hash = %s", (n + 1, blob.hash))

    def put_blobs(self, blobs: list[BlobSource]) -> None:
        with self._transaction("storing blobs") as conn:
            for blob in in_hash_order(blobs):
                self._put_blob(conn, blob)

    def media(self, recording_id: int) -> dict[str, dict[str, Any]]:
        return {r["slot"]: r for r in self._rows(
            "SELECT m.slot, m.url, m.hash, coalesce(m.content_type, b.content_type) AS content_type, b.size "
            "FROM media m JOIN recordings r ON r.id = m.recording_id LEFT JOIN blobs b ON b.hash = m.hash "
            "WHERE m.recording_id = %s AND r.cassette_id = %s", (recording_id, self.cassette_id))}

    def all_media(self) -> list[dict[str, Any]]:
        """See `protocol.Store.all_media`: slots in byte order (`COLLATE "C"`), as a file orders them."""
        return self._rows(
            "SELECT m.recording_id, m.slot, m.url, m.hash, m.content_type FROM media m "
            "JOIN recordings r ON r.id = m.recording_id WHERE r.cassette_id = %s "
            'ORDER BY m.recording_id, m.slot COLLATE "C"', (self.cassette_id,))

    def blob_info(self, digest: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT hash, size, content_type, chunks FROM blobs WHERE hash = %s", (digest,))
        return rows[0] if rows else None

    def read_blob(self, digest: str, owner: str = "") -> bytes:
        return b"".join(self.iter_blob(digest, owner=owner))

    def iter_blob(self, digest: str, chunk: int = CHUNK, *, owner: str = "") -> Iterator[bytes]:
        """A blob's chunks, one row at a time, checked against its hash (see the protocol)."""
        where = f"cassette {self.path}" + (f", {owner}" if owner else "")
        check_digest(digest, where)
        info = self.blob_info(digest)
        if info is None:
            raise CassetteError(f"{where} lacks blob {digest[:12]}... (damaged; run tarash cassette verify)")
        yield from verified(self._chunks(digest, int(info["chunks"])), digest, int(info["size"]), where)

    def _chunks(self, digest: str, count: int) -> Iterator[bytes]:
        for n in range(count):
            data = self._one("SELECT data FROM blob_chunks WHERE hash = %s AND n = %s", (digest, n))
            if data is None:
                return
            yield bytes(data)

    def copy_blob(self, digest: str, target: Path, owner: str = "") -> Path:
        return write_file(self.iter_blob(digest, owner=owner), target)

    def recorded_durations(self) -> list[dict[str, Any]]:
        return self._rows("SELECT provider, model, duration FROM recordings WHERE cassette_id = %s AND duration > 0",
                          (self.cassette_id,))

    # -- looking after a cassette (ls, show, summary, prune) ---------------------------

    def stats(self) -> dict[str, Any]:
        """See `protocol.Store.stats`; `blobs` counts those this cassette refers to
        (blobs are shared by the database's cassettes)."""
        row = self._rows("SELECT count(*) AS recordings, count(*) FILTER (WHERE outcome = 'error') AS errors, "
                         "min(recorded_at) AS first_recorded, max(recorded_at) AS last_recorded "
                         "FROM recordings WHERE cassette_id = %s", (self.cassette_id,))[0]
        by_model = self._rows("SELECT provider, model, count(*) AS recordings FROM recordings WHERE cassette_id = %s "
                              "GROUP BY provider, model ORDER BY recordings DESC, provider, model", (self.cassette_id,))
        blobs = self.blobs()
        return {"recordings": int(row["recordings"]), "errors": int(row["errors"]),
                "http_interactions": 0, "http_exchanges": self.count_exchanges(), "blobs": len(blobs),
                "blob_bytes": sum(int(b["size"]) for b in blobs), "first_recorded": row["first_recorded"],
                "last_recorded": row["last_recorded"],
                "by_model": [{**m, "recordings": int(m["recordings"])} for m in by_model], "stored_bytes": None}

    def blobs(self) -> list[dict[str, Any]]:
        """See `protocol.Store.blobs`: the media, response and HTTP exchange body blobs of this cassette."""
        digests = {r["hash"] for r in self._rows(
            "SELECT DISTINCT m.hash FROM media m JOIN recordings r ON r.id = m.recording_id "
            "WHERE r.cassette_id = %s AND m.hash IS NOT NULL", (self.cassette_id,))}
        digests |= self._response_refs(self.cassette_id)
        if self.holds_exchanges:
            for name in ("request_body", "response_body"):
                digests |= {r["hash"] for r in self._rows(
                    f"SELECT DISTINCT {name} AS hash FROM http_exchanges WHERE cassette_id = %s "
                    f"AND {name} IS NOT NULL", (self.cassette_id,))}
        return self._rows("SELECT hash, size, content_type FROM blobs WHERE hash = ANY(%s) ORDER BY hash",
                          (sorted(digests),))

    def _response_refs(self, cassette_id: int | None, excluding: Collection[int] = ()) -> set[str]:
        """The `{"$blob": hash}` references in responses (of one cassette, or of all)."""
        from .maintenance import blob_refs, decode_field

        where = "" if cassette_id is None else "cassette_id = %s AND "
        refs: set[str] = set()
        for r in self._rows(f"SELECT id, response FROM recordings WHERE {where}strpos(response, '\"$blob\"') > 0",
                            () if cassette_id is None else (cassette_id,)):
            if r["id"] not in excluding:
                refs.update(blob_refs(decode_field(self, r, "response"), f"cassette {self.path}, recording #{r['id']}"))
        return refs

    def http_interactions(self) -> list[dict[str, Any]]:
        """See `protocol.Store.http_interactions`: imports go into a file, so none."""
        return []

    def count_http_interactions(self) -> int:
        """See `protocol.Store.count_http_interactions`: none (imports go into a file)."""
        return 0

    def prune_blobs(self, *, excluding: Collection[int] = (), dry_run: bool = False) -> list[dict[str, Any]]:
        """See `protocol.Store.prune_blobs`. Blobs are shared by the database's cassettes,
        so a blob goes only when no row of any cassette refers to it; the table lock
        (which every writer's blob insert waits for) keeps a concurrent recording from
        referring to a blob this deletes."""
        skip = list(excluding)
        with self._transaction("pruning blobs") as conn:
            if not dry_run:
                conn.execute("LOCK TABLE blobs IN SHARE ROW EXCLUSIVE MODE")
            refs = {r[0] for r in conn.execute(
                "SELECT DISTINCT hash FROM media WHERE hash IS NOT NULL AND NOT (recording_id = ANY(%s))", (skip,))}
            refs |= self._response_refs(None, set(skip))
            refs |= self._exchange_refs(conn)
            orphans = [r for r in self._rows("SELECT hash, size FROM blobs ORDER BY hash") if r["hash"] not in refs]
            if orphans and not dry_run:
                conn.execute("DELETE FROM blobs WHERE hash = ANY(%s)", ([r["hash"] for r in orphans],))
        return orphans

    def _exchange_refs(self, conn: Any) -> set[str]:
        """Body blobs of HTTP exchanges, where the database holds them: never pruned."""
        columns = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'http_exchanges'")}
        refs: set[str] = set()
        for name in ("request_body", "response_body"):
            if name in columns:
                refs |= {r[0] for r in conn.execute(f"SELECT DISTINCT {name} FROM http_exchanges "
                                                    f"WHERE {name} IS NOT NULL")}
        return refs

    def vacuum(self) -> None:
        """See `protocol.Store.vacuum` (the blob tables, where deleted media leave space)."""
        with self._guard("vacuuming"):
            self._conn().execute("VACUUM blobs, blob_chunks")


def in_hash_order(blobs: list[BlobSource]) -> list[BlobSource]:
    """Blobs once each, by hash: every writer takes the blobs' row locks in one order."""
    return sorted({b.hash: b for b in blobs}.values(), key=lambda b: b.hash)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A recording as the SQLite store returns it (no `cassette_id`)."""
    row.pop("cassette_id", None)
    return row
