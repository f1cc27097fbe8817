"""The HTTP level's exchanges in a PostgreSQL cassette: the `http_exchanges` part of
`pg_store.PgCassetteStore` (the protocol's exchange methods), kept apart so the store
module stays about connections, recordings and blobs.

The same guarantees as for recordings: one indexed query per replayed request (the
answer's body comes with it when it is small, aggregated from its chunks by the
server), and each key's next `seq` taken under a transaction-scoped advisory lock on
(cassette, key), so concurrent writers of equal requests get dense, ordered numbers.
The lock's key is prefixed, so an exchange and a recording never wait on each other.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import BlobSource

__all__ = ["EXCHANGE_COLUMNS", "PgExchanges"]

#: The columns an exchange row carries (besides `id` and `cassette_id`), in table order.
EXCHANGE_COLUMNS = ("key", "seq", "method", "url", "host", "path", "request", "status", "headers", "request_body",
                    "response_body", "provider", "role", "job", "terminal", "recorded_at", "recorded_ts")
_HTTP_VERSION = 2  # the schema version that added http_exchanges


class PgExchanges:
    """The exchange methods of `protocol.Store` over PostgreSQL (a mixin of the store)."""

    cassette_id: int
    version: int

    # provided by the store
    def _rows(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _one(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        raise NotImplementedError

    def _transaction(self, doing: str) -> contextlib.AbstractContextManager[Any]:
        raise NotImplementedError

    def _put_blob(self, conn: Any, blob: BlobSource) -> None:
        raise NotImplementedError

    def upgrade(self) -> bool:
        raise NotImplementedError

    @property
    def holds_exchanges(self) -> bool:
        """Whether the database's schema has HTTP exchanges (older ones read as they are)."""
        return self.version >= _HTTP_VERSION

    def find_exchange(self, key: str, index: int | None, *, inline: int) -> dict[str, Any] | None:
        if not self.holds_exchanges:
            return None
        order = "ORDER BY e.seq LIMIT 1 OFFSET %s" if index is not None else \
            "ORDER BY e.terminal DESC, e.seq DESC LIMIT 1"
        params: tuple[Any, ...] = (inline, self.cassette_id, key) + ((index - 1,) if index is not None else ())
        rows = self._rows(
            "SELECT e.id, e.seq, e.status, e.headers, e.response_body, e.role, e.terminal, b.size AS body_size, "
            "CASE WHEN b.size <= %s THEN (SELECT string_agg(c.data, ''::bytea ORDER BY c.n) FROM blob_chunks c "
            "WHERE c.hash = e.response_body) END AS body FROM http_exchanges e "
            f"LEFT JOIN blobs b ON b.hash = e.response_body WHERE e.cassette_id = %s AND e.key = %s {order}",
            params)
        if not rows:
            return None
        row = rows[0]
        if row["body"] is not None:
            row["body"] = bytes(row["body"])
        return row

    def count_exchanges(self, key: str | None = None) -> int:
        if not self.holds_exchanges:
            return 0
        if key is None:
            return int(self._one("SELECT count(*) FROM http_exchanges WHERE cassette_id = %s", (self.cassette_id,)))
        return int(self._one("SELECT count(*) FROM http_exchanges WHERE cassette_id = %s AND key = %s",
                             (self.cassette_id, key)))

    def exchange_hosts(self) -> set[str]:
        if not self.holds_exchanges:
            return set()
        return {r["host"] for r in self._rows("SELECT DISTINCT host FROM http_exchanges WHERE cassette_id = %s",
                                              (self.cassette_id,))}

    def has_exchanges(self) -> bool:
        if not self.holds_exchanges:
            return False
        return bool(self._one("SELECT EXISTS (SELECT 1 FROM http_exchanges WHERE cassette_id = %s)",
                              (self.cassette_id,)))

    def holds_host(self, host: str) -> bool:
        if not self.holds_exchanges:
            return False
        return bool(self._one("SELECT EXISTS (SELECT 1 FROM http_exchanges WHERE cassette_id = %s AND host = %s)",
                              (self.cassette_id, host)))

    def exchange_candidates(self, host: str, path: str, limit: int = 50) -> list[dict[str, Any]]:
        if not self.holds_exchanges:
            return []
        return self._rows(
            "SELECT id, method, url, request, recorded_at FROM http_exchanges WHERE cassette_id = %s AND host = %s "
            "ORDER BY (path = %s) DESC NULLS LAST, id DESC LIMIT %s", (self.cassette_id, host, path, limit))

    def exchanges(self) -> list[dict[str, Any]]:
        if not self.holds_exchanges:
            return []
        rows = self._rows("SELECT * FROM http_exchanges WHERE cassette_id = %s ORDER BY id", (self.cassette_id,))
        for row in rows:
            row.pop("cassette_id", None)
        return rows

    def add_exchange(
        self, row: dict[str, Any], blobs: list[BlobSource], *, replace_before: float | None = None
    ) -> tuple[int, int]:
        """See `protocol.Store.add_exchange`: the key's advisory lock is held from the
        `seq` it reads to the commit."""
        from .pg_store import in_hash_order

        self.upgrade()
        cid, key = self.cassette_id, row["key"]
        columns = [c for c in EXCHANGE_COLUMNS if c != "seq"]
        with self._transaction("recording an HTTP exchange") as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))", (f"http:{key}", cid))
            if replace_before is not None:
                conn.execute("DELETE FROM http_exchanges WHERE cassette_id = %s AND key = %s AND recorded_ts < %s",
                             (cid, key, replace_before))
            for blob in in_hash_order(blobs):
                self._put_blob(conn, blob)
            # the key's next seq, read by the insert itself (after the lock: no writer can take it meanwhile)
            exchange_id, seq = conn.execute(
                f"INSERT INTO http_exchanges (cassette_id, seq, {', '.join(columns)}) "
                f"SELECT %s, coalesce(max(seq), 0) + 1, {', '.join(['%s'] * len(columns))} FROM http_exchanges "
                "WHERE cassette_id = %s AND key = %s RETURNING id, seq",
                (cid, *(_value(row, c) for c in columns), cid, key)).fetchone()
        return int(exchange_id), int(seq)

    def delete_exchanges(self, ids: list[int]) -> int:
        if ids and self.holds_exchanges:
            with self._transaction("deleting HTTP exchanges") as conn:
                conn.execute("DELETE FROM http_exchanges WHERE cassette_id = %s AND id = ANY(%s)",
                             (self.cassette_id, list(ids)))
        return len(ids)


def _value(row: dict[str, Any], column: str) -> Any:
    value = row.get(column)
    return int(value) if column == "terminal" and value is not None else value
