"""HTTP exchanges moving between cassettes (`pull`/`push`, `.db` merges): what makes two
exchanges the same, and copying one with its body blobs.

An exchange is identified by its request key and what was answered (method, scrubbed
URL, status, headers, body hashes, role, whether it ended its job): equal exchanges are
one, however each cassette numbered them. A cassette is untrusted input, so every row is
checked before it is copied (text where text belongs, headers that are JSON, body hashes
that are digests) and every body is verified against its hash as it streams into a
temporary file, never whole in memory; a bad row is a one-line `CassetteError` naming
the cassette and the exchange.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ..exceptions import CassetteError
from .protocol import Store
from .store import BlobSource, check_digest

__all__ = ["add_exchange_from", "checked_exchange", "copy_exchanges", "copy_missing", "exchange_identity",
           "exchange_rows"]

_TEXT = ("key", "method", "url", "host", "request", "headers", "role")
_BODIES = ("request_body", "response_body")


def _where(store: Store, row: dict[str, Any]) -> str:
    return f"cassette {store.path}, HTTP exchange #{row.get('id')}"


def checked_exchange(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    """The row, if it holds what an exchange holds; else a CassetteError naming it."""
    where = _where(store, row)
    for name in _TEXT:
        if not isinstance(row.get(name), str) or not row[name]:
            raise CassetteError(f"{where}: its {name} is missing or not text (damaged; run tarash cassette verify)")
    for name in ("status", "seq"):
        if isinstance(row.get(name), bool) or not isinstance(row.get(name), int):
            raise CassetteError(f"{where}: its {name} {row.get(name)!r} is not a number (damaged)")
    try:
        headers = json.loads(row["headers"])
        json.loads(row["request"])
    except (ValueError, RecursionError):
        raise CassetteError(f"{where}: its headers or request are not valid JSON (damaged)") from None
    if not isinstance(headers, list) or not all(isinstance(h, list) and len(h) == 2 for h in headers):
        raise CassetteError(f"{where}: its headers are not a list of [name, value] pairs (damaged)")
    for name in _BODIES:
        if row.get(name) is not None:
            check_digest(row[name], where)
    return row


def exchange_rows(store: Store) -> list[dict[str, Any]]:
    """A cassette's exchanges, checked, in the order they were recorded per key (`key`, `seq`)."""
    rows = [checked_exchange(store, r) for r in store.exchanges()]
    return sorted(rows, key=lambda r: (r["key"], r["seq"], r["id"]))


def exchange_identity(row: dict[str, Any]) -> str:
    """What makes two exchanges the same (as values: header spacing does not matter); of a
    stored row (headers as JSON text) or an export line (headers as a list)."""
    headers = row["headers"]
    values = [row["key"], row["method"], row["url"], row["status"],
              json.loads(headers) if isinstance(headers, str) else headers,
              row.get("request_body"), row.get("response_body"), row["role"], bool(row.get("terminal"))]
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def add_exchange_from(source: Store, row: dict[str, Any], target: Store) -> None:
    """Copy one exchange of `source` (a checked row) into `target`, with the bodies it lacks."""
    from .merge import _spool

    owner = f"HTTP exchange #{row['id']}"
    blobs: list[BlobSource] = []
    try:
        for digest in dict.fromkeys(row[n] for n in _BODIES if row.get(n) is not None):
            if target.blob_info(digest) is None:
                blobs.append(_spool(source, digest, owner))
        fields = {k: v for k, v in row.items() if k not in ("id", "seq", "cassette_id")}
        target.add_exchange(fields, blobs)
    finally:
        for blob in blobs:
            if blob.file is not None:
                blob.file.close()


def copy_exchanges(source: Store, target: Store, *, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Copy the exchanges of `source` that `target` lacks, by content; `(copied, skipped)`."""
    held = Counter(exchange_identity(r) for r in exchange_rows(target))
    return copy_missing(exchange_rows(source), held, exchange_identity,
                        lambda row: add_exchange_from(source, row, target), progress)


def copy_missing(
    rows: Iterable[dict[str, Any]],
    held: Counter[str],
    identity: Callable[[dict[str, Any]], str],
    add: Callable[[dict[str, Any]], Any],
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """`add` each row whose `identity` the target does not hold (`held` counts the
    target's); `progress(1)` after each row; `(copied, skipped)`.

    The n-th copy of a row is skipped only when the target holds n equal ones, so copying
    twice adds nothing and a key's repeated recordings or answers all arrive, in order.
    """
    copied = skipped = 0
    for row in rows:
        key = identity(row)
        if held[key]:
            held[key] -= 1
            skipped += 1
        else:
            add(row)
            copied += 1
        if progress is not None:
            progress(1)
    return copied, skipped
