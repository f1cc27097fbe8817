"""Generated media in a cassette: captured when recording, delivered when replaying.

Capture downloads each media URL of a response (`http(s)://` or `file://`) while the
provider's URL still works, streaming it through a temporary file while hashing it, so
memory stays flat whatever the size. The bytes are stored once per sha256 (see
`store.CassetteStore`). A failed download is logged and the recording keeps
only the URL (`tarash cassette verify` lists such recordings).

Delivery, per `CassetteConfig.media`:

- `url` (default): the original URL; inline media comes back as it was given;
- `file`: the bytes streamed into `media_dir` and a `file://` URL to them;
- `content`: the bytes (`{"content": ..., "content_type": ...}` for a video, a
  `data:` URI for an image).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mimetypes
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import httpx

from ..exceptions import CassetteError
from ..media_io import to_data_uri
from .codec import MediaSlot
from .http.hook import own_client
from .protocol import Store
from .store import CHUNK, BlobSource, check_digest, path_inside

__all__ = ["close_fetched", "default_media_dir", "deliver_media", "fetch_media", "needs_media_io"]

log = logging.getLogger("tarash.cassettes")
_DOWNLOAD_TIMEOUT = 60.0


def fetch_media(slots: list[MediaSlot]) -> dict[str, BlobSource]:
    """Download the URL slots; returns blob sources (open temporary files) by slot.

    The caller closes the files (`close_fetched`).
    """
    fetched: dict[str, BlobSource] = {}
    by_url: dict[str, BlobSource] = {}
    for slot in slots:
        if slot.url is None:
            continue
        if slot.url in by_url:
            fetched[slot.slot] = by_url[slot.url]
            continue
        try:
            source = _download(slot.url, slot.content_type)
        except Exception as error:  # noqa: BLE001 - a failed capture must never fail the recorded call
            log.warning("media of %s was not captured (%s): %s", slot.slot, _safe(slot.stored_url), error)
            continue
        if source is not None:
            fetched[slot.slot] = by_url[slot.url] = source
    return fetched


def close_fetched(fetched: dict[str, BlobSource] | None) -> None:
    for source in (fetched or {}).values():
        if source.file is not None:
            with contextlib.suppress(OSError):
                source.file.close()


def _safe(url: str | None) -> str:
    return (url or "")[:120]


def _download(url: str, content_type: str | None) -> BlobSource | None:
    scheme = urlparse(url).scheme
    if scheme == "file":
        path = Path(url2pathname(urlparse(url).path))
        handle = path.open("rb")
        return _hashed(handle, content_type)
    if scheme not in ("http", "https"):
        return None
    spool = tempfile.TemporaryFile()
    try:
        # the gateway's own client: a capture is part of the call's recording, not raw HTTP traffic
        with own_client(httpx.Client(follow_redirects=True, timeout=_DOWNLOAD_TIMEOUT)) as client, \
                client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise CassetteError(f"HTTP {response.status_code}")
            content_type = response.headers.get("content-type", content_type)
            for chunk in response.iter_bytes(CHUNK):
                spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    return _hashed(spool, content_type)


def _hashed(handle: Any, content_type: str | None) -> BlobSource:
    handle.seek(0)
    hasher, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK):
        hasher.update(chunk)
        size += len(chunk)
    return BlobSource(hasher.hexdigest(), size, content_type, file=handle)


def needs_media_io(data: dict[str, Any], kind: str, mode: str) -> bool:
    """Whether delivering a stored response's media touches the cassette's blobs."""
    if mode != "url":
        return True
    values = [data.get("video")] if kind == "video" else list(data.get("images") or [])
    return any(isinstance(v, dict) for v in values)


def deliver_media(
    store: Store, recording_id: int, data: dict[str, Any], kind: str, mode: str, media_dir: Path
) -> dict[str, Any]:
    """`data` (a stored response) with each media value delivered as `mode` asks."""
    captured = store.media(recording_id) if mode != "url" else {}
    if kind == "video":
        data["video"] = _deliver(store, recording_id, "video", data["video"], kind, mode, media_dir, captured)
    else:
        data["images"] = [
            _deliver(store, recording_id, f"images/{i}", value, kind, mode, media_dir, captured)
            for i, value in enumerate(data.get("images") or [])
        ]
    return data


def _deliver(
    store: Store, recording_id: int, slot: str, value: Any, kind: str, mode: str, media_dir: Path,
    captured: dict[str, dict[str, Any]],
) -> Any:
    owner = f"recording #{recording_id} ({slot})"
    if isinstance(value, dict) and "$blob" in value:
        digest, content_type, form = value["$blob"], value.get("content_type"), value.get("form")
        if mode == "url":
            mode = "content"  # inline media comes back inline, as it was recorded
    else:
        if mode == "url":
            return value
        entry = captured.get(slot)
        if entry is None:
            raise CassetteError(
                f"the media of recording #{recording_id} ({slot}) was not captured when it was recorded "
                f"(capture_media was off or the download failed); replay it with media='url'"
            )
        digest, content_type, form = entry["hash"], entry["content_type"], "content"
    digest = check_digest(digest, f"cassette {store.path}, {owner}")
    if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
        content_type = "video/mp4" if kind == "video" else "image/png"
    if mode == "file":
        url = value if isinstance(value, str) else ""
        return _to_file(store, digest, content_type, url, media_dir, owner).as_uri()
    data = store.read_blob(digest, owner=owner)
    if kind == "image" or form == "data_uri":
        return to_data_uri(data, content_type)
    return {"content": data, "content_type": content_type}


# A content type as a cassette may hold it; anything else is replaced by the kind's default.
_CONTENT_TYPE = re.compile(r"[a-z]+/[a-z0-9.+-]{1,60}")
# The media suffixes a URL may give the file; any other comes from the content type.
_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv", ".gif", ".png", ".jpg", ".jpeg", ".webp", ".avif"})


def _to_file(store: Store, digest: str, content_type: str, url: str, media_dir: Path, owner: str) -> Path:
    """The blob as a file of `media_dir` named by its hash, never anywhere else."""
    suffix = Path(urlparse(url).path).suffix.lower() if url else ""
    if suffix not in _SUFFIXES:
        guessed = mimetypes.guess_extension(content_type) or ".bin"
        suffix = guessed if guessed in _SUFFIXES else ".bin"
    target = path_inside(media_dir, f"{digest[:24]}{suffix}", f"cassette {store.path}, {owner}")
    info = store.blob_info(digest)
    if info is not None and target.is_file() and target.stat().st_size == info["size"] and _holds(target, digest):
        return target  # written by an earlier replay: same hash, same bytes
    return store.copy_blob(digest, target, owner=owner)


def _holds(file: Path, digest: str) -> bool:
    """Whether a file already holds the bytes of `digest` (streamed, not loaded)."""
    hasher = hashlib.sha256()
    with file.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest() == digest


def default_media_dir(cassette_file: Path) -> Path:
    """`cassettes/run.db` -> `cassettes/run.media`."""
    return cassette_file.with_name(cassette_file.stem + ".media")

