"""What Google's JSON bodies share across families: input media objects, `extra_params`
placement (snake_case camelCased, dotted keys placed from the top), inline base64 elided
from what is kept as `raw_response`, and the words that mark a safety refusal."""

from __future__ import annotations

import base64
from typing import Any

from ...call import Call
from ...flow import Flow
from ...media_io import guess_content_type
from ..inputs import wire_bytes
from .surface import invalid

__all__ = ["elide", "media", "place_extras", "says_moderation"]

_TOP_LEVEL = {"webhookConfig", "safetySettings", "systemInstruction"}
_ALIASES = {"outputGcsUri": "storageUri"}
_MODERATION_WORDS = (
    "usage guidelines", "responsible ai", "safety filter", "safety setting", "prohibited content",
    "sensitive words", "content policy", "filtered",
)


def says_moderation(message: Any) -> bool:
    """Whether an error message reads as a safety refusal."""
    text = str(message or "").lower()
    return any(word in text for word in _MODERATION_WORDS)


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def place_extras(body: dict[str, Any], extra: dict[str, Any], home: tuple[str, ...]) -> None:
    """Put `extra_params` into `body`: under `home`, at the top for the few top-level keys,
    or at a dotted key's own place."""
    for key, value in extra.items():
        if "." in key:
            target, where = body, key.split(".")
        else:
            name = _camel(key)
            name = _ALIASES.get(name, name)
            target, where = body, ([name] if name in _TOP_LEVEL else [*home, name])
        for part in where[:-1]:
            target = target.setdefault(part, {})
        target[where[-1]] = value


def media(call: Call, given: Any, vertex: bool, default_type: str = "image/png") -> Flow[dict[str, Any]]:
    """One input as Google's Image/Video object: inline base64, or a `gcsUri` on Vertex."""
    if isinstance(given, str) and given.startswith("gs://"):
        if not vertex:
            raise invalid(call, "gs:// inputs need Vertex AI (provider_config project/location)")
        return {"gcsUri": given, "mimeType": guess_content_type(given, default_type)}
    data, content_type = yield from wire_bytes(given, default_type)
    return {"bytesBase64Encoded": base64.b64encode(data).decode("ascii"), "mimeType": content_type}


def elide(value: Any) -> Any:
    """`value` with inline base64 payloads replaced by a note of their length."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("bytesBase64Encoded", "encodedVideo", "data") and isinstance(item, str) and len(item) > 256:
                out[key] = f"<{len(item)} base64 chars, elided>"
            else:
                out[key] = elide(item)
        return out
    if isinstance(value, list):
        return [elide(item) for item in value]
    return value
