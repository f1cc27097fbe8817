"""Summary and verification of a cassette through the store protocol alone, for stores
that are not a SQLite file (`tarash cassette show URL`, `verify URL`).

The file has its own, deeper checks in `maintenance` (SQLite's page check among them);
these ask only what every store answers: each recording readable, each key's `seq`
dense, each blob a recording or an HTTP exchange refers to present and holding the bytes
of its hash (re-hashed as it streams).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ..exceptions import CassetteError
from .exchanges import exchange_rows
from .maintenance import VerifyReport
from .merge import _refs
from .protocol import Store

__all__ = ["verify_cassette", "verify_store"]


def verify_cassette(store: Store, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """The deepest check a store allows (`tarash cassette verify`): a file's pages,
    rows and blobs (`maintenance.verify`), else `verify_store`. `progress(n)` is told
    of each `n` blob bytes hashed."""
    from .store import CassetteStore

    if isinstance(store, CassetteStore):
        from .maintenance import verify

        return verify(store, progress)
    return verify_store(store, progress)


def verify_store(store: Store, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Re-read every recording and re-hash every blob it refers to (streamed)."""
    report = VerifyReport()
    rows = store.recordings()
    seqs: dict[str, list[int]] = {}
    blobs: dict[str, str] = {}
    for row in rows:
        seqs.setdefault(row["key"], []).append(row["seq"])
        try:
            for name in ("request", "response", "error", "timeline"):
                if row[name] is not None:
                    json.loads(row[name])
            for digest in _refs(store, row):
                blobs.setdefault(digest, f"recording #{row['id']}")
        except (ValueError, CassetteError) as error:
            report.problems.append(f"recording #{row['id']}: not valid JSON ({error})")
    try:
        exchanges = exchange_rows(store)
    except CassetteError as error:
        report.problems.append(str(error))
        exchanges = []
    for x in exchanges:
        for name in ("request_body", "response_body"):
            if x[name] is not None:
                blobs.setdefault(x[name], f"HTTP exchange #{x['id']}")
    for key, numbers in seqs.items():
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            report.notes.append(f"key {key[:12]}... has seqs {sorted(numbers)} (a recording was deleted)")
    for digest, owner in blobs.items():
        try:
            for chunk in store.iter_blob(digest, owner=owner):
                if progress:
                    progress(len(chunk))
        except CassetteError as error:
            report.problems.append(str(error))
    report.counts = {"recordings": len(rows), "blobs": len(blobs)}
    if exchanges:
        report.counts["http_exchanges"] = len(exchanges)
    return report
