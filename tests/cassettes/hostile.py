"""Cassettes, exports and files to damage: built from the store's own API, small and fast."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from tarash.tarash_gateway.cassettes import interop
from tarash.tarash_gateway.cassettes.store import BlobSource, CassetteStore

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8
IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


def _json(value: object, sort_keys: bool = True) -> str:
    return json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False)  # as the recorder


def _row(key: str, prompt: str, outcome: str, response: dict | None, error: dict | None) -> dict:
    request = {"kind": "video", "provider": "fal", "model": "fal-ai/veo3.1", "request": {"prompt": prompt}}
    return {"key": key, "kind": "video", "provider": "fal", "model": "fal-ai/veo3.1",
            "request": _json(request, sort_keys=True), "outcome": outcome,
            "response": None if response is None else _json(response),
            "error": None if error is None else _json(error),
            "timeline": _json([{"t": 0.0, "u": {"status": "queued"}}, {"t": 1.5, "u": {"status": "done"}}]),
            "duration": 1.5, "library_version": "0.2.0", "recorded_at": "2026-01-01T00:00:00+00:00",
            "recorded_ts": 1767225600.0}


def build_cassette(path: Path) -> Path:
    """A cassette with a video recording (media and a ``$blob``), an error and two HTTP interactions."""
    video, image = BlobSource.of(VIDEO, "video/mp4"), BlobSource.of(IMAGE, "image/png")
    store = CassetteStore.open(path, create=True)
    try:
        response = {"request_id": "r-1", "video": "https://cdn.example.com/v.mp4",
                    "thumbnail": {"$blob": image.hash, "content_type": "image/png", "form": "content"}}
        store.add_recording(_row("k-cat", "a cat playing piano", "response", response, None),
                            blobs=[video, image], media=[{"slot": "video", "url": "https://cdn.example.com/v.mp4",
                                                          "hash": video.hash, "content_type": "video/mp4"}])
        error = {"type": "GenerationFailedError", "message": "the job failed", "provider": "fal"}
        store.add_recording(_row("k-dog", "a dog", "error", None, error), blobs=[])
        pairs = [({"method": "POST", "uri": "https://queue.fal.run/fal-ai/veo3.1", "body": b'{"prompt":"a cat"}',
                   "headers": {"Content-Type": ["application/json"]}},
                  {"status": {"code": 200, "message": "OK"}, "headers": {"Content-Type": ["application/json"]},
                   "body": {"string": b'{"request_id":"r-1"}'}}),
                 ({"method": "GET", "uri": "https://queue.fal.run/fal-ai/veo3.1/requests/r-1", "body": None,
                   "headers": {}},
                  {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": b'{"status":"ok"}'}})]
        interop.import_vcr_pairs(pairs, store)
    finally:
        store.close()
    return path


def export_text(path: Path, **options: object) -> str:
    """The JSONL export of the cassette at ``path``."""
    store = CassetteStore.open(path, create=False)
    try:
        out = io.StringIO()
        interop.export_jsonl(store, out, **options)
        return out.getvalue()
    finally:
        store.close()


def tree(root: Path) -> set[str]:
    """Every path under ``root``, relative, for before/after comparisons."""
    return {os.path.relpath(os.path.join(d, n), root) for d, dirs, files in os.walk(root) for n in dirs + files}
