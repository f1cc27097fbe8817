"""Looking after cassette files: summary, verify, prune. The CLI's `ls`, `show`,
`verify` and `prune` are thin wrappers over these."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import CassetteError
from .protocol import Store
from .store import CHUNK, CassetteStore, check_digest, guard

__all__ = ["PruneResult", "VerifyReport", "blob_refs", "decode_field", "file_stats", "prune", "referenced_blobs",
           "summary", "verify"]

_TABLES = ("recordings", "blobs", "media", "http_interactions", "http_exchanges")


def summary(store: Store) -> dict[str, Any]:
    """Counts, sizes, dates, and recordings per provider and model (`Store.stats`), with
    the schema version of what was opened: the same keys for a file and a database."""
    return {**store.stats(), "schema_version": store.version}


def file_stats(store: CassetteStore) -> dict[str, Any]:
    """`Store.stats` of a cassette file, counted in SQL."""
    row = store.query(
        "SELECT (SELECT count(*) FROM recordings) AS recordings, "
        "(SELECT count(*) FROM recordings WHERE outcome = 'error') AS errors, "
        "(SELECT count(*) FROM http_interactions) AS http_interactions, "
        + ("(SELECT count(*) FROM http_exchanges) AS http_exchanges, " if store.holds_exchanges else "0 AS http_exchanges, ")
        + "(SELECT count(*) FROM blobs) AS blobs, (SELECT coalesce(sum(size), 0) FROM blobs) AS blob_bytes, "
        "(SELECT min(recorded_at) FROM recordings) AS first_recorded, "
        "(SELECT max(recorded_at) FROM recordings) AS last_recorded"
    )[0]
    by_model = store.query(
        "SELECT provider, model, count(*) AS recordings FROM recordings GROUP BY provider, model "
        "ORDER BY recordings DESC, provider, model"
    )
    try:
        size: int | None = store.file.stat().st_size
    except OSError:
        size = None
    return {**row, "by_model": by_model, "stored_bytes": size}


def blob_refs(value: Any, where: str) -> Iterator[str]:
    """The `{"$blob": hash}` references inside a decoded value, each checked to be a digest.

    Raises:
        CassetteError: a reference is not a sha256 digest (`where` names the row).
    """
    if isinstance(value, dict):
        if "$blob" in value:
            yield check_digest(value["$blob"], where)
        for v in value.values():
            yield from blob_refs(v, where)
    elif isinstance(value, list):
        for v in value:
            yield from blob_refs(v, where)


def _blob_refs(value: Any) -> Iterator[str]:
    """`blob_refs` for callers that name the row themselves (`merge`)."""
    yield from blob_refs(value, "a recording's response")


def decode_field(store: Store, row: dict[str, Any], name: str) -> Any:
    """A recording's JSON column `name`, decoded (`None` stays `None`).

    Raises:
        CassetteError: the stored text is not JSON; names the cassette and the row.
    """
    text = row.get(name)
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        raise CassetteError(f"cassette {store.path}, recording #{row.get('id')}: its {name} is not valid JSON "
                            "(damaged; run tarash cassette verify)") from None


def referenced_blobs(store: CassetteStore, *, excluding: set[int] = frozenset()) -> set[str]:  # type: ignore[assignment]
    """Every blob hash a recording (except those `excluding`), its media or an HTTP
    interaction points to.

    Raises:
        CassetteError: a reference cannot be read (a hash that is not a digest, a response
            that is not JSON): what it points to is unknown, so nothing may be pruned.
    """
    refs = set()
    for m in store.query("SELECT recording_id, slot, hash FROM media"):
        if m["recording_id"] not in excluding:
            refs.add(check_digest(m["hash"], f"cassette {store.path}, recording #{m['recording_id']}, media"))
    for h in store.query("SELECT id, request_body, response_body FROM http_interactions"):
        refs.update(check_digest(d, f"cassette {store.path}, HTTP interaction #{h['id']}")
                    for d in (h["request_body"], h["response_body"]) if d is not None)
    if store.holds_exchanges:
        for x in store.query("SELECT id, request_body, response_body FROM http_exchanges"):
            refs.update(check_digest(d, f"cassette {store.path}, HTTP exchange #{x['id']}")
                        for d in (x["request_body"], x["response_body"]) if d is not None)
    for r in store.query("SELECT id, response FROM recordings WHERE response LIKE '%\"$blob\"%'"):
        if r["id"] not in excluding:
            refs.update(blob_refs(decode_field(store, r, "response"), f"cassette {store.path}, recording #{r['id']}"))
    return refs


@dataclass(slots=True)
class VerifyReport:
    """What `verify` found: `problems` mean the file is damaged; `notes` do not."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: CassetteStore, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Check every page, re-hash every blob (streamed), and check every row and reference.

    Each problem met is listed (a blob that is not what its hash says, a hash that is not
    a digest, a reference to a missing blob, a column that is not JSON); the check goes
    on past it. `progress(n)` is called with the number of blob bytes hashed, per chunk.
    """
    report = VerifyReport()
    with guard(store.path, "verifying"):
        db = store.db()
        issues = [r[0] for r in db.execute("PRAGMA integrity_check(20)")]
        if issues != ["ok"]:
            report.problems.extend(f"integrity: {issue}" for issue in issues)
            return report
        for table in _TABLES:
            if table == "http_exchanges" and not store.holds_exchanges:
                continue  # an older schema, read as it is
            report.counts[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        stored = _verify_blobs(store, report, progress)
        refs = _verify_references(store, report)
        for missing in sorted(refs - stored):
            report.problems.append(f"blob {missing[:12]}... is referred to but missing")
        uncaptured = db.execute(
            "SELECT count(*) FROM recordings r WHERE outcome = 'response' AND response NOT LIKE '%\"$blob\"%' "
            "AND NOT EXISTS (SELECT 1 FROM media m WHERE m.recording_id = r.id)"
        ).fetchone()[0]
        if uncaptured:
            report.notes.append(f"{uncaptured} recording(s) hold no captured media (their replays return the URL)")
    return report


def _verify_blobs(store: CassetteStore, report: VerifyReport, progress: Callable[[int], None] | None) -> set[str]:
    """Re-hash every blob; returns the hashes that are stored (digests or not)."""
    db = store.db()
    stored = set()
    for rowid, digest, size in db.execute("SELECT rowid, hash, size FROM blobs").fetchall():
        stored.add(digest)
        _is_good_digest(report, digest, f"blob row {rowid}")
        hasher, seen = hashlib.sha256(), 0
        try:
            with db.conn.blobopen("blobs", "data", rowid, readonly=True) as source:
                while data := source.read(CHUNK):
                    hasher.update(data)
                    seen += len(data)
                    if progress:
                        progress(len(data))
        except sqlite3.Error as error:
            report.problems.append(f"blob {str(digest)[:12]}... cannot be read ({error})")
            continue
        if hasher.hexdigest() != digest or seen != size:
            report.problems.append(f"blob {str(digest)[:12]}... holds other bytes than its hash says (damaged)")
    return stored


def _verify_references(store: CassetteStore, report: VerifyReport) -> set[str]:
    """Check every recording's JSON and every blob hash a row holds; returns the good hashes."""
    refs: set[str] = set()
    for r in store.query("SELECT id, request, response, error, timeline, outcome FROM recordings"):
        if r["outcome"] not in ("response", "error"):
            report.problems.append(f"recording #{r['id']}: outcome {r['outcome']!r} is neither response nor error")
        for name in ("request", "response", "error", "timeline"):
            try:
                value = decode_field(store, r, name)
            except CassetteError:
                report.problems.append(f"recording #{r['id']}: {name} is not valid JSON")
                continue
            if name == "response":
                try:
                    refs.update(blob_refs(value, f"recording #{r['id']}"))
                except CassetteError as error:
                    report.problems.append(str(error))
    for m in store.query("SELECT recording_id, slot, hash FROM media"):
        if _is_good_digest(report, m["hash"], f"recording #{m['recording_id']}, media {m['slot']!r}"):
            refs.add(m["hash"])
    for h in store.query("SELECT id, request, response, request_body, response_body FROM http_interactions"):
        for name in ("request", "response"):
            try:
                json.loads(h[name])
            except (ValueError, TypeError, RecursionError):
                report.problems.append(f"HTTP interaction #{h['id']}: {name} is not valid JSON")
        for name in ("request_body", "response_body"):
            if h[name] is not None and _is_good_digest(report, h[name], f"HTTP interaction #{h['id']}, {name}"):
                refs.add(h[name])
    return refs


def _is_good_digest(report: VerifyReport, value: Any, where: str) -> bool:
    """Whether `value` is a blob hash; if not, a problem of the report."""
    try:
        check_digest(value, where)
    except CassetteError as error:
        report.problems.append(str(error))
        return False
    return True


@dataclass(slots=True)
class PruneResult:
    recordings: int = 0
    blobs: int = 0
    blob_bytes: int = 0


def prune(
    store: Store,
    *,
    provider: str | None = None,
    model: str | None = None,
    older_than_days: float | None = None,
    errors_only: bool = False,
    unused: bool = False,
    dry_run: bool = False,
    vacuum: bool = False,
    on_count: Callable[[int], Callable[[int], None]] | None = None,
) -> PruneResult:
    """Delete the recordings matching every filter given, then the blobs nothing uses.

    With no filter only unused blobs go. `unused` selects the recordings the last strict
    run did not replay (its play counts are in the cassette). `vacuum` gives the space
    back to the disk. Works on a file and on a PostgreSQL cassette alike.

    `on_count(n)`, when given, is told the steps to come (the recordings to delete, and
    one for the blobs) and returns the callback told of each step done (a progress bar).
    """
    never: set[int] | None = None
    if unused:
        plays = store.plays()
        if not plays:
            raise CassetteError(f"cassette {store.path} keeps no play counts yet: run the tests that replay it "
                                "with --tarash-strict (or use_cassette(..., strict=True)) first")
        never = {i for i, n in plays.items() if n == 0}
    filtered = any(f is not None for f in (provider, model, older_than_days, never)) or errors_only
    cutoff = time.time() - older_than_days * 86400 if older_than_days is not None else None
    ids = [r["id"] for r in store.recordings() if filtered and _matches(r, provider, model, cutoff, errors_only, never)]
    store.prune_blobs(dry_run=True)  # a damaged reference refuses the prune before anything is deleted
    tick = on_count((0 if dry_run else len(ids)) + 1) if on_count is not None else None
    if not dry_run:
        for start in range(0, len(ids), _PRUNE_BATCH):
            batch = ids[start : start + _PRUNE_BATCH]
            store.delete_recordings(batch)
            if tick:
                tick(len(batch))
    # in a dry run the doomed recordings are still there: leave them out by hand
    orphans = store.prune_blobs(excluding=ids if dry_run else (), dry_run=dry_run)
    if tick:
        tick(1)
    if vacuum and not dry_run:
        store.vacuum()
    return PruneResult(len(ids), len(orphans), sum(r["size"] for r in orphans if isinstance(r["size"], int)))


_PRUNE_BATCH = 200


def _matches(row: dict[str, Any], provider: str | None, model: str | None, cutoff: float | None, errors_only: bool,
             never: set[int] | None) -> bool:
    ts = row["recorded_ts"]
    return ((provider is None or row["provider"] == provider) and (model is None or row["model"] == model)
            and (cutoff is None or (isinstance(ts, int | float) and ts < cutoff))
            and (not errors_only or row["outcome"] == "error") and (never is None or row["id"] in never))
