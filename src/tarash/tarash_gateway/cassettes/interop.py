"""Moving cassettes in and out: vcrpy YAML in, readable JSONL out (and back in).

- `import_vcr_yaml` adds a vcrpy YAML cassette's interactions to a cassette's
  `http_interactions` (both vcrpy formats: `status`/`body` and the older httpx
  `status_code`/`content`, whose text is already decoded), scrubbed on the way in.
- `export_jsonl` writes one JSON object per line, sorted, so the same cassette
  always gives the same text (reviewable, diffable, mergeable): a header line, then
  `blob` lines by hash, `recording` lines by (kind, provider, model, key, seq) and
  `http` lines by (uri, method, body, n). Blob bytes are not in the text unless asked:
  small UTF-8 bodies inline as `text`, `embed_blobs` adds the rest as base64, and
  `blobs_dir` writes each blob as a file named by its hash.
- `import_jsonl` reads such an export back.

`progress(n)` callbacks report items done, for progress bars.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from ..exceptions import CassetteError
from .lifecycle import recorded_time
from .persister import encode_interactions, interaction_identity
from .scrub import Scrubber
from .store import CHUNK, SCHEMA_VERSION, BlobSource, CassetteStore

__all__ = ["FORMAT", "export_jsonl", "export_lines", "export_size", "import_jsonl", "import_vcr_pairs",
           "import_vcr_yaml", "load_vcr_yaml"]

FORMAT = "tarash-cassette-jsonl/1"
_INLINE_TEXT = 64 * 1024
Progress = Callable[[int], None] | None


def load_vcr_yaml(source: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """A vcrpy YAML cassette's `(request, response)` pairs, responses in today's format."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(source.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CassetteError(f"{source} is not a readable vcrpy YAML cassette: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{source} is not a vcrpy cassette (no 'interactions' list)")
    pairs = []
    for i, item in enumerate(data["interactions"]):
        try:
            pairs.append((dict(item["request"]), _normal_response(dict(item["response"]))))
        except (KeyError, TypeError) as error:
            raise CassetteError(f"{source}: interaction {i + 1} is malformed ({error!r})") from error
    return pairs


def _normal_response(response: dict[str, Any]) -> dict[str, Any]:
    if "status_code" not in response:
        return response
    # vcrpy's older httpx format: the content was stored decoded, while the headers still
    # name the wire's compression. Keep the text and drop the now-wrong header.
    headers = {k: list(v) if isinstance(v, list) else [v] for k, v in (response.get("headers") or {}).items()}
    body = response.get("content") or b""
    body = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    for name in [k for k in headers if k.lower() == "content-encoding"]:
        encoding = (headers[name] or [""])[0].lower()
        try:
            body = gzip.decompress(body) if encoding == "gzip" else zlib.decompress(body) if encoding == "deflate" else body
        except (OSError, zlib.error, EOFError):
            pass  # already decoded text
        del headers[name]
        for length in [k for k in headers if k.lower() == "content-length"]:
            headers[length] = [str(len(body))]
    code = int(response["status_code"])
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = ""
    return {"status": {"code": code, "message": phrase}, "headers": headers, "body": {"string": body}}


def import_vcr_yaml(source: Path, store: CassetteStore, *, scrubber: Scrubber | None = None,
                    progress: Progress = None) -> int:
    """Add a vcrpy YAML cassette to `store`; returns the number of new interactions."""
    return import_vcr_pairs(load_vcr_yaml(source), store, scrubber=scrubber, progress=progress)


def import_vcr_pairs(pairs: list[tuple[dict[str, Any], dict[str, Any]]], store: CassetteStore, *,
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


# -- JSONL ------------------------------------------------------------------------------


def _json_or_none(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def export_lines(store: CassetteStore, *, blobs_dir: Path | None = None, embed_blobs: bool = False,
                 progress: Progress = None) -> Iterator[dict[str, Any]]:
    """The export as dicts, in file order."""
    yield {"type": "cassette", "format": FORMAT, "schema_version": SCHEMA_VERSION}
    for lines in (_blob_lines(store, blobs_dir, embed_blobs), _recording_lines(store), _http_lines(store)):
        for line in lines:
            yield line
            if progress:
                progress(1)


def _blob_lines(store: CassetteStore, blobs_dir: Path | None, embed_blobs: bool) -> Iterator[dict[str, Any]]:
    for blob in store.blobs():
        line: dict[str, Any] = {"type": "blob", "sha256": blob["hash"], "size": blob["size"],
                                "content_type": blob["content_type"]}
        if blob["size"] <= _INLINE_TEXT or embed_blobs:
            data = store.read_blob(blob["hash"])
            text = _text(data) if blob["size"] <= _INLINE_TEXT else None
            if text is not None:
                line["text"] = text
            elif embed_blobs:
                line["base64"] = base64.b64encode(data).decode("ascii")
        if blobs_dir is not None:
            target = blobs_dir / blob["hash"]
            if not (target.exists() and target.stat().st_size == blob["size"]):
                store.copy_blob(blob["hash"], target)
        yield line


def _recording_lines(store: CassetteStore) -> Iterator[dict[str, Any]]:
    media: dict[int, list[dict[str, Any]]] = {}
    for m in store.all_media():
        media.setdefault(m["recording_id"], []).append(
            {"slot": m["slot"], "url": m["url"], "sha256": m["hash"], "content_type": m["content_type"]})
    for r in sorted(store.recordings(), key=lambda r: (r["kind"], r["provider"], r["model"], r["key"], r["seq"])):
        yield {
            "type": "recording", "key": r["key"], "seq": r["seq"], "kind": r["kind"], "provider": r["provider"],
            "model": r["model"], "request": json.loads(r["request"]), "outcome": r["outcome"],
            "response": _json_or_none(r["response"]), "error": _json_or_none(r["error"]),
            "timeline": _json_or_none(r["timeline"]) or [], "duration": r["duration"],
            "library_version": r["library_version"], "recorded_at": r["recorded_at"], "media": media.get(r["id"], []),
        }


def _http_lines(store: CassetteStore) -> Iterator[dict[str, Any]]:
    seen: Counter[tuple[str, str, str | None]] = Counter()
    numbered = []
    for h in store.http_interactions():  # n: the order of equal requests, which replay depends on
        group = (h["uri"], h["method"], h["request_body"])
        seen[group] += 1
        numbered.append((group, seen[group], h))
    for (uri, method, body), n, h in sorted(numbered, key=lambda t: (t[0][0], t[0][1], t[0][2] or "", t[1])):
        yield {
            "type": "http", "method": method, "uri": uri, "n": n, "request": json.loads(h["request"]),
            "request_body": body, "response": json.loads(h["response"]), "response_body": h["response_body"],
            "recorded_at": h["recorded_at"],
        }


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def export_size(store: CassetteStore) -> int:
    """How many lines (after the header) `export_jsonl` writes, for a progress bar."""
    counts = store.query(
        "SELECT (SELECT count(*) FROM blobs) + (SELECT count(*) FROM recordings) "
        "+ (SELECT count(*) FROM http_interactions) AS n"
    )
    return counts[0]["n"]


def export_jsonl(store: CassetteStore, out: IO[str], **options: Any) -> int:
    """Write the sorted JSONL export to `out`; returns the number of lines."""
    count = 0
    for line in export_lines(store, **options):
        out.write(json.dumps(line, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


def import_jsonl(source: Path, store: CassetteStore, *, blobs_dir: Path | None = None,
                 progress: Progress = None) -> tuple[int, int]:
    """Load an export into `store`; returns `(recordings, http interactions)` added."""
    recordings = https = 0
    occurrences: Counter[str] = Counter()
    try:
        handle = source.open(encoding="utf-8")
    except OSError as error:
        raise CassetteError(f"cannot read {source}: {error}") from error
    with handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
                kind = line["type"]
            except (ValueError, KeyError, TypeError) as error:
                raise CassetteError(f"{source}:{number}: not a cassette export line ({error})") from error
            try:
                if kind == "cassette":
                    if line.get("format") != FORMAT:
                        raise CassetteError(f"{source}: format {line.get('format')!r} is not {FORMAT!r}")
                elif kind == "blob":
                    blob = _blob(line, blobs_dir, source)
                    try:
                        store.put_blobs([blob])
                    finally:
                        if blob.file is not None:
                            blob.file.close()
                elif kind == "recording":
                    recordings += _import_recording(store, line, occurrences)
                elif kind == "http":
                    https += _import_http(store, line, occurrences)
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                raise CassetteError(f"{source}:{number}: a {kind} line lacks or mangles a field ({error!r})") from error
            if progress:
                progress(1)
    return recordings, https


def _blob(line: dict[str, Any], blobs_dir: Path | None, source: Path) -> BlobSource:
    digest = line["sha256"]
    if "text" in line:
        data = line["text"].encode("utf-8")
    elif "base64" in line:
        data = base64.b64decode(line["base64"])
    elif blobs_dir is not None and (blobs_dir / digest).is_file():
        handle = (blobs_dir / digest).open("rb")
        hasher, size = hashlib.sha256(), 0
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
        if hasher.hexdigest() != digest:
            handle.close()
            raise CassetteError(f"{blobs_dir / digest} does not hold the bytes its name says (damaged)")
        return BlobSource(digest, size, line.get("content_type"), file=handle)
    else:
        raise CassetteError(
            f"{source}: the bytes of blob {digest[:12]}... are not in the export; give the export's "
            "--blobs-dir, or export with --embed-blobs"
        )
    if hashlib.sha256(data).hexdigest() != digest:
        raise CassetteError(f"{source}: blob {digest[:12]}... does not hold the bytes its hash says (edited?)")
    return BlobSource(digest, len(data), line.get("content_type"), data=data)


def _import_recording(store: CassetteStore, line: dict[str, Any], occurrences: Counter[str]) -> int:
    def dump(value: Any) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    row = {
        "key": line["key"], "kind": line["kind"], "provider": line["provider"], "model": line["model"],
        "request": json.dumps(line["request"], sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        "outcome": line["outcome"], "response": dump(line.get("response")), "error": dump(line.get("error")),
        "timeline": dump(line.get("timeline") or []), "duration": line.get("duration"),
        "library_version": line.get("library_version"), "recorded_at": line.get("recorded_at"),
        "recorded_ts": recorded_time(line) or 0.0,  # when it was recorded, not imported
    }
    # Idempotent, yet lossless when merging: the n-th copy of a recording in the export is
    # skipped only if the cassette already holds n equal recordings of that request.
    # Equal by content, not by spelling: an export sorts its keys, the cassette keeps them as written.
    from .merge import recording_identity

    identity = recording_identity({**row, "key": line["key"]})
    occurrences[identity] += 1
    held = store.query("SELECT outcome, response, error, timeline FROM recordings WHERE key = ?", (line["key"],))
    if sum(recording_identity({**existing, "key": line["key"]}) == identity for existing in held) >= occurrences[identity]:
        return 0  # already there: importing the same recordings twice adds nothing, whatever file they came from
    # a different recording of the same request (merging cassettes): kept, after the others
    media = [{"slot": m["slot"], "url": m.get("url"), "hash": m["sha256"], "content_type": m.get("content_type")}
             for m in line.get("media") or []]
    store.add_recording(row, media=media)
    return 1


def _import_http(store: CassetteStore, line: dict[str, Any], occurrences: Counter[str]) -> int:
    req_json = json.dumps(line["request"], sort_keys=True, separators=(",", ":"))
    res_json = json.dumps(line["response"], sort_keys=True, separators=(",", ":"))
    identity = interaction_identity(req_json, line.get("request_body"), res_json, line.get("response_body"))
    occurrences[identity] += 1
    row = {"fingerprint": f"{identity}#{occurrences[identity]}", "method": line["method"], "uri": line["uri"],
           "request": req_json, "response": res_json, "request_body": line.get("request_body"),
           "response_body": line.get("response_body"), "recorded_at": line.get("recorded_at")}
    return store.add_http_interactions([row], [])
