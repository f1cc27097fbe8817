"""xAI (`provider="xai"`): Grok Imagine images and videos over xAI's REST API.

REST, not gRPC (upstream used the gRPC `xai_sdk`; the semantics are the same).
`base_url` replaces `https://api.x.ai` (a base ending in `/v1` is accepted too).

- Images, synchronous: `POST /v1/images/generations`, or `POST /v1/images/edits`
  when `image_list` is given (`image: {url}`, or `images: [{url}, ...]`). The
  answer's `data[]` items carry `url` or `b64_json` (`extra_params={
  "response_format": "b64_json"}`); base64 becomes data URIs.
- Videos: `POST /v1/videos/generations` (or `/v1/videos/edits` when
  `request.video` is given) -> `{"request_id"}`; `GET /v1/videos/{request_id}`
  answers 202 (with or without a body) while pending, then 200 with `status`
  `done` / `failed` / `expired`. xAI has no cancel endpoint, so a timeout only
  stops polling.

Auth: `Authorization: Bearer <api_key>` (`config.api_key`, else `XAI_API_KEY`).

States: submitted -> queued; `pending` -> processing (`progress` is read if a
body carries one; xAI documents none); `done` -> completed; `failed` /
`expired` -> failed.

Errors: 429, and a `RESOURCE_EXHAUSTED` code at any status, -> `RateLimitError`
with `retry_after` (upstream mapped it to a non-retryable `HTTPError(0)`); 400/422
-> `ValidationError`, except a 400 about the API key -> `HTTPError` (xAI
answers a bad key with 400); 401/403 -> `HTTPError` (not moderation, unlike
upstream); 5xx and 529 -> `HTTPError` (falls back). Moderation (protocol
section 9) -> `ContentModerationError`: a done video with
`respect_moderation: false`, image items with `respect_moderation: false` (dropped;
an error when none is left), a block reason in the body, or an error whose code or
message speaks of moderation or content policy. Other failed or expired jobs ->
`GenerationFailedError`.

Models: `grok-imagine-video` (`duration_seconds` 1-15, `resolution` 480p/720p,
`aspect_ratio` passed through); `grok-imagine-image` (and its `-quality`/`-pro`
variants; `n` 1-10, `aspect_ratio` passed through, `extra_params.resolution`
1k/2k) and `grok-2-image`. Inputs: `first_frame` (or a lone `reference`, as
upstream) -> `image`; further `reference` images -> `reference_images`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import uuid
from typing import TYPE_CHECKING, Any

from .. import exceptions as exc
from ..call import Call
from ..flow import Flow
from ..media_io import guess_content_type, to_data_uri
from ..responses import ImageGenerationResponse, VideoGenerationResponse
from .base import HttpProvider, Job, ProviderProtocol, http_error, parse_retry_after
from .inputs import wire_url
from .mapping import Field, ModelSpec, find_spec, map_request, strict_fields

if TYPE_CHECKING:
    import httpx

__all__ = ["ADAPTER", "SPECS", "XAIProtocol"]

_VIDEO_FIELDS = (
    Field("prompt", "prompt", required=True),
    Field("duration_seconds", "duration", allowed=tuple(range(1, 16))),
    Field("resolution", "resolution", allowed=("480p", "720p")),
    Field("aspect_ratio", "aspect_ratio"),
)
_IMAGE_FIELDS = (
    Field("prompt", "prompt", required=True),
    Field("n", "n", bounds=(1, 10)),
    Field("aspect_ratio", "aspect_ratio"),
    Field("extra_params:response_format", "response_format", allowed=("url", "b64_json")),
)

VIDEO_SPECS: tuple[ModelSpec, ...] = (
    ModelSpec("grok-imagine-video", "video", (*_VIDEO_FIELDS, Field("image_list:first_frame", "image.url", convert="media_url")),
              title="POST /v1/videos/generations"),
)
VIDEO_EDIT_SPECS: tuple[ModelSpec, ...] = (
    ModelSpec("grok-imagine-video", "video", (Field("video", "video.url", required=True, convert="video_url"),
                                               *_VIDEO_FIELDS), title="POST /v1/videos/edits"),
)
IMAGE_SPECS: tuple[ModelSpec, ...] = (
    ModelSpec("grok-imagine-image", "image",
              (*_IMAGE_FIELDS, Field("extra_params:resolution", "resolution", allowed=("1k", "2k"))),
              title="POST /v1/images/generations (or /v1/images/edits with images)"),
    ModelSpec("grok-2-image", "image", _IMAGE_FIELDS, title="POST /v1/images/generations (or /v1/images/edits with images)"),
)
#: Every model's field mapping (renders the docs table).
SPECS: tuple[ModelSpec, ...] = (*VIDEO_SPECS, *VIDEO_EDIT_SPECS, *IMAGE_SPECS)

_MODERATION_WORDS = ("moderat", "content policy", "content_policy", "safety", "violat")
_BLOCK_KEYS = ("block_reason", "blockReason", "blocked_reason")


def _moderated(*texts: Any) -> bool:
    text = " ".join(str(t) for t in texts if t).lower()
    return any(word in text for word in _MODERATION_WORDS)


def _error_parts(body: Any) -> tuple[str, str]:
    """`(code, message)` from either of xAI's error shapes."""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("code") or error.get("type") or ""), str(error.get("message") or "")
    return str(body.get("code") or ""), str(error or body.get("message") or "")


def _image_type(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/png"


def _sent(response: httpx.Response) -> dict[str, Any]:
    try:
        sent = json.loads(response.request.content or b"{}")
    except (RuntimeError, ValueError):
        return {}
    return sent if isinstance(sent, dict) else {}

# request fields the xAI protocol handles itself, outside the mapping rules
_XAI_READS = ("image_list", "video", "mask_image", "number_of_videos")


class XAIProtocol(ProviderProtocol):
    """xAI's image and video REST endpoints as a sans-I/O protocol."""

    name = "xai"
    default_base_url = "https://api.x.ai"

    def base_url(self, call: Call) -> str:
        base = super().base_url(call)
        return base[: -len("/v1")] if base.endswith("/v1") else base

    def headers(self, call: Call) -> dict[str, str]:
        key = call.config.api_key or os.environ.get("XAI_API_KEY")
        return {"Authorization": f"Bearer {key}"} if key else {}

    # -- submit ------------------------------------------------------------------------
    def prepare(self, call: Call) -> Flow[tuple[str, dict[str, Any]]]:
        model, request, strict = call.config.model, call.request, strict_fields(call.config)
        if call.kind == "image":
            return self._prepare_image(model, request, strict)
        return self._prepare_video(model, request, strict)
        yield  # pragma: no cover - a flow with no effects

    def _prepare_video(self, model: str, request: Any, strict: bool) -> tuple[str, dict[str, Any]]:
        edit = request.video is not None
        specs = VIDEO_EDIT_SPECS if edit else VIDEO_SPECS
        spec = find_spec(specs, model, "video") or specs[0]
        roles = [item.get("type") for item in request.image_list]
        if edit and roles:
            raise exc.ValidationError(f"{model} video edits take no images", provider=self.name, model=model)
        if any(role not in ("first_frame", "reference") for role in roles) or roles.count("first_frame") > 1:
            raise exc.ValidationError(
                f"{model} takes one image_list entry of type 'first_frame' and 'reference' images; got types {roles}",
                provider=self.name,
                model=model,
            )
        images = list(request.image_list)
        if roles == ["reference"]:  # upstream sent a lone image of any type as the start frame
            images = [{**images[0], "type": "first_frame"}]
        if request.number_of_videos != 1:
            raise exc.ValidationError(
                f"{model} makes one video per request; number_of_videos={request.number_of_videos}",
                provider=self.name,
                model=model,
            )
        payload = map_request(
            spec, request.model_copy(update={"image_list": images}), provider=self.name, model=model,
            reads=_XAI_READS, strict=strict,
        )
        payload["model"] = model
        references = [wire_url(item["image"]) for item in images if item.get("type") == "reference"]
        if references:
            payload["reference_images"] = [{"url": url} for url in references]
        return ("/v1/videos/edits" if edit else "/v1/videos/generations"), payload

    def _prepare_image(self, model: str, request: Any, strict: bool) -> tuple[str, dict[str, Any]]:
        spec = find_spec(IMAGE_SPECS, model, "image") or IMAGE_SPECS[0]
        if request.mask_image is not None:
            raise exc.ValidationError(f"{model} does not take mask_image", provider=self.name, model=model)
        payload = map_request(
            spec, request, provider=self.name, model=model, reads=_XAI_READS, strict=strict
        )
        payload["model"] = model
        urls = [{"url": wire_url(item["image"])} for item in request.image_list]
        if len(urls) == 1:
            payload["image"] = urls[0]
        elif urls:
            payload["images"] = urls
        return ("/v1/images/edits" if urls else "/v1/images/generations"), payload

    def submit(self, call: Call, payload: tuple[str, dict[str, Any]]) -> httpx.Request:
        path, body = payload
        return self.request(call, "POST", path, json=body)

    def parse_submit(self, call: Call, response: httpx.Response) -> Job:
        body = self.json_object(call, response, "submit")
        if call.kind == "image":
            return self._images(call, response, body)
        request_id = self.job_id(call, body, "request_id", "a request_id")
        return Job(id=request_id, status="queued", data=_sent(response))

    # -- poll --------------------------------------------------------------------------
    def poll(self, call: Call, job: Job) -> httpx.Request:
        return self.request(call, "GET", f"/v1/videos/{job.id}")

    def parse_poll(self, call: Call, job: Job, response: httpx.Response) -> Job:
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        video = body.get("video")
        video = video if isinstance(video, dict) else {}
        status = str(body.get("status") or ("done" if response.status_code == 200 and video.get("url") else "pending"))
        update: dict[str, Any] = {"status": status}
        where: exc.ErrorContext = {"provider": self.name, "model": call.config.model, "request_id": job.id,
                                   "raw_response": {"phase": "job", "body": body}}
        block = next((body[key] for key in _BLOCK_KEYS if body.get(key)), None)
        if block:
            error: exc.TarashException = exc.ContentModerationError(f"xai blocked video {job.id}: {block}", **where)
            return job.evolve(status="failed", update=update, error=error)
        if status == "done":
            if video.get("respect_moderation") is False:
                error = exc.ContentModerationError(f"xai moderated the video {job.id} (respect_moderation false)", **where)
                return job.evolve(status="failed", update=update, error=error)
            if not video.get("url"):
                error = exc.GenerationFailedError(f"xai video {job.id} is done without a URL", **where)
                return job.evolve(status="failed", update=update, error=error)
            return job.evolve(status="completed", progress=100, update=update, result=self._video(call, job, body, video))
        if status in ("failed", "expired"):
            code, message = _error_parts(body)
            text = f"xai video {job.id} {status}" + (f" ({code})" if code else "") + (f": {message}" if message else "")
            cls = exc.ContentModerationError if _moderated(code, message) else exc.GenerationFailedError
            return job.evolve(status="failed", update=update, error=cls(text, **where))
        progress = body.get("progress")
        percent = None
        if isinstance(progress, int | float) and not isinstance(progress, bool):
            percent = max(0, min(int(progress * 100 if progress <= 1 else progress), 100))
            update["progress"] = progress
        return job.evolve(status="processing", progress=percent, update=update)

    def error(self, call: Call, response: httpx.Response, phase: str) -> exc.TarashException:
        error = http_error(self.name, call.config.model, response, phase)
        code, message = _error_parts((error.raw_response or {}).get("body"))
        where: exc.ErrorContext = {"provider": self.name, "model": call.config.model, "raw_response": error.raw_response}
        status = response.status_code
        text = f"{code} {message}".lower()
        if status != 429 and ("resource_exhausted" in text or "resource has been exhausted" in text):
            return exc.RateLimitError(error.message, status_code=429, retry_after=parse_retry_after(response), **where)
        if status in (400, 403, 422) and _moderated(code, message):
            return exc.ContentModerationError(error.message, **where)
        if status == 400 and "api key" in text:
            return exc.HTTPError(error.message, status_code=status, **where)
        return error

    # -- results -----------------------------------------------------------------------
    def _video(self, call: Call, job: Job, body: dict[str, Any], video: dict[str, Any]) -> VideoGenerationResponse:
        sent = job.data if isinstance(job.data, dict) else {}
        duration = video.get("duration", sent.get("duration"))
        return VideoGenerationResponse(
            request_id=job.id,
            video=str(video["url"]),
            content_type="video/mp4",
            duration=float(duration) if isinstance(duration, int | float) and duration else None,
            resolution=sent.get("resolution"),
            aspect_ratio=sent.get("aspect_ratio"),
            raw_response=body,
        )

    def _images(self, call: Call, response: httpx.Response, body: Any) -> Job:
        body = body if isinstance(body, dict) else {}
        request_id = (response.headers.get("x-request-id") or body.get("id") or body.get("request_id")
                      or f"xai-image-{uuid.uuid4().hex}")
        items = [item for item in body.get("data") or [] if isinstance(item, dict)]
        where: exc.ErrorSource = {"provider": self.name, "model": call.config.model, "request_id": request_id}
        kept = [item for item in items if item.get("respect_moderation") is not False]
        if items and not kept:
            error: exc.TarashException = exc.ContentModerationError(
                "xai moderated every image (respect_moderation false)", raw_response={"phase": "result", "body": body},
                **where,
            )
            return Job(id=request_id, status="failed", error=error)
        images: list[str] = []
        content_type = None
        for item in kept:
            if item.get("url"):
                images.append(str(item["url"]))
                content_type = content_type or guess_content_type(str(item["url"]), "image/jpeg")
            elif item.get("b64_json"):
                try:
                    data = base64.b64decode(item["b64_json"], validate=True)
                except (binascii.Error, ValueError):
                    continue
                content_type = content_type or _image_type(data)
                images.append(to_data_uri(data, _image_type(data)))
        if not images:
            error = exc.GenerationFailedError(
                "xai answered without images", raw_response={"phase": "result", "body": body}, **where
            )
            return Job(id=request_id, status="failed", error=error)
        raw = {**body, "data": [{k: (f"<{len(v)} base64 chars>" if k == "b64_json" else v) for k, v in item.items()}
                                for item in items]}
        result = ImageGenerationResponse(
            request_id=request_id,
            images=images,
            content_type=content_type or "image/jpeg",
            revised_prompt=kept[0].get("revised_prompt") if kept else None,
            raw_response=raw,
        )
        return Job(id=request_id, status="completed", result=result)


ADAPTER = HttpProvider(XAIProtocol())
