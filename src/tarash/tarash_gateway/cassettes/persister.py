"""A vcrpy persister that keeps raw httpx traffic in a SQLite cassette.

```python
import vcr
from tarash.tarash_gateway.cassettes import SQLitePersister

my_vcr = vcr.VCR()
my_vcr.register_persister(SQLitePersister)
with my_vcr.use_cassette("cassettes/http.db"):
    httpx.get("https://api.example.com/v1/thing")
```

Same file format as the call-level cassettes (the `http_interactions` table, bodies as
raw bytes in `blobs`), so one `.db` can hold both. Differences from vcrpy's YAML
files, on purpose:

- saving never rewrites the file: it adds the interactions the file does not hold yet
  (by fingerprint), in one transaction, so several processes saving into one cassette
  keep everything (vcrpy's YAML keeps the last writer's). `drop_unused_requests`
  therefore does not shrink the file; `tarash cassette prune` does.
- secrets are scrubbed before the write: auth headers, secret query parameters,
  secret keys in JSON and form bodies, signed URLs and key shapes in text bodies of any
  type (HTML, XML, plain text), and every secret the request sent wherever the
  response quotes it (see `scrub`). A scrubbed query parameter
  no longer matches the live request: match without it (vcrpy's
  `filter_query_parameters` or `match_on`).
- the `serializer` argument is ignored, and vcrpy's cassette metadata is not kept.
- every response it hands vcrpy to replay carries a `REPLAY_HEADER`
  (`x-tarash-replay: <cassette>#<interaction id>`, as Hoverfly's `Hoverfly: Was-Here`
  and WireMock's `Matched-Stub-Id` say a response was served by them), so whoever reads
  the response can tell a replay from the provider: the gateway's adapters report such
  a call with `origin.source == "replay"`, its cassette and recording. It is never
  saved back.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ..exceptions import CassetteError
from .protocol import Store
from .scrub import Scrubber
from .store import BlobSource, CassetteStore

__all__ = [
    "Persister", "REPLAY_HEADER", "SQLitePersister", "decode_interaction", "encode_interactions",
    "interaction_identity", "replay_mark",
]

#: The header on every response replayed through `SQLitePersister`: `<cassette path>#<interaction id>`.
REPLAY_HEADER = "x-tarash-replay"


class Persister(Protocol):
    """vcrpy's persister contract (`vcr.VCR().register_persister(cls)`).

    vcrpy calls these on the registered class itself, so implement them as
    classmethods (or staticmethods).

    `load_cassette(cassette_path, serializer)` returns `(requests, responses)`:
    `vcr.request.Request` objects and vcrpy response dicts (`{"status": {"code",
    "message"}, "headers": {name: [values]}, "body": {"string": bytes}}`), in recorded
    order (optionally a third item, vcrpy's cassette metadata dict). It raises
    `vcr.persisters.filesystem.CassetteNotFoundError` when there is nothing to replay
    (vcrpy then records), and `CassetteDecodeError` (a `ValueError`) when the
    cassette exists but cannot be read.

    `save_cassette(cassette_path, cassette_dict, serializer)` stores
    `cassette_dict["requests"]` and `cassette_dict["responses"]` (the whole cassette
    as vcrpy holds it: loaded interactions and new ones).
    """

    def load_cassette(self, cassette_path: str | os.PathLike[str], serializer: Any) -> tuple[Any, ...]: ...

    def save_cassette(self, cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: Any) -> None: ...


class SQLitePersister:
    """Stores vcrpy cassettes in SQLite cassette files; see the module docstring.

    Subclass to scrub more: `secret_keys` (header, parameter and JSON key names) and
    `secret_values` (literal values replaced wherever they appear).
    """

    secret_keys: tuple[str, ...] = ()
    secret_values: tuple[str, ...] = ()

    @classmethod
    def load_cassette(cls, cassette_path: str | os.PathLike[str], serializer: Any = None) -> tuple[list[Any], list[Any]]:
        from vcr.persisters.filesystem import CassetteDecodeError, CassetteNotFoundError
        from vcr.request import Request

        path = Path(cassette_path)
        if not path.is_file() or path.stat().st_size == 0:
            raise CassetteNotFoundError()
        try:
            store = CassetteStore.open(path, create=False)
            try:
                rows = store.http_interactions()
                pairs = [decode_interaction(store, row) for row in rows]
            finally:
                store.close()
        except CassetteError as error:
            raise CassetteDecodeError(str(error)) from error
        if not pairs:
            raise CassetteNotFoundError()
        requests = [Request(r["method"], r["uri"], r["body"], r["headers"]) for r, _ in pairs]
        for row, (_, response) in zip(rows, pairs, strict=True):
            response.setdefault("headers", {})[REPLAY_HEADER] = [f"{path}#{row['id']}"]
        return requests, [response for _, response in pairs]

    @classmethod
    def save_cassette(cls, cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: Any = None) -> None:
        requests = cassette_dict.get("requests") or []
        responses = cassette_dict.get("responses") or []
        pairs = [(_request_dict(r), _unmarked(response)) for r, response in zip(requests, responses, strict=False)]
        rows, blobs = encode_interactions(pairs, Scrubber(cls.secret_values, cls.secret_keys))
        store = CassetteStore.open(cassette_path, create=True)
        try:
            store.add_http_interactions(rows, blobs)
        finally:
            store.close()


def replay_mark(value: str) -> tuple[str, int | None]:
    """`(cassette path, interaction id)` of a `REPLAY_HEADER` value."""
    path, _, number = value.rpartition("#")
    return (path, int(number)) if path and number.isdigit() else (value, None)


def _unmarked(response: dict[str, Any]) -> dict[str, Any]:
    """A loaded response as recorded: without the replay header added when it was loaded."""
    headers = response.get("headers") or {}
    if not any(name.lower() == REPLAY_HEADER for name in headers):
        return response
    return {**response, "headers": {k: v for k, v in headers.items() if k.lower() != REPLAY_HEADER}}


def _request_dict(request: Any) -> dict[str, Any]:
    if isinstance(request, dict):
        return request
    return {
        "method": request.method,
        "uri": request.uri,
        "body": request.body_bytes if hasattr(request, "body_bytes") else request.body,
        "headers": {k: [v] for k, v in request.headers.items()},
    }


def _bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if hasattr(value, "read"):
        return value.read()
    return b"".join(value)


def _header(headers: dict[str, Any], name: str) -> str:
    for key, values in headers.items():
        if key.lower() == name:
            return values[0] if isinstance(values, list) and values else str(values)
    return ""


def encode_interactions(
    pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]], scrubber: Scrubber
) -> tuple[list[dict[str, Any]], list[BlobSource]]:
    """Rows for `http_interactions` and the body blobs, scrubbed, with fingerprints.

    Equal interactions get fingerprints `#1`, `#2` ... in order, so saving the same
    cassette twice adds nothing, and a repeated poll is kept once per repeat.
    """
    rows: list[dict[str, Any]] = []
    blobs: dict[str, BlobSource] = {}
    seen: Counter[str] = Counter()
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    for request, response in pairs:
        request = {**request, "body": _bytes(request.get("body"))}
        headers = request.get("headers") or {}
        # what the request carries (its auth header, its ?api_key=, a secret field of its
        # body) is scrubbed from the response too
        learned = scrubber.learn(headers, request.get("uri") or "", request["body"], _header(headers, "content-type"))
        row, bodies = _encode_one(request, response, learned)
        for blob in bodies:
            blobs.setdefault(blob.hash, blob)
        identity = interaction_identity(row["request"], row["request_body"], row["response"], row["response_body"])
        seen[identity] += 1
        rows.append({**row, "fingerprint": f"{identity}#{seen[identity]}", "recorded_at": now})
    return rows, list(blobs.values())


def interaction_identity(request: str, request_body: str | None, response: str, response_body: str | None) -> str:
    """What makes two stored interactions equal (their fingerprint, before `#n`)."""
    return hashlib.sha256(f"{request}\n{request_body}\n{response}\n{response_body}".encode()).hexdigest()


def _encode_one(request: dict[str, Any], response: dict[str, Any], scrubber: Scrubber
                ) -> tuple[dict[str, Any], list[BlobSource]]:
    """One interaction's row (without fingerprint) and its body blobs, scrubbed."""
    req_headers = scrubber.headers(request.get("headers") or {})
    req_body = scrubber.body(_bytes(request.get("body")), _header(req_headers, "content-type"),
                             _header(req_headers, "content-encoding"))
    res = {k: v for k, v in response.items() if k != "body"}
    res["headers"] = scrubber.headers(response.get("headers") or {})
    res_body = scrubber.body(_bytes((response.get("body") or {}).get("string")),
                             _header(res["headers"], "content-type"), _header(res["headers"], "content-encoding"))
    if res_body is not None:
        for key in [k for k in res["headers"] if k.lower() == "content-length"]:
            res["headers"][key] = [str(len(res_body))]
    req = {"method": request["method"], "uri": scrubber.url(request["uri"]), "headers": req_headers}
    blobs: list[BlobSource] = []
    hashes: list[str | None] = []
    for body, content_type in ((req_body, _header(req_headers, "content-type")),
                               (res_body, _header(res["headers"], "content-type"))):
        blob = None if body is None else BlobSource.of(body, content_type or None)
        hashes.append(None if blob is None else blob.hash)
        if blob is not None:
            blobs.append(blob)
    row = {
        "method": req["method"],
        "uri": req["uri"],
        "request": json.dumps(req, sort_keys=True, separators=(",", ":")),
        "response": json.dumps(res, sort_keys=True, separators=(",", ":"), default=str),
        "request_body": hashes[0],
        "response_body": hashes[1],
    }
    return row, blobs


def decode_interaction(store: Store, row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(request dict, vcrpy response dict)` of one stored interaction, bodies loaded."""
    request = json.loads(row["request"])
    request["body"] = store.read_blob(row["request_body"]) if row["request_body"] else None
    response = json.loads(row["response"])
    response["body"] = {"string": store.read_blob(row["response_body"]) if row["response_body"] else b""}
    return request, response
