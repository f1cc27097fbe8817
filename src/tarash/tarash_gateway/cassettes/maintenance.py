"""Looking after cassette files: summary, verify, prune. The CLI's `ls`, `show`,
`verify` and `prune` are thin wrappers over these."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import CassetteError
from .store import CHUNK, SCHEMA_VERSION, CassetteStore, guard

__all__ = ["PruneResult", "VerifyReport", "prune", "referenced_blobs", "summary", "verify"]

_TABLES = ("recordings", "blobs", "media", "http_interactions")


def summary(store: CassetteStore) -> dict[str, Any]:
    """Counts, sizes, dates, and recordings per provider and model."""
    row = store.query(
        "SELECT (SELECT count(*) FROM recordings) AS recordings, "
        "(SELECT count(*) FROM recordings WHERE outcome = 'error') AS errors, "
        "(SELECT count(*) FROM http_interactions) AS http_interactions, "
        "(SELECT count(*) FROM blobs) AS blobs, (SELECT coalesce(sum(size), 0) FROM blobs) AS blob_bytes, "
        "(SELECT min(recorded_at) FROM recordings) AS first_recorded, "
        "(SELECT max(recorded_at) FROM recordings) AS last_recorded"
    )[0]
    by_model = store.query(
        "SELECT provider, model, count(*) AS recordings FROM recordings GROUP BY provider, model "
        "ORDER BY recordings DESC, provider, model"
    )
    return {**row, "schema_version": SCHEMA_VERSION, "file_bytes": store.file.stat().st_size, "by_model": by_model}


def _blob_refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("$blob"), str):
            yield value["$blob"]
        for v in value.values():
            yield from _blob_refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _blob_refs(v)


def referenced_blobs(store: CassetteStore, *, excluding: set[int] = frozenset()) -> set[str]:  # type: ignore[assignment]
    """Every blob hash a recording (except those `excluding`), its media or an HTTP
    interaction points to."""
    refs = {r["hash"] for r in store.query("SELECT recording_id, hash FROM media") if r["recording_id"] not in excluding}
    for r in store.query("SELECT request_body, response_body FROM http_interactions"):
        refs.update(h for h in (r["request_body"], r["response_body"]) if h)
    for r in store.query("SELECT id, response FROM recordings WHERE response LIKE '%\"$blob\"%'"):
        if r["id"] not in excluding:
            refs.update(_blob_refs(json.loads(r["response"])))
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
    """Check every page, re-hash every blob (streamed), and check every reference.

    `progress(n)` is called with the number of blob bytes hashed so far, per chunk.
    """
    report = VerifyReport()
    with guard(store.path, "verifying"):
        db = store.db()
        issues = [r[0] for r in db.execute("PRAGMA integrity_check(20)")]
        if issues != ["ok"]:
            report.problems.extend(f"integrity: {issue}" for issue in issues)
            return report
        for table in _TABLES:
            report.counts[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for rowid, digest, size in db.execute("SELECT rowid, hash, size FROM blobs").fetchall():
            hasher, seen = hashlib.sha256(), 0
            with db.conn.blobopen("blobs", "data", rowid, readonly=True) as source:
                while data := source.read(CHUNK):
                    hasher.update(data)
                    seen += len(data)
                    if progress:
                        progress(len(data))
            if hasher.hexdigest() != digest or seen != size:
                report.problems.append(f"blob {digest[:12]}... holds other bytes than its hash says (damaged)")
        stored = {r[0] for r in db.execute("SELECT hash FROM blobs")}
        for missing in sorted(referenced_blobs(store) - stored):
            report.problems.append(f"blob {missing[:12]}... is referred to but missing")
        for r in store.query("SELECT id, request, response, error, timeline FROM recordings"):
            for name in ("request", "response", "error", "timeline"):
                if r[name] is None:
                    continue
                try:
                    json.loads(r[name])
                except ValueError:
                    report.problems.append(f"recording #{r['id']}: {name} is not valid JSON")
        uncaptured = db.execute(
            "SELECT count(*) FROM recordings r WHERE outcome = 'response' AND response NOT LIKE '%\"$blob\"%' "
            "AND NOT EXISTS (SELECT 1 FROM media m WHERE m.recording_id = r.id)"
        ).fetchone()[0]
        if uncaptured:
            report.notes.append(f"{uncaptured} recording(s) hold no captured media (their replays return the URL)")
    return report


@dataclass(slots=True)
class PruneResult:
    recordings: int = 0
    blobs: int = 0
    blob_bytes: int = 0


def prune(
    store: CassetteStore,
    *,
    provider: str | None = None,
    model: str | None = None,
    older_than_days: float | None = None,
    errors_only: bool = False,
    unused: bool = False,
    dry_run: bool = False,
    vacuum: bool = False,
) -> PruneResult:
    """Delete the recordings matching every filter given, then the blobs nothing uses.

    With no filter only unused blobs go. `unused` selects the recordings the last strict
    run did not replay (its play counts are in the cassette). `vacuum` gives the space
    back to the disk.
    """
    result = PruneResult()
    where: list[str] = []
    params: list[Any] = []
    ids: list[int] = []
    if provider is not None:
        where.append("provider = ?")
        params.append(provider)
    if model is not None:
        where.append("model = ?")
        params.append(model)
    if older_than_days is not None:
        where.append("recorded_ts < ?")
        params.append(time.time() - older_than_days * 86400)
    if errors_only:
        where.append("outcome = 'error'")
    if unused:
        plays = store.plays()
        if not plays:
            raise CassetteError(f"cassette {store.path} keeps no play counts yet: run the tests that replay it "
                                "with --tarash-strict (or use_cassette(..., strict=True)) first")
        never = [i for i, n in plays.items() if n == 0]
        where.append(f"id IN ({','.join('?' * len(never))})" if never else "0")
        params.extend(never)
    if where:
        ids = [r["id"] for r in store.query(f"SELECT id FROM recordings WHERE {' AND '.join(where)}", params)]
        result.recordings = len(ids)
        if ids and not dry_run:
            store.delete_recordings(ids)
    with store.transaction("pruning blobs") as db:  # references read inside: no writer can race us
        # in a dry run the doomed recordings are still there: leave them out by hand
        refs = referenced_blobs(store, excluding=set(ids) if dry_run else set())
        orphans = [r for r in store.blobs() if r["hash"] not in refs]
        if not dry_run:
            for r in orphans:
                db.execute("DELETE FROM blobs WHERE hash = ?", (r["hash"],))
    result.blobs, result.blob_bytes = len(orphans), sum(r["size"] or 0 for r in orphans)
    if vacuum and not dry_run:
        with guard(store.path, "vacuuming"):
            store.db().execute("VACUUM")
    return result
