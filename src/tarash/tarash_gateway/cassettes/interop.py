"""Moving cassettes in and out: vcrpy YAML in, readable JSONL out (and back in).

- `import_vcr_yaml` adds a vcrpy YAML cassette's interactions to a cassette's
  `http_interactions` (both vcrpy formats, checked by `vcr_yaml`), scrubbed on
  the way in.
- `export_jsonl` writes one JSON object per line, sorted, so the same cassette
  always gives the same text (reviewable, diffable, mergeable), from any store: a file
  and a PostgreSQL cassette holding the same rows give the same bytes, since every
  order is decided here. A header line, then `blob` lines by hash, `recording`
  lines by (kind, provider, model, key, seq), `http` lines by (uri, method, body,
  n) and the HTTP level's `exchange` lines by (host, path, method, key, seq). Blob
  bytes are not in the text unless asked: small UTF-8 bodies inline as `text`,
  `embed_blobs` adds the rest as base64, and `blobs_dir` writes each blob as a file
  named by its hash (checked to be a digest, the path checked to stay inside the
  directory). `write_export` writes it to a file safely: never onto the cassette's
  file, never over a file unless forced, and never a partial file.
- `import_jsonl` (in `jsonl`) reads such an export back.
- `importing` opens the cassette an import writes to, as one transaction: a failed
  import leaves the cassette as it was, and removes a cassette it created.

Imports hold every body to a cap (`limits`). `progress(n)` callbacks report
items done, for progress bars.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import secrets
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..exceptions import CassetteError
from .exchanges import exchange_rows
from .jsonl import FORMAT, import_jsonl
from .maintenance import blob_refs, decode_field
from .persister import encode_interactions
from .protocol import Store
from .scrub import Scrubber
from .store import SCHEMA_VERSION, CassetteStore, check_digest, path_inside
from .vcr_yaml import Pair, load_vcr_yaml

__all__ = ["FORMAT", "export_jsonl", "export_lines", "export_size", "import_jsonl", "import_vcr_pairs",
           "import_vcr_yaml", "importing", "load_vcr_yaml", "write_export", "write_output"]

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

_INLINE_TEXT = 64 * 1024
Progress = Callable[[int], None] | None


def import_vcr_yaml(source: Path, store: CassetteStore, *, scrubber: Scrubber | None = None,
                    progress: Progress = None, max_body_size: int | None = None) -> int:
    """Add a vcrpy YAML cassette to `store`; returns the number of new interactions.

    Raises:
        CassetteError: the file is not a well-formed vcrpy cassette, or a body is over
            `max_body_size` (see `vcr_yaml.load_vcr_yaml`).
    """
    pairs = load_vcr_yaml(source, max_body_size=max_body_size)
    return import_vcr_pairs(pairs, store, scrubber=scrubber, progress=progress)


def import_vcr_pairs(pairs: list[Pair], store: CassetteStore, *,
                     scrubber: Scrubber | None = None, progress: Progress = None, batch: int = 200) -> int:
    """Add `(request, response)` pairs from `load_vcr_yaml`, in batches."""
    added = 0
    occurrences: Counter[str] = Counter()
    for start in range(0, len(pairs), batch):
        rows, blobs = encode_interactions(pairs[start : start + batch], scrubber or Scrubber())
        for row in rows:  # number repeats across batches too
            identity = row["fingerprint"].split("#", 1)[0]
            occurrences[identity] += 1
            row["fingerprint"] = f"{identity}#{occurrences[identity]}"
        added += store.add_http_interactions(rows, blobs)
        if progress:
            progress(len(rows))
    return added


@contextlib.contextmanager
def importing(path: Path) -> Iterator[CassetteStore]:
    """The cassette an import writes to (created if missing), all its writes one transaction.

    On any error the transaction is rolled back, so an existing cassette is left as it
    was; a cassette (and directories) the import created is removed, with its `-wal`
    and `-shm`.

    Examples:
        >>> with importing(Path("cassettes/run.db")) as store:  # doctest: +SKIP
        ...     import_jsonl(Path("run.jsonl"), store)
    """
    new_dirs = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    created = not path.exists()
    store = CassetteStore(path)
    try:
        store.check(create=True)
        with store.atomic("importing"):
            yield store
    except BaseException:
        store.close()
        if created:
            for name in (path, *(Path(f"{path}{end}") for end in ("-wal", "-shm", "-journal"))):
                with contextlib.suppress(FileNotFoundError):
                    name.unlink()
            for directory in new_dirs:  # innermost first
                with contextlib.suppress(OSError):
                    directory.rmdir()
        raise
    finally:
        store.close()


# -- JSONL export -------------------------------------------------------------------------


def export_lines(store: Store, *, blobs_dir: Path | None = None, embed_blobs: bool = False,
                 progress: Progress = None) -> Iterator[dict[str, Any]]:
    """The export as dicts, in file order: the same for a file and for a database holding
    the same recordings, blobs and exchanges (every order is decided here, not by the store).

    Raises:
        CassetteError: the cassette is damaged (a column that is not JSON, a blob hash
            that is not a digest, a blob referred to but missing); names the row.
    """
    yield {"type": "cassette", "format": FORMAT, "schema_version": SCHEMA_VERSION}
    try:
        blobs = sorted(store.blobs(), key=lambda b: str(b["hash"]))
        held = {b["hash"] for b in blobs}
        for lines in (_blob_lines(store, blobs, blobs_dir, embed_blobs), _recording_lines(store, held),
                      _http_lines(store, held), _exchange_lines(store, held)):
            for line in lines:
                yield line
                if progress:
                    progress(1)
    except KeyError as error:  # a table lacks a column of the schema its version promises
        raise CassetteError(f"cassette {store.path} is damaged: a table lacks its column {error} "
                            "(run tarash cassette verify)") from None


def _blob_lines(store: Store, blobs: list[dict[str, Any]], blobs_dir: Path | None, embed_blobs: bool
                ) -> Iterator[dict[str, Any]]:
    for blob in blobs:
        digest = check_digest(blob["hash"], f"cassette {store.path}, blobs table")
        if isinstance(blob["size"], bool) or not isinstance(blob["size"], int) or blob["size"] < 0:
            raise CassetteError(f"cassette {store.path}, blob {digest[:12]}...: its size {blob['size']!r} is not a "
                                "byte count (damaged; run tarash cassette verify)")
        line: dict[str, Any] = {"type": "blob", "sha256": digest, "size": blob["size"],
                                "content_type": blob["content_type"]}
        if blob["size"] <= _INLINE_TEXT or embed_blobs:
            data = store.read_blob(digest)
            text = _text(data) if blob["size"] <= _INLINE_TEXT else None
            if text is not None:
                line["text"] = text
            elif embed_blobs:
                line["base64"] = base64.b64encode(data).decode("ascii")
        if blobs_dir is not None:
            target = path_inside(blobs_dir, digest, f"cassette {store.path}, blob {digest[:12]}...")
            if not (target.is_file() and target.stat().st_size == blob["size"]):
                store.copy_blob(digest, target)
        yield line


def _held(store: Store, held: set[str], digest: Any, where: str) -> str:
    digest = check_digest(digest, f"cassette {store.path}, {where}")
    if digest not in held:
        raise CassetteError(f"cassette {store.path}, {where}: blob {digest[:12]}... is referred to but missing "
                            "(damaged; run tarash cassette verify)")
    return digest


def _recording_lines(store: Store, held: set[str]) -> Iterator[dict[str, Any]]:
    media: dict[int, list[dict[str, Any]]] = {}
    for m in sorted(store.all_media(), key=lambda m: str(m["slot"])):  # code point order: SQLite's, whatever the store
        where = f"recording #{m['recording_id']}, media {m['slot']!r}"
        media.setdefault(m["recording_id"], []).append(
            {"slot": m["slot"], "url": m["url"], "sha256": _held(store, held, m["hash"], where),
             "content_type": m["content_type"]})
    rows = store.recordings()
    try:
        rows.sort(key=lambda r: (r["kind"], r["provider"], r["model"], r["key"], r["seq"]))
    except TypeError:  # a column holds a value of another type than its siblings: damaged, order by id
        raise CassetteError(f"cassette {store.path}: a recording's kind, provider, model, key or seq is not "
                            "of its column's type (damaged; run tarash cassette verify)") from None
    for r in rows:
        fields = {name: decode_field(store, r, name) for name in ("request", "response", "error", "timeline")}
        for digest in blob_refs(fields["response"], f"cassette {store.path}, recording #{r['id']}"):
            _held(store, held, digest, f"recording #{r['id']}")
        yield {
            "type": "recording", "key": r["key"], "seq": r["seq"], "kind": r["kind"], "provider": r["provider"],
            "model": r["model"], "request": fields["request"], "outcome": r["outcome"],
            "response": fields["response"], "error": fields["error"], "timeline": fields["timeline"] or [],
            "duration": r["duration"], "library_version": r["library_version"], "recorded_at": r["recorded_at"],
            "media": media.get(r["id"], []),
        }


def _http_lines(store: Store, held: set[str]) -> Iterator[dict[str, Any]]:
    seen: Counter[tuple[str, str, str | None]] = Counter()
    numbered = []
    for h in store.http_interactions():  # n: the order of equal requests, which replay depends on
        where = f"HTTP interaction #{h['id']}"
        for name in ("request_body", "response_body"):
            if h[name] is not None:
                _held(store, held, h[name], f"{where}, {name}")
        group = (str(h["uri"]), str(h["method"]), h["request_body"])
        seen[group] += 1
        numbered.append((group, seen[group], h))
    for (uri, method, body), n, h in sorted(numbered, key=lambda t: (t[0][0], t[0][1], t[0][2] or "", t[1])):
        yield {
            "type": "http", "method": method, "uri": uri, "n": n,
            "request": _json(store, h["request"], f"HTTP interaction #{h['id']}, request"),
            "request_body": body, "response": _json(store, h["response"], f"HTTP interaction #{h['id']}, response"),
            "response_body": h["response_body"], "recorded_at": h["recorded_at"],
        }


def _exchange_lines(store: Store, held: set[str]) -> Iterator[dict[str, Any]]:
    rows = exchange_rows(store)  # checked: text where text belongs, JSON headers, digests
    for x in sorted(rows, key=lambda r: (r["host"], r["path"] or "", r["method"], r["key"], r["seq"])):
        where = f"HTTP exchange #{x['id']}"
        for name in ("request_body", "response_body"):
            if x[name] is not None:
                _held(store, held, x[name], f"{where}, {name}")
        yield {
            "type": "exchange", "key": x["key"], "seq": x["seq"], "method": x["method"], "url": x["url"],
            "host": x["host"], "path": x["path"], "request": _json(store, x["request"], f"{where}, request"),
            "status": x["status"], "headers": _json(store, x["headers"], f"{where}, headers"),
            "request_body": x["request_body"], "response_body": x["response_body"], "provider": x["provider"],
            "role": x["role"], "job": x["job"], "terminal": bool(x["terminal"]), "recorded_at": x["recorded_at"],
        }


def _json(store: Store, text: Any, where: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError, RecursionError):
        raise CassetteError(f"cassette {store.path}, {where} is not valid JSON (damaged; run tarash cassette verify)"
                            ) from None


def _not_json(store: Store, line: dict[str, Any], value: Any) -> Any:
    raise CassetteError(f"cassette {store.path}: a {line.get('type')} row holds a {type(value).__name__} value "
                        "where text or a number belongs (damaged; run tarash cassette verify)")


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def export_size(store: Store) -> int:
    """How many lines (after the header) `export_jsonl` writes, for a progress bar."""
    return (len(store.blobs()) + store.count_recordings() + store.count_http_interactions()
            + store.count_exchanges())


def export_jsonl(store: Store, out: SupportsWrite[str], **options: Any) -> int:
    """Write the sorted JSONL export to `out`; returns the number of lines."""
    count = 0
    for line in export_lines(store, **options):
        out.write(json.dumps(line, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                             default=functools.partial(_not_json, store, line)) + "\n")
        count += 1
    return count


def write_export(store: Store, output: Path, *, force: bool = False, **options: Any) -> int:
    """Write the JSONL export to the file `output`, safely (see `write_output`);
    returns the number of lines.

    Raises:
        CassetteError: the output is refused, cannot be written, or the cassette is damaged.
    """
    return write_output(store, output, lambda out: export_jsonl(store, out, **options), force=force)


def write_output(store: Store, output: Path, write: Callable[[IO[str]], int], *, force: bool = False) -> int:
    """Write an export of `store` (JSONL, HAR ...) to the file `output`: `write` writes
    the text and returns what it counted.

    Refuses to write onto the cassette's file (the same path, a symlink or a hard link to
    it, or its `-wal`/`-shm`; a database has none) and over an existing file unless
    `force`. The text is written to a temporary file beside `output` and renamed into
    place, so a failed export (disk full, a directory that is not writable, a damaged
    cassette) leaves no partial file. A device or pipe (`/dev/stdout`) is written
    directly.

    Raises:
        CassetteError: the output is refused, cannot be written, or the cassette is damaged.
    """
    _refuse_source(store, output)
    mode = _mode(output)
    if mode is not None and not stat.S_ISREG(mode):
        return _write_device(output, write)
    if mode is not None and not force:
        raise CassetteError(f"{output} exists; give --force to replace it")
    # beside the output, so the rename is atomic; made by open() so it gets the usual mode
    tmp = output.parent / f".{output.name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise CassetteError(f"cannot write {output}: {error.strerror or error}") from error
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            count = write(out)
        os.replace(tmp, output)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(error, OSError):
            raise CassetteError(f"cannot write {output}: {error.strerror or error}") from error
        raise
    return count


def _write_device(output: Path, write: Callable[[IO[str]], int]) -> int:
    try:
        with output.open("w", encoding="utf-8") as out:
            return write(out)
    except OSError as error:
        raise CassetteError(f"cannot write {output}: {error.strerror or error}") from error


def _refuse_source(store: Store, output: Path) -> None:
    if store.file is None:  # a database: the output cannot be the cassette
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        source = Path(f"{store.file}{suffix}")
        same = output.absolute() == source.absolute()
        with contextlib.suppress(OSError):
            same = same or os.path.samefile(output, source)
        if same:
            raise CassetteError(f"{output} is the cassette {store.path}{suffix} itself; export to another file")


def _mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CassetteError(f"cannot write {path}: {error.strerror or error}") from error
