"""The cassette file: one SQLite database, read through sqlite3 and written through sqlite-utils.

One store, called from both faces (the async face runs its methods in a thread through
`Blocking` effects). What makes it safe to share:

- WAL journal, `busy_timeout` and one short `BEGIN IMMEDIATE` transaction per
  recording: threads, asyncio tasks and processes append to one file at once, and a
  crash (even `kill -9`) leaves every committed recording in place;
- one connection per thread (and per process: a forked child opens its own);
- a versioned schema (`PRAGMA user_version`, migrations by sqlite-utils) under our
  `application_id`: a corrupt file, a foreign database or a newer schema raise a
  `CassetteError` that says so, never a bare `sqlite3` error.

Schema (version 1):

```text
recordings         id, key, seq, kind, provider, model, request, outcome,
                   response, error, timeline, duration, library_version,
                   recorded_at, recorded_ts          unique (key, seq)
blobs              hash (sha256) primary key, size, content_type, data (raw bytes)
media              recording_id, slot, url, hash, content_type
http_interactions  id, fingerprint (unique), method, uri, request, response,
                   request_body, response_body (blob hashes), recorded_at
```

Schema version 2 adds `plays` (recording_id, plays, run_at); version 3 adds:

```text
http_exchanges     id, key, seq, method, url (scrubbed), host, path, request
                   (canonical JSON), status, headers, request_body, response_body
                   (blob hashes), provider, role, job, terminal, recorded_at,
                   recorded_ts                         unique (key, seq)
```

Blobs are stored once per content hash, as raw bytes, and streamed in and out in
chunks with SQLite's incremental blob I/O, so a 500 MB video never sits in memory.

(Slightly past 400 lines on purpose: every SQL statement that touches the file lives
here, so locking and error mapping are decided in one place. Summary, verify and prune
are in `maintenance`.)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..exceptions import CassetteError

if TYPE_CHECKING:  # sqlite-utils loads on the first write: a replay reads through sqlite3 alone
    from sqlite_utils import Database, Migrations

__all__ = ["APPLICATION_ID", "BlobSource", "CassetteStore", "SCHEMA_VERSION", "check_digest", "guard", "path_inside", "verified", "write_file"]

log = logging.getLogger("tarash.cassettes")
APPLICATION_ID = 0x54524353  # "TRCS": marks a file as a tarash cassette
BUSY_TIMEOUT_S = 60.0
CHUNK = 1 << 20

_DIGEST = re.compile(r"[0-9a-f]{64}")


def check_digest(value: Any, where: str) -> str:
    """`value` if it is a blob hash (64 lowercase hex characters), else a CassetteError.

    A cassette is untrusted input and blob hashes become file names (`media="file"`,
    `--blobs-dir`), so every hash read from a cassette, an export or an import passes
    here before it is used. `where` names the file and the row.
    """
    if isinstance(value, str) and _DIGEST.fullmatch(value):
        return value
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    raise CassetteError(f"{where}: blob hash {shown} is not a sha256 digest (64 lowercase hex characters); "
                        "the file was damaged or edited")


def path_inside(directory: Path, name: str, where: str) -> Path:
    """`directory / name`, resolved, refused unless it stays inside `directory`."""
    base = directory.resolve()
    target = (base / name).resolve()
    if target == base or not target.is_relative_to(base):
        raise CassetteError(f"{where}: the file name {name!r} would be written outside {directory}")
    return target


def verified(chunks: Iterable[bytes], digest: str, size: int, where: str) -> Iterator[bytes]:
    """A blob's chunks, hashed as they pass; the last one is held back until the hash and
    size match, so damaged or edited bytes raise a CassetteError naming `where` before the
    caller has them all. Both stores stream their blobs through it."""
    hasher, seen, held = hashlib.sha256(), 0, b""
    for data in chunks:
        hasher.update(data)
        seen += len(data)
        if held:
            yield held
        held = data
    if hasher.hexdigest() != digest or seen != size:
        raise CassetteError(
            f"{where}: blob {digest[:12]}... does not hold the bytes its hash says "
            f"({seen} bytes, sha256 {hasher.hexdigest()[:12]}...): the cassette was damaged or edited"
        )
    if held:
        yield held


def write_file(chunks: Iterable[bytes], target: Path) -> Path:
    """Stream chunks into `target`: written beside it, renamed into place once complete, so a
    failure (a damaged blob, a full disk) leaves no partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tarash-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for data in chunks:
                out.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def m001_initial(db: Database) -> None:
    db.table("recordings").create(
        {
            "id": int, "key": str, "seq": int, "kind": str, "provider": str, "model": str,
            "request": str, "outcome": str, "response": str, "error": str, "timeline": str,
            "duration": float, "library_version": str, "recorded_at": str, "recorded_ts": float,
        },
        pk="id",
        not_null={"key", "seq", "kind", "provider", "model", "request", "outcome"},
    )
    db.table("recordings").create_index(["key", "seq"], unique=True)
    db.table("recordings").create_index(["kind", "provider", "model"])
    db.table("blobs").create({"hash": str, "size": int, "content_type": str, "data": bytes}, pk="hash")
    db.table("media").create(
        {"recording_id": int, "slot": str, "url": str, "hash": str, "content_type": str},
        pk=("recording_id", "slot"),
    )
    db.table("media").create_index(["hash"])
    db.table("http_interactions").create(
        {
            "id": int, "fingerprint": str, "method": str, "uri": str, "request": str, "response": str,
            "request_body": str, "response_body": str, "recorded_at": str,
        },
        pk="id",
    )
    db.table("http_interactions").create_index(["fingerprint"], unique=True)


def m002_plays(db: Database) -> None:
    """How often the last strict run replayed each recording (`prune --unused`)."""
    db.table("plays").create({"recording_id": int, "plays": int, "run_at": str}, pk="recording_id")


def m003_http_exchanges(db: Database) -> None:
    """HTTP-level recordings (`http`): one row per request and answer."""
    db.table("http_exchanges").create(
        {
            "id": int, "key": str, "seq": int, "method": str, "url": str, "host": str, "path": str,
            "request": str, "status": int, "headers": str, "request_body": str, "response_body": str,
            "provider": str, "role": str, "job": str, "terminal": int, "recorded_at": str, "recorded_ts": float,
        },
        pk="id",
        not_null={"key", "seq", "method", "url", "host", "request", "status", "headers", "role"},
    )
    db.table("http_exchanges").create_index(["key", "seq"], unique=True)
    db.table("http_exchanges").create_index(["host", "path"])


#: The schema's migrations, oldest first; the schema version is their number.
_STEPS = (m001_initial, m002_plays, m003_http_exchanges)
_KNOWN = [step.__name__ for step in _STEPS]
SCHEMA_VERSION = len(_STEPS)
_TABLES = ("recordings", "blobs", "media", "http_interactions", "plays", "http_exchanges")


@functools.cache
def _migrations() -> Migrations:
    """The schema's migrations for sqlite-utils (built on first use: only creating or
    upgrading a file needs them)."""
    from sqlite_utils import Migrations

    migrations = Migrations("tarash-cassette")
    for step in _STEPS:
        migrations()(step)
    return migrations


@dataclass(slots=True)
class BlobSource:
    """Bytes to store once under their sha256: in memory (`data`) or in a file (`file`)."""

    hash: str
    size: int
    content_type: str | None = None
    data: bytes | None = None
    file: IO[bytes] | None = None

    @classmethod
    def of(cls, data: bytes, content_type: str | None = None) -> BlobSource:
        return cls(hashlib.sha256(data).hexdigest(), len(data), content_type, data=data)


#: sqlite3's words for failed writes, and what they mean to a user.
_WRITE_FAILURES = (
    ("database or disk is full", "the disk is full"),
    ("attempt to write a readonly database", "the cassette is read-only"),
    ("readonly database", "the cassette is read-only"),
    ("unable to open database file", "the file cannot be opened (missing or unwritable directory, or no permission)"),
    ("disk i/o error", "a disk I/O error occurred"),
)


@contextlib.contextmanager
def guard(path: str, doing: str) -> Iterator[None]:
    """sqlite3's errors, as the clear CassetteError the gateway promises.

    Lock timeouts and write failures (disk full, read-only file or mount) say so; only
    what is left is reported as a damaged file.
    """
    try:
        yield
    except _SQLITE_ERRORS as error:
        raise _failure(path, doing, error) from error


_SQLITE_ERRORS = (sqlite3.DatabaseError, UnicodeDecodeError)  # a damaged schema may not even decode


def _failure(path: str, doing: str, error: Exception) -> CassetteError:
    """The CassetteError `guard` raises for one of sqlite3's errors."""
    text = str(error)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return CassetteError(f"cassette {path} stayed locked by another writer while {doing}: {text}")
    for needle, meaning in _WRITE_FAILURES:
        if needle in lowered:
            return CassetteError(f"cassette {path}: {meaning} ({doing}: {text})")
    return CassetteError(f"cassette {path} is damaged or is not a cassette ({doing}: {text})")


def _writable(file: Path) -> bool:
    """Whether a recording could be written: the file and its directory (for the journal)."""
    return os.access(file, os.W_OK) and os.access(file.parent, os.W_OK)


def _wal_size(file: Path) -> int:
    try:
        return file.with_name(file.name + "-wal").stat().st_size
    except OSError:
        return 0


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class CassetteStore:
    """One cassette file. Open it with `open`; every method is thread-safe.

    Examples:
        >>> store = CassetteStore.open("cassettes/run.db", create=False)  # doctest: +SKIP
        >>> store.count_recordings()  # doctest: +SKIP
        12
    """

    def __init__(self, path: str | os.PathLike[str], *, display: str | None = None) -> None:
        self.file = Path(path)
        self.path = display or str(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._generation = 0
        self._pid = os.getpid()
        self._wrote = False
        self._wal_checked = False
        #: The file's schema version: older ones are read as they are (see :meth:`upgrade`).
        self.version = SCHEMA_VERSION
        #: Whether connections open the file read-only (set by :meth:`check`): a replay
        #: writes nothing, so it works on read-only files, directories and mounts.
        self.readonly = False

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool, display: str | None = None) -> CassetteStore:
        """Open (and with `create`, make or upgrade) a cassette; check what it is first."""
        store = cls(path, display=display)
        store.check(create=create)
        return store

    # -- connections -------------------------------------------------------------------

    def db(self) -> Database:
        """This thread's connection, wrapped by sqlite-utils (for writing: reads go
        through `conn`, without loading sqlite-utils)."""
        entry = self._entry()
        if entry[2] is None:
            from sqlite_utils import Database

            entry[2] = Database(entry[1], execute_plugins=False, recursive_triggers=False)
        return entry[2]

    def conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        return self._entry()[1]

    def _entry(self) -> list[Any]:
        """This thread's `[generation, connection, sqlite-utils wrapper or None]`."""
        if os.getpid() != self._pid:  # a forked child must not use its parent's connections
            self._pid, self._conns, self._local = os.getpid(), [], threading.local()
        entry = getattr(self._local, "entry", None)
        if entry is not None and entry[0] == self._generation:
            return entry
        with guard(self.path, "opening"):
            conn = self._connect_readonly() if self.readonly else self._connect(self.file)
            conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            # Worker threads come and go (each asyncio.run has its own executor): close the
            # connections of finished threads rather than keep them open for the process.
            finished = [c for t, c in self._conns if not t.is_alive()]
            self._conns = [(t, c) for t, c in self._conns if t.is_alive()]
            self._conns.append((threading.current_thread(), conn))
            entry = self._local.entry = [self._generation, conn, None]
        for old in finished:
            with contextlib.suppress(sqlite3.Error):
                old.close()
        return entry

    @staticmethod
    def _connect(target: str | Path, *, uri: bool = False) -> sqlite3.Connection:
        return sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False, uri=uri)

    def _connect_readonly(self) -> sqlite3.Connection:
        """A read-only connection; `immutable` where even that cannot open (a WAL-mode
        file in a read-only directory, whose `-shm` cannot be made)."""
        base = self.file.absolute().as_uri()
        error: sqlite3.Error | None = None
        for params in ("mode=ro", "mode=ro&immutable=1"):
            conn = self._connect(f"{base}?{params}", uri=True)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error as failed:
                conn.close()
                error = failed
                continue
            if "immutable" in params and _wal_size(self.file):
                log.warning("cassette %s is read-only and has an unmerged -wal file; what it holds is not "
                            "seen (close the recording session that wrote it to merge it)", self.path)
            return conn
        assert error is not None
        raise error

    def close(self) -> None:
        """Close every connection; the store reopens on its next use.

        After writing, the file is left self-contained: the WAL is merged into it and
        the `-wal`/`-shm` files are removed (unless another process still has it open,
        in which case the last one to close does it), so what git commits is complete.
        """
        with self._lock:
            conns, self._conns = self._conns, []
            self._generation += 1
            wrote, self._wrote = self._wrote, False
            self._wal_checked = False
        for _, conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        if wrote and not self.readonly:
            self._settle()

    def _settle(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            conn = self._connect(self.file)
            try:
                conn.execute("PRAGMA busy_timeout=0")  # another process has it open: it settles it later
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute("PRAGMA journal_mode=DELETE")
            finally:
                conn.close()

    @contextlib.contextmanager
    def transaction(self, doing: str) -> Iterator[Database]:
        """One short write transaction, taken at once (`BEGIN IMMEDIATE`); inside
        `atomic`, a part of that one."""
        if self.readonly and not self.upgrade():
            raise CassetteError(f"cassette {self.path}: the cassette is read-only ({doing} needs to write to it)")
        db = self.db()
        if getattr(self._local, "atomic", None) is db:
            yield db
            return
        with guard(self.path, doing):
            self._wal(db)
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.conn.execute("COMMIT")
                self._wrote = True
            except BaseException:
                if db.conn.in_transaction:  # also when COMMIT itself failed
                    db.conn.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def atomic(self, doing: str) -> Iterator[None]:
        """Many writes of this thread as one transaction: all of them land, or none.

        For imports: the transactions of the writes inside become part of this one, so
        an import that fails half way leaves the cassette as it was.
        """
        with self.transaction(doing) as db:
            self._local.atomic = db
            try:
                yield
            finally:
                self._local.atomic = None

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read, as dicts (errors become `CassetteError`, as in `guard`)."""
        try:  # not `with guard(...)`: a replayed request makes one or two reads, and a context manager costs as much
            return _rows(self.conn().execute(sql, params))
        except _SQLITE_ERRORS as error:
            raise _failure(self.path, "reading", error) from error

    # -- schema ------------------------------------------------------------------------

    def check(self, *, create: bool) -> None:
        """Refuse a foreign, damaged or newer file; create or migrate ours when allowed.

        A file that exists is opened read-only unless `create` asks for writing and the
        file and its directory are writable: a replay on a read-only checkout works.
        """
        if not self.file.exists():
            if not create:
                raise CassetteError(f"cassette {self.path} does not exist")
            try:
                self.file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise CassetteError(f"cassette {self.path} cannot be created: {error.strerror or error}") from None
        else:
            self.readonly = not (create and _writable(self.file))
        conn = self.conn()
        with guard(self.path, "checking its schema"):
            app_id, version = self._header(conn)
            if app_id == APPLICATION_ID and version == SCHEMA_VERSION:
                return  # the common case: both are set by one transaction, so both are current
            db = self.db()  # sqlite-utils from here on: only a file to create or migrate gets here
            # Header and tables read again in one snapshot: a writer creating the schema meanwhile
            # must not make a half-seen file (no header yet, tables already) look foreign.
            db.conn.execute("BEGIN")
            try:
                app_id, version = self._header(db)
                self._refuse_foreign(db, app_id, version)  # before anything (WAL mode) is written to a file not ours
            finally:
                db.conn.execute("COMMIT")
            if app_id == APPLICATION_ID and version == SCHEMA_VERSION:
                return
            if self.readonly:
                create = False  # a read-only file is read as it is, or refused below
            if create:
                self._wal(db)
            # From here on one snapshot (reads in separate statements could straddle another
            # process's creation of the schema), and for creating, the write lock.
            db.conn.execute("BEGIN IMMEDIATE" if create else "BEGIN")
            try:
                self._migrate(db, create=create)
                db.conn.execute("COMMIT")
                self._wrote = self._wrote or create
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise

    def _wal(self, db: Database) -> None:
        """Writers share the file in WAL mode; set at the first write, so a replay leaves the
        file exactly as it was (a closed recording session puts it back in rollback mode)."""
        if self._wal_checked:
            return
        self._wal_checked = True
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            with contextlib.suppress(sqlite3.OperationalError):  # another connection holds it: it stays as it is
                db.execute("PRAGMA journal_mode=WAL")

    def upgrade(self) -> bool:
        """Whether the store can be written, switching a store opened read-only to
        read-write where the file and its directory allow it.

        Each thread's next `db` opens a read-write connection; the read-only ones
        stay usable until `close`.
        """
        with self._lock:
            if not (self.readonly and _writable(self.file)):
                return not self.readonly
            self.readonly = False
            self._generation += 1
        if self.version < SCHEMA_VERSION:
            self.check(create=True)  # migrate the older schema, now that it can be written
            self.version = SCHEMA_VERSION
        return True

    def _migrate(self, db: Database, *, create: bool) -> None:
        app_id, version = self._header(db)
        self._refuse_foreign(db, app_id, version)
        if app_id == APPLICATION_ID and version == SCHEMA_VERSION:
            return  # another writer created it meanwhile
        if not create:
            if app_id == 0:
                raise CassetteError(f"{self.path} is an empty file, not a cassette yet")
            if version >= 1 and self.readonly:
                self.version = version  # an older schema reads as it is; writing upgrades it
                return
            raise CassetteError(
                f"cassette {self.path} has schema version {version}, this tarash-gateway writes "
                f"{SCHEMA_VERSION}; open it once for recording to upgrade it"
            )
        unknown = [m.name for m in _migrations().applied(db) if m.name not in _KNOWN]
        if unknown:
            raise CassetteError(f"cassette {self.path} has migrations this tarash-gateway does not know: {unknown}")
        _migrations().apply(db)
        db.conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        db.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _header(self, conn: sqlite3.Connection | Database) -> tuple[int, int]:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        return app_id, version

    def _refuse_foreign(self, db: Database, app_id: int, version: int) -> None:
        if app_id not in (0, APPLICATION_ID):
            raise CassetteError(f"{self.path} is a SQLite database of another application, not a tarash cassette")
        if version > SCHEMA_VERSION:
            raise CassetteError(
                f"cassette {self.path} has schema version {version}, newer than this tarash-gateway "
                f"understands ({SCHEMA_VERSION}); upgrade tarash-gateway to read it"
            )
        if app_id == 0:
            tables = [t for t in db.table_names() if not t.startswith("sqlite_")]
            if tables:
                raise CassetteError(
                    f"{self.path} is a SQLite database but not a tarash cassette (it holds {', '.join(tables[:5])})"
                )

    # -- recordings --------------------------------------------------------------------

    def has_recordings(self) -> bool:
        return bool(self.query("SELECT EXISTS (SELECT 1 FROM recordings) AS any_")[0]["any_"])

    def count_recordings(self) -> int:
        return self.query("SELECT count(*) AS n FROM recordings")[0]["n"]

    def find(self, key: str, index: int, *, repeats: bool = False) -> dict[str, Any] | None:
        """The `index`-th recording (1-based, in recorded order) of a key; with
        `repeats`, the last one when there are fewer."""
        rows = self.query("SELECT * FROM recordings WHERE key = ? ORDER BY seq LIMIT 1 OFFSET ?", (key, index - 1))
        if not rows and repeats:
            rows = self.query("SELECT * FROM recordings WHERE key = ? ORDER BY seq DESC LIMIT 1", (key,))
        return rows[0] if rows else None

    def get(self, recording_id: int) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM recordings WHERE id = ?", (recording_id,))
        return rows[0] if rows else None

    def count(self, key: str) -> int:
        return self.query("SELECT count(*) AS n FROM recordings WHERE key = ?", (key,))[0]["n"]

    def requests(self) -> Iterator[tuple[int, str]]:
        """`(id, canonical request JSON)` of every recording, in recorded order."""
        with guard(self.path, "reading"):
            yield from self.conn().execute("SELECT id, request FROM recordings ORDER BY id")

    def candidates(self, kind: str, provider: str, model: str, limit: int = 200) -> list[dict[str, Any]]:
        """Recordings of a kind, those of the same provider and model first, newest first."""
        return self.query(
            "SELECT id, provider, model, recorded_at, request FROM recordings WHERE kind = ? "
            "ORDER BY (provider = ? AND model = ?) DESC, id DESC LIMIT ?",
            (kind, provider, model, limit),
        )

    def recordings(self) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM recordings ORDER BY id")

    def recordings_by_id(self, ids: list[int]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows += self.query(f"SELECT * FROM recordings WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        return sorted(rows, key=lambda r: r["id"])

    def recording_ids(self, up_to: int) -> list[int]:
        return [r["id"] for r in self.query("SELECT id FROM recordings WHERE id <= ? ORDER BY id", (up_to,))]

    def redacted_requests(self) -> list[dict[str, Any]]:
        return self.query("SELECT id, key, request FROM recordings WHERE instr(request, '[REDACTED]') > 0 ORDER BY id")

    def add_recording(
        self,
        row: dict[str, Any],
        *,
        blobs: list[BlobSource] = (),  # type: ignore[assignment]
        media: list[dict[str, Any]] = (),  # type: ignore[assignment]
        replace_before: float | None = None,
        replace: int | None = None,
    ) -> tuple[int, int]:
        """Store one recording with its media in one transaction; returns `(id, seq)`.

        The recording takes the next `seq` of its key, allocated inside the
        transaction, so concurrent writers of equal requests never collide. With
        `replace_before` (a `time.time()`), recordings of the same key made before
        then are deleted first (record mode `all`). With `replace` (a recording id of
        the same key), that recording gives way to this one, which takes its `seq` (an
        expired recording recorded afresh keeps its place among its key's recordings).
        """
        with self.transaction("recording") as db:
            if replace_before is not None:
                old = [r[0] for r in db.execute(
                    "SELECT id FROM recordings WHERE key = ? AND recorded_ts < ?", (row["key"], replace_before))]
                if old:
                    marks = ",".join("?" * len(old))
                    db.execute(f"DELETE FROM media WHERE recording_id IN ({marks})", old)
                    db.execute(f"DELETE FROM recordings WHERE id IN ({marks})", old)
            kept = None
            if replace is not None:
                kept = db.execute("SELECT seq FROM recordings WHERE id = ? AND key = ?", (replace, row["key"])).fetchone()
                db.execute("DELETE FROM media WHERE recording_id = ?", (replace,))
                db.execute("DELETE FROM recordings WHERE id = ? AND key = ?", (replace, row["key"]))
            if kept is not None:
                seq = kept[0]
            else:
                seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM recordings WHERE key = ?",
                                 (row["key"],)).fetchone()[0]
            for blob in blobs:
                self._put_blob(db, blob)
            recording_id = db.table("recordings").insert({**row, "seq": seq}).last_pk
            for item in media:
                db.table("media").insert({**item, "recording_id": recording_id}, replace=True)
        return int(recording_id), int(seq)  # type: ignore[arg-type]

    def delete_recordings(self, ids: list[int]) -> int:
        with self.transaction("deleting recordings") as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                db.execute(f"DELETE FROM media WHERE recording_id IN ({marks})", chunk)
                db.execute(f"DELETE FROM plays WHERE recording_id IN ({marks})", chunk)
                db.execute(f"DELETE FROM recordings WHERE id IN ({marks})", chunk)
        return len(ids)

    def max_recording_id(self) -> int:
        return self.query("SELECT coalesce(max(id), 0) AS n FROM recordings")[0]["n"]

    def save_plays(self, plays: dict[int, int], held: list[int], run_at: str) -> None:
        """Keep how often a strict run replayed each recording it `held` (the last run wins)."""
        with self.transaction("keeping play counts") as db:
            db.execute("DELETE FROM plays")
            db.table("plays").insert_all(
                [{"recording_id": i, "plays": plays.get(i, 0), "run_at": run_at} for i in held], pk="recording_id")

    def plays(self) -> dict[int, int]:
        """The play counts the last strict run kept (empty when none was kept)."""
        if self.version < 2:
            return {}
        return {r["recording_id"]: r["plays"] for r in self.query("SELECT recording_id, plays FROM plays")}

    # -- blobs and media ---------------------------------------------------------------

    def _put_blob(self, db: Database, blob: BlobSource) -> None:
        if db.execute("SELECT 1 FROM blobs WHERE hash = ?", (blob.hash,)).fetchone():
            return
        record = {"hash": blob.hash, "size": blob.size, "content_type": blob.content_type}
        if blob.data is not None:
            db.table("blobs").insert({**record, "data": blob.data})
            return
        assert blob.file is not None
        db.table("blobs").insert({**record, "data": blob.size}, conversions={"data": "zeroblob(?)"})
        rowid = db.execute("SELECT rowid FROM blobs WHERE hash = ?", (blob.hash,)).fetchone()[0]
        blob.file.seek(0)
        with db.conn.blobopen("blobs", "data", rowid) as target:
            while chunk := blob.file.read(CHUNK):
                target.write(chunk)

    def put_blobs(self, blobs: list[BlobSource]) -> None:
        with self.transaction("storing blobs") as db:
            for blob in blobs:
                self._put_blob(db, blob)

    def media(self, recording_id: int) -> dict[str, dict[str, Any]]:
        """The captured media of a recording, by slot (`video`, `images/0` ...)."""
        return {r["slot"]: r for r in self.query(
            "SELECT m.slot, m.url, m.hash, coalesce(m.content_type, b.content_type) AS content_type, b.size "
            "FROM media m LEFT JOIN blobs b ON b.hash = m.hash WHERE m.recording_id = ?", (recording_id,))}

    def blobs(self) -> list[dict[str, Any]]:
        """`hash`, `size` and `content_type` of every blob, by hash."""
        return self.query("SELECT hash, size, content_type FROM blobs ORDER BY hash")

    def all_media(self) -> list[dict[str, Any]]:
        """See `protocol.Store.all_media`."""
        return self.query("SELECT recording_id, slot, url, hash, content_type FROM media ORDER BY recording_id, slot")

    def blob_info(self, digest: str) -> dict[str, Any] | None:
        rows = self.query("SELECT rowid AS rowid, hash, size, content_type FROM blobs WHERE hash = ?", (digest,))
        return rows[0] if rows else None

    def read_blob(self, digest: str, owner: str = "") -> bytes:
        """A blob's bytes, in memory (only when the caller asked for bytes), verified."""
        return b"".join(self.iter_blob(digest, owner=owner))

    def iter_blob(self, digest: str, chunk: int = CHUNK, *, owner: str = "") -> Iterator[bytes]:
        """A blob's bytes in chunks, never the whole blob at once, checked against its hash.

        The bytes are hashed as they stream; the last chunk is held back until the hash
        and size are checked, so a damaged or edited blob raises a `CassetteError`
        naming it (and `owner`, the recording that asked) before the caller has it all.
        """
        where = f"cassette {self.path}" + (f", {owner}" if owner else "")
        check_digest(digest, where)
        info = self.blob_info(digest)
        if info is None:
            raise CassetteError(f"{where} lacks blob {digest[:12]}... (damaged; run tarash cassette verify)")
        with guard(self.path, "reading a blob"), self.conn().blobopen(
            "blobs", "data", info["rowid"], readonly=True
        ) as source:
            yield from verified(iter(lambda: source.read(chunk), b""), digest, info["size"], where)

    def copy_blob(self, digest: str, target: Path, owner: str = "") -> Path:
        """Stream a blob into a file (written beside it, checked, then renamed into place)."""
        return write_file(self.iter_blob(digest, owner=owner), target)

    # -- raw HTTP interactions (vcrpy persister, YAML import) ---------------------------

    def http_interactions(self) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM http_interactions ORDER BY id")

    def count_http_interactions(self) -> int:
        return int(self.query("SELECT count(*) AS n FROM http_interactions")[0]["n"])

    def add_http_interactions(self, rows: list[dict[str, Any]], blobs: list[BlobSource]) -> int:
        """Add interactions not stored yet (by `fingerprint`); returns how many were new."""
        with self.transaction("recording HTTP interactions") as db:
            for blob in blobs:
                self._put_blob(db, blob)
            before = db.execute("SELECT count(*) FROM http_interactions").fetchone()[0]
            if rows:
                db.table("http_interactions").insert_all(rows, ignore=True)
            return db.execute("SELECT count(*) FROM http_interactions").fetchone()[0] - before

    # -- HTTP exchanges (the HTTP level, `http`) ------------------------------------

    def find_exchange(self, key: str, index: int | None, *, inline: int) -> dict[str, Any] | None:
        """One exchange of a key with its answer's body (`body`, when at most `inline`
        bytes; else `body_size` only): the `index`-th in recorded order (1-based), or
        with `index=None` the first terminal one, else the last. One indexed query."""
        if not self.holds_exchanges:
            return None
        order = "ORDER BY e.seq LIMIT 1 OFFSET ?" if index is not None else "ORDER BY e.terminal DESC, e.seq DESC LIMIT 1"
        params: tuple[Any, ...] = (inline, key) + ((index - 1,) if index is not None else ())
        rows = self.query(
            "SELECT e.id, e.seq, e.status, e.headers, e.response_body, e.role, e.terminal, b.size AS body_size, "
            "CASE WHEN b.size <= ? THEN b.data END AS body FROM http_exchanges e "
            f"LEFT JOIN blobs b ON b.hash = e.response_body WHERE e.key = ? {order}",
            params,
        )
        return rows[0] if rows else None

    def count_exchanges(self, key: str | None = None) -> int:
        """How many exchanges the file holds (of one key, if given)."""
        if not self.holds_exchanges:
            return 0
        if key is None:
            return self.query("SELECT count(*) AS n FROM http_exchanges")[0]["n"]
        return self.query("SELECT count(*) AS n FROM http_exchanges WHERE key = ?", (key,))[0]["n"]

    def has_exchanges(self) -> bool:
        """Whether the file holds any exchange (no count: one step into the table)."""
        if not self.holds_exchanges:
            return False
        return bool(self.query("SELECT EXISTS (SELECT 1 FROM http_exchanges) AS any_")[0]["any_"])

    def holds_host(self, host: str) -> bool:
        """Whether the file holds exchanges of a host (one indexed lookup)."""
        if not self.holds_exchanges:
            return False
        return bool(self.query("SELECT EXISTS (SELECT 1 FROM http_exchanges WHERE host = ?) AS any_", (host,))[0]["any_"])

    @property
    def holds_exchanges(self) -> bool:
        """Whether the file's schema has HTTP exchanges (version 3; older files read as they are)."""
        return self.version >= 3

    def exchange_hosts(self) -> set[str]:
        """The hosts the file holds exchanges of."""
        if not self.holds_exchanges:
            return set()
        return {r["host"] for r in self.query("SELECT DISTINCT host FROM http_exchanges")}

    def exchange_candidates(self, host: str, path: str, limit: int = 50) -> list[dict[str, Any]]:
        """Exchanges of a host, those of the same path first, newest first (miss messages)."""
        if not self.holds_exchanges:
            return []
        return self.query(
            "SELECT id, method, url, request, recorded_at FROM http_exchanges WHERE host = ? "
            "ORDER BY (path = ?) DESC, id DESC LIMIT ?",
            (host, path, limit),
        )

    def add_exchange(
        self, row: dict[str, Any], blobs: list[BlobSource], *, replace_before: float | None = None
    ) -> tuple[int, int]:
        """Store one exchange and its body blobs in one transaction; returns `(id, seq)`.

        It takes the next `seq` of its key inside the transaction; with
        `replace_before`, exchanges of the key recorded before then go first.
        """
        with self.transaction("recording an HTTP exchange") as db:
            if replace_before is not None:
                db.execute("DELETE FROM http_exchanges WHERE key = ? AND recorded_ts < ?", (row["key"], replace_before))
            seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM http_exchanges WHERE key = ?",
                             (row["key"],)).fetchone()[0]
            for blob in blobs:
                self._put_blob(db, blob)
            exchange_id = db.table("http_exchanges").insert({**row, "seq": seq}).last_pk
        return int(exchange_id), int(seq)  # type: ignore[arg-type]

    # -- looking after the file (ls, show, summary, prune; see `maintenance`) ----------

    def stats(self) -> dict[str, Any]:
        """See `protocol.Store.stats`."""
        from .maintenance import file_stats

        return file_stats(self)

    def prune_blobs(self, *, excluding: Collection[int] = (), dry_run: bool = False) -> list[dict[str, Any]]:
        """See `protocol.Store.prune_blobs`."""
        from .maintenance import referenced_blobs

        with self.transaction("pruning blobs") as db:  # references read inside: no writer can race us
            refs = referenced_blobs(self, excluding=set(excluding))
            orphans = [r for r in self.blobs() if r["hash"] not in refs]
            if not dry_run:
                for r in orphans:
                    db.execute("DELETE FROM blobs WHERE hash = ?", (r["hash"],))
        return orphans

    def vacuum(self) -> None:
        """See `protocol.Store.vacuum`."""
        with guard(self.path, "vacuuming"):
            self.db().execute("VACUUM")

    def exchanges(self) -> list[dict[str, Any]]:
        """Every exchange, in recorded order (none in an older schema)."""
        return self.query("SELECT * FROM http_exchanges ORDER BY id") if self.holds_exchanges else []

    def delete_exchanges(self, ids: list[int]) -> int:
        with self.transaction("deleting HTTP exchanges") as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                db.execute(f"DELETE FROM http_exchanges WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        return len(ids)

    def recorded_durations(self) -> list[dict[str, Any]]:
        return self.query("SELECT provider, model, duration FROM recordings WHERE duration > 0")
