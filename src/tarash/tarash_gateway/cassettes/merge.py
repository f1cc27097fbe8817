"""Cassettes in git: a three-way merge of recordings, and the two views review needs
(a stable text form for `git diff`, and a diff of two cassettes field by field).

A recording is identified by its request key and its content (outcome, response, error,
timeline): equal recordings are one, however each side spelled or numbered them. The
merge (`plan`) is pure and decided per identity, as counts on the three sides:

```text
ours == base     ->  theirs        (only they changed it)
theirs == base   ->  ours          (only we changed it)
otherwise        ->  max(ours, theirs)   (both added: kept once per copy)
```

so a recording added on either side is kept, one deleted on one side and untouched on
the other stays deleted, and two different answers to the same request are both kept, in
order (ours first), with a warning. The HTTP level's exchanges are merged by the same
plan, identified by `exchanges.exchange_identity` (key, method, URL, status, headers,
bodies). `merge_cassettes` applies the plans to `.db` files (blobs streamed, verified
and unioned) and `merge_exports` to JSONL exports; both write the result beside the
target and rename it into place, so a failure never leaves half a result. With an empty
base (a file both sides added) the merge is the union of both sides.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import CassetteError
from .exchanges import add_exchange_from, exchange_identity, exchange_rows
from .protocol import Store
from .store import BlobSource, CassetteStore, check_digest

__all__ = [
    "MergePlan",
    "MergeReport",
    "diff_cassettes",
    "merge_cassettes",
    "merge_exports",
    "plan",
    "recording_identity",
    "textconv_lines",
]

_CONTENT = ("response", "error", "timeline")


def recording_identity(row: dict[str, Any]) -> str:
    """What makes two recordings the same: request key, outcome, response, error, timeline
    (as values: key order and spacing do not matter)."""
    values = [row["key"], row["outcome"]]
    for name in _CONTENT:
        value = row.get(name)
        values.append(json.loads(value) if isinstance(value, str) else value)
    if values[-1] is None:
        values[-1] = []  # no timeline and an empty one are the same
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


@dataclass
class MergePlan:
    """What to do to `ours` so that it holds the merge: drop some of its recordings (by
    index), add some of theirs (by index, in their order)."""

    drop: list[int] = field(default_factory=list)
    add: list[int] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def plan(base: Sequence[tuple[str, str]], ours: Sequence[tuple[str, str]], theirs: Sequence[tuple[str, str]]) -> MergePlan:
    """The three-way merge of recordings given as `(request key, identity)` per side."""
    b = Counter(i for _, i in base)
    o = Counter(i for _, i in ours)
    t = Counter(i for _, i in theirs)
    result: dict[str, int] = {}
    for ident in {*b, *o, *t}:
        if o[ident] == b[ident]:
            result[ident] = t[ident]
        elif t[ident] == b[ident]:
            result[ident] = o[ident]
        else:
            result[ident] = max(o[ident], t[ident])
    out = MergePlan()
    kept: Counter[str] = Counter()
    for index, (_, ident) in enumerate(ours):
        kept[ident] += 1
        if kept[ident] > result[ident]:
            out.drop.append(index)
    added: Counter[str] = Counter()
    for index, (_, ident) in enumerate(theirs):
        added[ident] += 1
        if o[ident] + added[ident] <= result[ident]:
            out.add.append(index)
    # Two different answers to one request, new on both sides: both kept, and said so.
    new_ours = {k for k, i in ours if o[i] > b[i]}
    new_theirs = {theirs[i][0] for i in out.add}
    out.conflicts = sorted(new_ours & new_theirs)
    return out


@dataclass
class MergeReport:
    kept: int
    dropped: int
    added: int
    conflicts: list[str]
    exchanges_added: int = 0
    exchanges_dropped: int = 0


# -- .db files ------------------------------------------------------------------------------


@contextlib.contextmanager
def _open(path: Path, *, create: bool = False) -> Iterator[CassetteStore | None]:
    if not create and (not path.exists() or path.stat().st_size == 0):
        yield None  # git's base of a file both sides added is empty
        return
    store = CassetteStore.open(path, create=create)
    try:
        yield store
    finally:
        store.close()


def _idents(store: CassetteStore | None) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    if store is None:
        return [], []
    rows = sorted(store.recordings(), key=lambda r: (r["key"], r["seq"]))
    try:
        return rows, [(r["key"], recording_identity(r)) for r in rows]
    except (ValueError, TypeError) as error:
        raise CassetteError(f"cassette {store.path} holds a recording that cannot be read ({error})") from None


def merge_cassettes(base: Path, ours: Path, theirs: Path, out: Path | None = None) -> MergeReport:
    """Merge three `.db` cassettes into `out` (default `ours`, as git's merge driver)."""
    out = out or ours
    with _open(base) as b, _open(ours) as o, _open(theirs) as t:
        if o is None:
            raise CassetteError(f"{ours} is empty: nothing to merge into")
        _, base_ids = _idents(b)
        ours_rows, ours_ids = _idents(o)
        theirs_rows, theirs_ids = _idents(t)
        decided = plan(base_ids, ours_ids, theirs_ids)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.merge-", dir=out.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            _copy(o, tmp)
            with _open(tmp, create=True) as result:
                assert result is not None
                result.delete_recordings([ours_rows[i]["id"] for i in decided.drop])
                for i in decided.add:
                    assert t is not None
                    _add_from(t, theirs_rows[i], result)
                if t is not None:
                    _union_http(t, result)
                exchanges = _merge_exchanges(b, o, t, result)
                result.query("SELECT 1")  # still readable before it replaces anything
            os.replace(tmp, out)
        except BaseException:
            for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            raise
    return MergeReport(len(ours_rows) - len(decided.drop), len(decided.drop), len(decided.add), decided.conflicts,
                       len(exchanges.add), len(exchanges.drop))


def _merge_exchanges(base: CassetteStore | None, ours: CassetteStore, theirs: CassetteStore | None,
                     result: CassetteStore) -> MergePlan:
    """The three-way merge of the HTTP exchanges, applied to `result` (a copy of `ours`)."""
    sides = [exchange_rows(s) if s is not None else [] for s in (base, ours, theirs)]
    decided = plan(*([(r["key"], exchange_identity(r)) for r in rows] for rows in sides))
    result.delete_exchanges([sides[1][i]["id"] for i in decided.drop])
    for i in decided.add:
        assert theirs is not None
        add_exchange_from(theirs, sides[2][i], result)
    return decided


def _copy(store: CassetteStore, target: Path) -> None:
    """A consistent copy of a cassette (SQLite's backup: safe while others read it)."""
    dest = sqlite3.connect(target)
    try:
        store.db().conn.backup(dest)
    finally:
        dest.close()


def _refs(store: Store, row: dict[str, Any]) -> list[str]:
    from .maintenance import _blob_refs

    refs = [m["hash"] for m in store.media(row["id"]).values()]
    if row["response"]:
        refs.extend(_blob_refs(json.loads(row["response"])))
    return [check_digest(h, f"cassette {store.path}, recording #{row['id']}") for h in refs]


def _spool(source: Store, digest: str, owner: str) -> BlobSource:
    """A blob of another cassette, verified, in a temporary file (never whole in memory)."""
    info = source.blob_info(digest)
    if info is None:
        raise CassetteError(f"cassette {source.path} lacks blob {digest[:12]}... ({owner})")
    spool = tempfile.TemporaryFile()
    try:
        for chunk in source.iter_blob(digest, owner=owner):
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    return BlobSource(digest, info["size"], info["content_type"], file=spool)


def _add_from(source: Store, row: dict[str, Any], target: Store) -> None:
    owner = f"recording #{row['id']}"
    blobs: list[BlobSource] = []
    try:
        for digest in dict.fromkeys(_refs(source, row)):
            if target.blob_info(digest) is None:
                blobs.append(_spool(source, digest, owner))
        media = [{"slot": m["slot"], "url": m["url"], "hash": m["hash"], "content_type": m["content_type"]}
                 for m in source.media(row["id"]).values()]
        fields = {k: v for k, v in row.items() if k not in ("id", "seq")}
        target.add_recording(fields, blobs=blobs, media=media)
    finally:
        for blob in blobs:
            if blob.file is not None:
                blob.file.close()


def _union_http(source: CassetteStore, target: CassetteStore) -> None:
    held = {r["fingerprint"] for r in target.http_interactions()}
    rows = [{k: v for k, v in r.items() if k != "id"} for r in source.http_interactions() if r["fingerprint"] not in held]
    blobs: list[BlobSource] = []
    try:
        for r in rows:
            for name in ("request_body", "response_body"):
                digest = r.get(name)
                if digest and target.blob_info(check_digest(digest, f"cassette {source.path}")) is None:
                    blobs.append(_spool(source, digest, f"HTTP interaction {r['method']} {r['uri']}"))
        if rows:
            target.add_http_interactions(rows, blobs)
    finally:
        for blob in blobs:
            if blob.file is not None:
                blob.file.close()


# -- JSONL exports ------------------------------------------------------------------------


def _read_export(path: Path) -> list[dict[str, Any]]:
    if not path.exists() or path.stat().st_size == 0:
        return []
    lines = []
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                try:
                    line = json.loads(text)
                    line["type"]  # noqa: B018 - every line says what it is
                except (ValueError, KeyError, TypeError) as error:
                    raise CassetteError(f"{path}:{number}: not a cassette export line ({error})") from None
                lines.append(line)
    return lines


def merge_exports(base: Path, ours: Path, theirs: Path, out: Path | None = None) -> MergeReport:
    """Merge three JSONL exports into `out` (default `ours`), sorted as an export is."""
    out = out or ours
    sides = [_read_export(p) for p in (base, ours, theirs)]
    recs = [[line for line in side if line["type"] == "recording"] for side in sides]
    try:
        ids = [[(r["key"], recording_identity(r)) for r in side] for side in recs]
    except (KeyError, ValueError, TypeError) as error:
        raise CassetteError(f"an export line lacks or mangles a field ({error!r})") from None
    decided = plan(*ids)
    dropped = set(decided.drop)
    merged = [r for i, r in enumerate(recs[1]) if i not in dropped] + [recs[2][i] for i in decided.add]
    seqs: Counter[str] = Counter()
    for r in sorted(merged, key=lambda r: (r["key"], r.get("seq", 0))):
        seqs[r["key"]] += 1
        r["seq"] = seqs[r["key"]]
    header = next((line for side in sides[1:] for line in side if line["type"] == "cassette"), None)
    blobs = {line["sha256"]: line for side in sides[1:] for line in side if line["type"] == "blob"}
    https = {json.dumps(line, sort_keys=True): line for side in sides[1:] for line in side if line["type"] == "http"}
    exchanges = _merge_exchange_lines(sides)
    ordered = [*([header] if header else []), *(blobs[k] for k in sorted(blobs)),
               *sorted(merged, key=lambda r: (r["kind"], r["provider"], r["model"], r["key"], r["seq"])),
               *(https[k] for k in sorted(https)), *exchanges]
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.merge-", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for line in ordered:
                handle.write(json.dumps(line, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n")
        os.replace(name, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return MergeReport(len(recs[1]) - len(dropped), len(dropped), len(decided.add), decided.conflicts)


def _merge_exchange_lines(sides: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The three-way merge of the `exchange` lines of three exports, sorted and renumbered."""
    lines = [[line for line in side if line["type"] == "exchange"] for side in sides]
    try:
        decided = plan(*([(x["key"], exchange_identity(x)) for x in side] for side in lines))
    except (KeyError, ValueError, TypeError) as error:
        raise CassetteError(f"an export's exchange line lacks or mangles a field ({error!r})") from None
    dropped = set(decided.drop)
    merged = [x for i, x in enumerate(lines[1]) if i not in dropped] + [lines[2][i] for i in decided.add]
    seqs: Counter[str] = Counter()
    for x in merged:  # ours first, then theirs: each key's answers in that order
        seqs[x["key"]] += 1
        x["seq"] = seqs[x["key"]]
    return sorted(merged, key=lambda x: (x.get("host") or "", x.get("path") or "", x["method"], x["key"], x["seq"]))


# -- review: textconv and diff --------------------------------------------------------------


def _prompt(request: Any) -> str:
    if isinstance(request, str):
        request = json.loads(request)
    prompt = (request.get("request") or {}).get("prompt") if isinstance(request, dict) else None
    return repr(prompt[:60]) if isinstance(prompt, str) else "-"


def textconv_lines(store: CassetteStore) -> Iterator[str]:
    """One stable line per recording (and per HTTP interaction and exchange), media by hash and size:
    what `git diff` shows of a `.db` file."""
    sizes = {b["hash"]: b["size"] for b in store.blobs()}
    for r in sorted(store.recordings(), key=lambda r: (r["kind"], r["provider"], r["model"], r["key"], r["seq"])):
        line = (f"recording {r['kind']} {r['provider']}/{r['model']} key={r['key'][:12]} seq={r['seq']} "
                f"{r['outcome']} recorded={r['recorded_at']} prompt={_prompt(r['request'])}")
        if r["outcome"] == "error" and r["error"]:
            with contextlib.suppress(ValueError, AttributeError):
                error = json.loads(r["error"])
                line += f" error={error.get('type')}: {str(error.get('message'))[:60]!r}"
        yield line
        for slot, m in sorted(store.media(r["id"]).items()):
            yield f"  media {slot} sha256={m['hash'][:16]} size={sizes.get(m['hash'], '?')} {m['content_type']}"
    for h in sorted(store.http_interactions(), key=lambda h: (h["uri"], h["method"], h["fingerprint"])):
        yield f"http {h['method']} {h['uri']} recorded={h['recorded_at']}"
    for x in sorted(exchange_rows(store), key=lambda x: (x["host"], x["path"] or "", x["method"], x["key"], x["seq"])):
        yield (f"exchange {x['method']} {x['url']} {x['status']} {x['role']} seq={x['seq']} "
               f"body={str(x['response_body'])[:16]} recorded={x['recorded_at']}")


def _flat(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list) and value and prefix != "timeline":
        for i, v in enumerate(value):
            _flat(f"{prefix}[{i}]", v, out)
    else:
        out[prefix] = value


def _fields(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"outcome": row["outcome"]}
    for name in _CONTENT:
        value = json.loads(row[name]) if row[name] else None
        if name == "timeline":
            out["timeline"] = f"{len(value or [])} update(s)"
        else:
            _flat(name, value, out)
    for slot, m in store.media(row["id"]).items():
        out[f"media.{slot}"] = m["hash"]
    return out


def diff_cassettes(a: Store, b: Store) -> Iterator[str]:
    """What changed from `a` to `b`: recordings added (+), removed (-) and changed (~),
    matched by request key and sequence, changes listed field by field."""
    rows_a = {(r["key"], r["seq"]): r for r in a.recordings()}
    rows_b = {(r["key"], r["seq"]): r for r in b.recordings()}

    def name(r: dict[str, Any]) -> str:
        return f"{r['kind']} {r['provider']}/{r['model']} prompt={_prompt(r['request'])} seq={r['seq']}"

    for k in sorted(rows_a.keys() - rows_b.keys()):
        yield f"- {name(rows_a[k])} ({rows_a[k]['outcome']}, recorded {rows_a[k]['recorded_at']})"
    for k in sorted(rows_b.keys() - rows_a.keys()):
        yield f"+ {name(rows_b[k])} ({rows_b[k]['outcome']}, recorded {rows_b[k]['recorded_at']})"
    for k in sorted(rows_a.keys() & rows_b.keys()):
        fa, fb = _fields(a, rows_a[k]), _fields(b, rows_b[k])
        changed = [f for f in sorted(fa.keys() | fb.keys()) if fa.get(f) != fb.get(f)]
        if changed:
            yield f"~ {name(rows_a[k])}"
            for f in changed:
                yield f"    {f}: {_short(fa.get(f))} -> {_short(fb.get(f))}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
