"""Summary and verification of a cassette through the store protocol alone, for stores
that are not a SQLite file (`tarash cassette show URL`, `verify URL`).

The file has its own, deeper checks in `maintenance` (SQLite's page check among them);
these ask only what every store answers: each recording readable, each key's `seq`
dense, each blob a recording or an HTTP exchange refers to present and holding the bytes
of its hash (re-hashed as it streams).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ..exceptions import CassetteError
from .exchanges import exchange_rows
from .maintenance import VerifyReport
from .merge import _refs
from .protocol import Store

__all__ = ["store_summary", "verify_store"]


def store_summary(store: Store) -> dict[str, Any]:
    """Counts, dates and recordings per provider and model of a cassette."""
    rows = store.recordings()
    by_model = Counter((r["provider"], r["model"]) for r in rows)
    dates = sorted(r["recorded_at"] for r in rows if r["recorded_at"])
    return {
        "recordings": len(rows),
        "errors": sum(r["outcome"] == "error" for r in rows),
        "first_recorded": dates[0] if dates else None,
        "last_recorded": dates[-1] if dates else None,
        "by_model": [{"provider": p, "model": m, "recordings": n} for (p, m), n in by_model.most_common()],
    }


def verify_store(store: Store) -> VerifyReport:
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
            for _ in store.iter_blob(digest, owner=owner):
                pass
        except CassetteError as error:
            report.problems.append(str(error))
    report.counts = {"recordings": len(rows), "blobs": len(blobs)}
    if exchanges:
        report.counts["http_exchanges"] = len(exchanges)
    return report
