"""What a recording holds, and how responses, errors and progress timelines become the
JSON stored in a cassette and back.

- The response is stored as its JSON, without `execution_metadata` and `origin`
  (both are set again on replay). Media given inline (`{"content": bytes}` or a
  `data:` URI) is moved to the `blobs` table and replaced by
  `{"$blob": sha256, "content_type": ..., "form": "content" | "data_uri"}`; media given
  as a URL keeps its (scrubbed) URL, and is captured separately (see `media`).
- The error is `exception_to_dict`'s form, rebuilt as the same class
  with the same fields.
- The timeline is `[{"t": seconds since the call started, "u": update fields}]`. A
  `result` equal to the final response is stored as `{"$result": "response"}`.

Everything is scrubbed (`scrub`) before it is returned for writing. Pure
functions; nothing here does I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..exceptions import (
    BudgetExceededError,
    CassetteError,
    ValidationError,
    exception_from_dict,
    exception_to_dict,
    raised_by_callback,
    rebuildable,
)
from ..media_io import guess_content_type
from ..responses import (
    ImageGenerationResponse,
    ImageGenerationUpdate,
    VideoGenerationResponse,
    VideoGenerationUpdate,
)
from .scrub import Scrubber
from .store import BlobSource

__all__ = [
    "MediaSlot",
    "decode_error",
    "decode_timeline",
    "encode_error",
    "encode_response",
    "encode_timeline",
    "is_recordable",
    "media_slots",
    "response_class",
    "seconds",
]

_RESULT = {"$result": "response"}


def response_class(kind: str) -> type[VideoGenerationResponse] | type[ImageGenerationResponse]:
    return VideoGenerationResponse if kind == "video" else ImageGenerationResponse


def update_class(kind: str) -> type[VideoGenerationUpdate] | type[ImageGenerationUpdate]:
    return VideoGenerationUpdate if kind == "video" else ImageGenerationUpdate


@dataclass(slots=True)
class MediaSlot:
    """One piece of generated media in a response: `video` or `images/<i>`.

    `url` is the URL to capture (as the provider gave it, secrets included: it is
    never written); `stored_url` is the scrubbed form kept in the cassette. Inline
    media has `blob` instead.
    """

    slot: str
    url: str | None = None
    stored_url: str | None = None
    content_type: str | None = None
    blob: BlobSource | None = None


def is_recordable(error: BaseException) -> bool:
    """Provider errors are recorded; the user's callback errors, cassette errors and budget
    refusals (the call never reached the provider) are not, nor exceptions that cannot be
    rebuilt on replay."""
    if raised_by_callback(error) or isinstance(error, CassetteError | BudgetExceededError):
        return False
    return rebuildable(error)


def _inline(slot: str, value: Any, default_type: str) -> tuple[Any, MediaSlot]:
    """A media value as stored, and the slot describing it."""
    if isinstance(value, dict):
        content_type = value.get("content_type") or default_type
        blob = BlobSource.of(bytes(value["content"]), content_type)
        return {"$blob": blob.hash, "content_type": content_type, "form": "content"}, MediaSlot(slot, blob=blob,
                                                                                               content_type=content_type)
    if value.startswith("data:"):
        header, _, payload = value.partition(",")
        content_type = header[5:].split(";", 1)[0] or default_type
        if header.endswith(";base64"):
            try:
                data = base64.b64decode(payload, validate=True)
            except binascii.Error:
                return value, MediaSlot(slot)
            blob = BlobSource.of(data, content_type)
            return {"$blob": blob.hash, "content_type": content_type, "form": "data_uri"}, MediaSlot(
                slot, blob=blob, content_type=content_type)
        return value, MediaSlot(slot)
    return value, MediaSlot(slot, url=value, content_type=guess_content_type(value, default_type))


def media_slots(kind: str, response: Any) -> list[tuple[str, Any]]:
    """`(slot, value)` for each media value of a response."""
    if kind == "video":
        return [("video", response.video)]
    return [(f"images/{i}", image) for i, image in enumerate(response.images)]


def encode_response(kind: str, response: Any, scrubber: Scrubber) -> tuple[str, list[MediaSlot]]:
    """The response's stored JSON (scrubbed) and its media slots."""
    media_field = "video" if kind == "video" else "images"
    data = response.model_dump(mode="json", exclude={media_field, "execution_metadata", "origin"})
    data = scrubber.value(data)
    default_type = "video/mp4" if kind == "video" else (response.content_type or "image/png")
    stored: list[Any] = []
    slots: list[MediaSlot] = []
    for slot, value in media_slots(kind, response):
        kept, media = _inline(slot, value, default_type)
        if media.url is not None:
            kept = media.stored_url = scrubber.text(media.url)
        stored.append(kept)
        slots.append(media)
    data[media_field] = stored[0] if kind == "video" else stored
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False), slots


def encode_error(error: BaseException, scrubber: Scrubber) -> str:
    return json.dumps(scrubber.value(exception_to_dict(error)), separators=(",", ":"), ensure_ascii=False)


def decode_error(text: str) -> BaseException:
    """The recorded exception: same class, same fields.

    Raises:
        ValueError: the record is not an error this version can rebuild (an unknown type,
            fields it does not take); the replay reports it as a `CassetteError` naming
            the recording, never as the caller's own bad input.
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"the recorded error is {type(data).__name__}, not an error record")
    try:
        return exception_from_dict(data)
    except ValidationError as error:
        raise ValueError(f"the recorded error cannot be rebuilt: {error}") from None


def encode_timeline(timeline: Sequence[tuple[float, Any]], response: Any, scrubber: Scrubber) -> str:
    entries = []
    for offset, update in timeline:
        entry: dict[str, Any] = {"t": round(offset, 6)}
        if hasattr(update, "model_dump"):
            fields = update.model_dump(mode="json", exclude={"attempt", "result"}, exclude_defaults=True)
            result = getattr(update, "result", None)
            if result is not None:
                same = response is not None and getattr(result, "request_id", None) == response.request_id
                fields["result"] = dict(_RESULT) if same else result.model_dump(mode="json")
            entry["u"] = scrubber.value(fields)
        else:
            entry["v"] = scrubber.value(json.loads(json.dumps(update, default=str)))
        entries.append(entry)
    return json.dumps(entries, separators=(",", ":"), ensure_ascii=False)


def decode_timeline(kind: str, text: str | None, response: Any) -> list[tuple[float, dict[str, Any] | None, Any]]:
    """`(offset, update fields or None, raw value)` for each recorded update.

    Fields are ready for `call.emit(**fields)`: the current attempt is added there.
    """
    out: list[tuple[float, dict[str, Any] | None, Any]] = []
    entries = json.loads(text or "[]")
    if not isinstance(entries, list):
        raise TypeError("the recorded timeline is not a list")
    for entry in entries:
        if not isinstance(entry, dict):
            raise TypeError("a timeline entry is not an object")
        offset = seconds(entry.get("t"), "a timeline offset")
        if "u" not in entry:
            out.append((offset, None, entry.get("v")))
            continue
        fields = entry["u"]
        if not isinstance(fields, dict):
            raise TypeError("a timeline update is not an object")
        fields = dict(fields)
        result = fields.pop("result", None)
        if result == _RESULT:
            fields["result"] = response
        elif result is not None:
            fields["result"] = response_class(kind).model_validate_json(json.dumps(result))
        out.append((offset, fields, None))
    return out


def seconds(value: Any, what: str) -> float:
    """A recorded duration or offset: a finite number of seconds, not below zero."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
        raise ValueError(f"{what} is {value!r}, not a number of seconds")
    return float(value)
