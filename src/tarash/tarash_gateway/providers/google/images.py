"""Imagen (`:predict`) and the Gemini image models (`:generateContent`): a Gemini image
body, and the images of either answer (refusals raise `ContentModerationError`)."""

from __future__ import annotations

import uuid
from typing import Any

from ... import exceptions as exc
from ...call import Call
from ...flow import Flow
from ...responses import ImageGenerationResponse
from .wire import elide, media

__all__ = ["gemini_image_body", "image_result"]

_SAFETY_FINISH = frozenset(
    {"SAFETY", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"}
)


def gemini_image_body(call: Call, payload: dict[str, Any], vertex: bool) -> Flow[dict[str, Any]]:
    """The `:generateContent` body of a mapped request: the prompt and input images as parts."""
    given = payload["contents[0]"]["parts"]
    parts: list[dict[str, Any]] = [{"text": given["text"]}]
    for item in given.get("inlineData") or []:
        blob = yield from media(call, item, vertex)
        if "gcsUri" in blob:
            parts.append({"fileData": {"fileUri": blob["gcsUri"], "mimeType": blob["mimeType"]}})
        else:
            parts.append({"inlineData": {"mimeType": blob["mimeType"], "data": blob["bytesBase64Encoded"]}})
    config = payload.get("generationConfig", {})
    config["responseModalities"] = ["IMAGE"]
    return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}


def image_result(call: Call, body: dict[str, Any], gemini: bool) -> ImageGenerationResponse:
    """The images of an Imagen or Gemini answer; refusals raise, with the body elided."""
    request_id = str(body.get("responseId") or f"google-image-{uuid.uuid4().hex}")
    images, blocked = _gemini_images(body) if gemini else _imagen_images(body)
    if not images:
        where: exc.ErrorContext = {
            "provider": "google",
            "model": call.config.model,
            "request_id": request_id,
            "raw_response": {"phase": "submit", "body": elide(body)},
        }
        if blocked:
            raise exc.ContentModerationError(f"google {call.config.model} refused the image: {'; '.join(blocked)}", **where)
        raise exc.GenerationFailedError(f"google {call.config.model} answered no image", **where)
    return ImageGenerationResponse(
        request_id=request_id,
        images=images,
        content_type=images[0][5:].split(";", 1)[0],
        raw_response=elide(body),
    )


def _imagen_images(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """`(data URIs, refusal reasons)` of an Imagen `:predict` answer.

    Imagen drops filtered images: `raiFilteredReason` entries (with
    `includeRaiReason`) or, without it, no predictions at all, which counts as refused.
    """
    images: list[str] = []
    blocked: list[str] = []
    for item in body.get("predictions") or []:
        if not isinstance(item, dict):
            continue
        if item.get("bytesBase64Encoded"):
            images.append(f"data:{item.get('mimeType') or 'image/png'};base64,{item['bytesBase64Encoded']}")
        elif item.get("raiFilteredReason"):
            blocked.append(str(item["raiFilteredReason"]))
    if not images and not blocked:
        blocked.append("every image was filtered (no predictions returned)")
    return images, blocked


def _gemini_images(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """`(data URIs, refusal reasons)` of a Gemini `:generateContent` answer."""
    images: list[str] = []
    blocked: list[str] = []
    feedback = body.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        blocked.append(f"prompt blocked: {feedback['blockReason']}")
    for candidate in body.get("candidates") or []:
        for part in (candidate.get("content") or {}).get("parts") or []:
            blob = part.get("inlineData") or part.get("inline_data")
            if isinstance(blob, dict) and blob.get("data"):
                mime = blob.get("mimeType") or blob.get("mime_type") or "image/png"
                images.append(f"data:{mime};base64,{blob['data']}")
        reason = str(candidate.get("finishReason") or "")
        if reason in _SAFETY_FINISH:
            blocked.append(f"finishReason {reason}")
    return images, blocked
