"""The one store protocol the cassette layers use, and which store a cassette names.

Matching, scrubbing, record modes, expiry, strict replay and media delivery sit above
this protocol and are written once; a store only keeps recordings and blobs. Two
stores implement it:

- `store.CassetteStore`: one SQLite file (the default, kept in git);
- `pg_store.PgCassetteStore`: one named cassette in a PostgreSQL database, shared by
  a fleet (`postgresql://user@host:5432/db?cassette=render-farm`).

A cassette's path chooses: a `postgresql://` (or `postgres://`) URL opens the
PostgreSQL store, anything else is a file. Every method may be called from any thread
(the async face runs them in worker threads through `Blocking` effects) and raises
`CassetteError`, never a driver's own error.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # the package imports without sqlite-utils until a cassette is opened
    from .store import BlobSource

__all__ = ["Store", "cassette_identity", "display_name", "is_store_url", "media_dir_for", "open_store"]

_SCHEMES = ("postgresql://", "postgres://")


def is_store_url(path: str) -> bool:
    """Whether a cassette path names a PostgreSQL cassette rather than a file."""
    return path.lower().startswith(_SCHEMES)


def cassette_identity(path: str) -> str:
    """What makes two cassette paths the same cassette: the absolute file, or the URL
    as written (two spellings of one URL are two sessions, which is only slower)."""
    return path if is_store_url(path) else os.path.abspath(path)


def display_name(path: str) -> str:
    """How a cassette is named in messages, origins and logs: a URL without its password."""
    if not is_store_url(path):
        return path
    parts = urlsplit(path)
    if parts.password is None:
        return path
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{parts.username}@{netloc}", parts.path, parts.query, parts.fragment))


def media_dir_for(path: str) -> Path:
    """Where `media="file"` writes a cassette's media when `media_dir` is not given.

    Beside a file (`cassettes/run.db` -> `cassettes/run.media`); for a PostgreSQL
    cassette, which has no directory of its own, `tarash-media/<cassette>` under the
    current directory. Files are named by content hash and checked before reuse, so
    runners sharing the directory cannot mix media up.
    """
    if is_store_url(path):
        from .pg_store import parse_url

        return Path.cwd() / "tarash-media" / parse_url(path).cassette
    from .media import default_media_dir

    return default_media_dir(Path(os.path.abspath(path)))


def open_store(path: str, *, create: bool, display: str | None = None) -> Store | None:
    """The store a cassette path names, opened; `None` when it does not exist yet and
    `create` is false (a replay of a missing cassette writes nothing)."""
    if is_store_url(path):
        from .pg_store import PgCassetteStore

        return PgCassetteStore.open(path, create=create)
    from .store import CassetteStore

    file = Path(os.path.abspath(path))
    if not create and not (file.exists() and file.stat().st_size > 0):
        return None
    return CassetteStore.open(file, create=create, display=display or path)


@runtime_checkable
class Store(Protocol):
    """A cassette's recordings and blobs, as the layers above read and write them.

    Recordings are dicts with the columns of `recordings` (`id`, `key`, `seq`, `kind`,
    `provider`, `model`, `request`, `outcome`, `response`, `error`, `timeline`,
    `duration`, `library_version`, `recorded_at`, `recorded_ts`). Ids grow in recorded
    order; `seq` numbers each key's recordings 1, 2, 3 ... with no gap, whoever wrote
    them. What is stored was scrubbed of secrets by the caller: a store never sees one
    it should not keep.

    Examples:
        >>> store = open_store("cassettes/run.db", create=False)  # doctest: +SKIP
        >>> store.count("3f1a...")  # doctest: +SKIP
        2
    """

    #: How the cassette is named in messages (never with a password).
    path: str
    #: The schema version of what was opened (older ones read as they are).
    version: int
    #: Whether the store was opened for reading only (`upgrade` switches, if it can).
    readonly: bool

    @property
    def file(self) -> Path | None:
        """The file the cassette is kept in (`None` for a database): what an export
        must never write onto."""
        ...

    def upgrade(self) -> bool:
        """Whether the store can be written, switching it to writing where allowed."""
        ...

    def close(self) -> None:
        """Release connections; the store reopens on its next use."""
        ...

    # -- recordings --------------------------------------------------------------------

    def has_recordings(self) -> bool:
        """Whether the cassette holds any recording."""
        ...

    def count_recordings(self) -> int:
        """How many recordings the cassette holds."""
        ...

    def max_recording_id(self) -> int:
        """The largest recording id (0 when empty): what a session held when it opened."""
        ...

    def find(self, key: str, index: int, *, repeats: bool = False) -> dict[str, Any] | None:
        """The `index`-th recording (1-based, by `seq`) of a key; with `repeats`, the
        last one when there are fewer."""
        ...

    def get(self, recording_id: int) -> dict[str, Any] | None:
        """One recording by id."""
        ...

    def count(self, key: str) -> int:
        """How many recordings a key has."""
        ...

    def requests(self) -> Iterator[tuple[int, str]]:
        """`(id, canonical request JSON)` of every recording, in recorded order."""
        ...

    def redacted_requests(self) -> list[dict[str, Any]]:
        """`id`, `key`, `request` of recordings whose request holds `[REDACTED]` (keys
        made before secrets were left out of them), in recorded order."""
        ...

    def candidates(self, kind: str, provider: str, model: str, limit: int = 200) -> list[dict[str, Any]]:
        """Recordings of a kind, the same provider and model first, newest first
        (`id`, `provider`, `model`, `recorded_at`, `request`): a miss names them."""
        ...

    def recordings(self) -> list[dict[str, Any]]:
        """Every recording, in recorded order."""
        ...

    def recordings_by_id(self, ids: list[int]) -> list[dict[str, Any]]:
        """The recordings of `ids` that exist, in recorded order."""
        ...

    def recording_ids(self, up_to: int) -> list[int]:
        """Ids of the recordings up to `up_to`, in order."""
        ...

    def add_recording(
        self,
        row: dict[str, Any],
        *,
        blobs: list[BlobSource] = ...,
        media: list[dict[str, Any]] = ...,
        replace_before: float | None = None,
        replace: int | None = None,
    ) -> tuple[int, int]:
        """Store one recording, its blobs and media in one transaction; `(id, seq)`.

        The `seq` is the key's next, allocated inside the transaction so concurrent
        writers of equal requests never collide or leave gaps. `replace_before` (a
        `time.time()`) first deletes the key's recordings made before then (record mode
        `all`); `replace` (an id of the same key) gives that recording's place to this
        one (an expired recording recorded afresh). A writer killed mid-way leaves
        every recording committed before.
        """
        ...

    def delete_recordings(self, ids: list[int]) -> int:
        """Delete recordings with their media and play counts; how many were asked."""
        ...

    def save_plays(self, plays: dict[int, int], held: list[int], run_at: str) -> None:
        """Keep how often a strict run replayed each recording it held (last run wins)."""
        ...

    def plays(self) -> dict[int, int]:
        """The play counts the last strict run kept."""
        ...

    # -- blobs and media ---------------------------------------------------------------

    def media(self, recording_id: int) -> dict[str, dict[str, Any]]:
        """A recording's captured media by slot: `slot`, `url`, `hash`,
        `content_type`, `size`."""
        ...

    def all_media(self) -> list[dict[str, Any]]:
        """Every captured media row of the cassette as stored (`recording_id`, `slot`,
        `url`, `hash`, `content_type`, the last `None` when the capture named none), by
        recording id and slot: what an export writes."""
        ...

    def blob_info(self, digest: str) -> dict[str, Any] | None:
        """`hash`, `size`, `content_type` of a stored blob, or `None`."""
        ...

    def put_blobs(self, blobs: list[BlobSource]) -> None:
        """Store blobs not stored yet (by hash), streamed from their source."""
        ...

    def iter_blob(self, digest: str, chunk: int = ..., *, owner: str = "") -> Iterator[bytes]:
        """A blob's bytes in chunks, hashed as they stream; the last chunk is held back
        until hash and size are checked, so damaged bytes raise `CassetteError` (naming
        `owner`) before the caller has them all."""
        ...

    def read_blob(self, digest: str, owner: str = "") -> bytes:
        """A blob's bytes in memory (only where the caller asked for bytes), verified."""
        ...

    def copy_blob(self, digest: str, target: Path, owner: str = "") -> Path:
        """Stream a blob into a file (written beside it, checked, renamed into place)."""
        ...

    # -- looking after a cassette (`tarash cassette ls`, `show`, `summary`, `prune`) ---

    def stats(self) -> dict[str, Any]:
        """What the cassette holds at a glance, counted by the store: `recordings`,
        `errors`, `http_interactions`, `http_exchanges`, `blobs` and `blob_bytes` (those
        its recordings and exchanges refer to), `first_recorded`, `last_recorded`,
        `by_model` (`provider`, `model`, `recordings`, most first) and `stored_bytes`
        (the file's size; `None` for a database)."""
        ...

    def blobs(self) -> list[dict[str, Any]]:
        """`hash`, `size`, `content_type` of the blobs the cassette's rows refer to, by hash."""
        ...

    def http_interactions(self) -> list[dict[str, Any]]:
        """The imported vcrpy and HAR interactions (`id`, `method`, `uri`, `request`,
        `response`, `request_body`, `response_body`, `recorded_at`), in order."""
        ...

    def count_http_interactions(self) -> int:
        """How many imported vcrpy and HAR interactions the cassette holds."""
        ...

    def prune_blobs(self, *, excluding: Collection[int] = (), dry_run: bool = False) -> list[dict[str, Any]]:
        """The blobs no row refers to once the recordings `excluding` are gone (`hash`,
        `size`), deleted in one transaction unless `dry_run`.

        References are read inside that transaction, so a writer storing a recording
        at the same time cannot lose a blob it refers to.

        Raises:
            CassetteError: a reference cannot be read (what it points to is unknown,
                so nothing is deleted).
        """
        ...

    def vacuum(self) -> None:
        """Give the space of deleted rows back to the disk."""
        ...

    def recorded_durations(self) -> list[dict[str, Any]]:
        """`provider`, `model`, `duration` of the recordings that took time
        (`Latency(recorded=...)`)."""
        ...

    # -- HTTP exchanges (the HTTP level) -----------------------------------------------
    #
    # Exchanges are dicts with the columns of `http_exchanges` (`id`, `key`, `seq`,
    # `method`, `url`, `host`, `path`, `request`, `status`, `headers`, `request_body`,
    # `response_body`, `provider`, `role`, `job`, `terminal`, `recorded_at`,
    # `recorded_ts`); bodies are blobs, named by hash. As for recordings, `seq` numbers
    # each key's exchanges 1, 2, 3 ... in recorded order, allocated by the store.

    def find_exchange(self, key: str, index: int | None, *, inline: int) -> dict[str, Any] | None:
        """One exchange of a key with its answer's body (`body`, when at most `inline`
        bytes; else `body_size` only): the `index`-th in recorded order (1-based), or
        with `index=None` the first terminal one, else the last. One indexed query."""
        ...

    def count_exchanges(self, key: str | None = None) -> int:
        """How many exchanges the cassette holds (of one key, if given)."""
        ...

    def exchange_hosts(self) -> set[str]:
        """The hosts the cassette holds exchanges of."""
        ...

    def has_exchanges(self) -> bool:
        """Whether the cassette holds any exchange (no count: one step into the table)."""
        ...

    def holds_host(self, host: str) -> bool:
        """Whether the cassette holds exchanges of a host (one indexed lookup: what a
        replay asks of a host its settings do not name, instead of every host at open)."""
        ...

    def exchange_candidates(self, host: str, path: str, limit: int = 50) -> list[dict[str, Any]]:
        """Exchanges of a host, those of the same path first, newest first (`id`,
        `method`, `url`, `request`, `recorded_at`): a miss names them."""
        ...

    def exchanges(self) -> list[dict[str, Any]]:
        """Every exchange, in recorded order."""
        ...

    def add_exchange(
        self, row: dict[str, Any], blobs: list[BlobSource], *, replace_before: float | None = None
    ) -> tuple[int, int]:
        """Store one exchange and its body blobs in one transaction; `(id, seq)`.

        The `seq` is the key's next, allocated inside the transaction (as for
        `add_recording`); `replace_before` first deletes the key's exchanges recorded
        before then (record mode `all`).
        """
        ...

    def delete_exchanges(self, ids: list[int]) -> int:
        """Delete exchanges by id (their blobs stay until pruned); how many were asked."""
        ...
