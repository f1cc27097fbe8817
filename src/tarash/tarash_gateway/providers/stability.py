"""Stability AI (`provider="stability"`): synchronous image generation (v2beta).

Endpoints (`base_url` replaces `https://api.stability.ai`), one per model family:

- `POST /v2beta/stable-image/generate/sd3` for `sd3.5-large`, `sd3.5-large-turbo`,
  `sd3.5-medium` (and any other `sd3*` name, sent as `model` as given);
- `POST /v2beta/stable-image/generate/ultra` for `stable-image-ultra`;
- `POST /v2beta/stable-image/generate/core` for `stable-image-core` and
  `stable-image` (upstream's prefix entry).

An unknown model is refused before any network call (upstream silently generated
with sd3.5-large instead).

Requests are `multipart/form-data` (mandatory, even with no file: upstream sent
url-encoded forms). `Accept: application/json` asks for `{"image": <base64>,
"finish_reason", "seed"}`; a raw-bytes answer (`image/*`) is accepted too.

Auth: `Authorization: Bearer <api_key>` (`config.api_key`, else the
`STABILITY_API_KEY` environment variable).

There is no job and no polling: `parse_submit` returns a finished job, so the one
progress event is `completed`. `request_id` is Stability's `x-request-id` (or
the body's `id`; a `stability-<uuid>` only when the answer carries neither).
Images come back as data URIs; `raw_response` holds the JSON answer without the
base64 image (its length is kept), so it stays small and JSON-safe.

Errors: `finish_reason: CONTENT_FILTERED` (a 200 with a blurred image) and 403
`content_moderation` -> `ContentModerationError`; 400/413/422 ->
`ValidationError`; 401, 402 and other 403s -> `HTTPError`; 429 ->
`RateLimitError`; 5xx -> `HTTPError` (falls back).

Fields: `prompt`, `negative_prompt`, `aspect_ratio` (`1:1 16:9 21:9 2:3 3:2 4:5
5:4 9:16 9:21`), `seed` (0-4294967294), `n` (1 only); via `extra_params`:
`output_format`, `cfg_scale` (1-35, sd3), `steps` (1-50, sd3; [U] whether v2beta
honours it), `strength` (0-1, needed with an input image), `style_preset` (core)
and anything else, passed through. The first `image_list` entry (any role) is sent
as the `image` file for image-to-image (sd3: `mode=image-to-image`; ultra).
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
from ..media_io import to_data_uri
from ..models import ImageGenerationRequest
from ..responses import ImageGenerationResponse
from .base import HttpProvider, Job, ProviderProtocol, http_error
from .inputs import wire_bytes
from .mapping import Field, ModelSpec, find_spec, map_request, strict_fields

if TYPE_CHECKING:
    import httpx

__all__ = ["ADAPTER", "SPECS", "StabilityProtocol"]

ASPECT_RATIOS = ("1:1", "16:9", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
SEED_RANGE = (0, 4294967294)

_COMMON = (
    Field("prompt", "prompt", required=True),
    Field("negative_prompt", "negative_prompt"),
    Field("aspect_ratio", "aspect_ratio", allowed=ASPECT_RATIOS),
    Field("seed", "seed", bounds=SEED_RANGE),
    Field("n", "", allowed=(1,)),  # one image per request
    Field("extra_params:strength", "strength", bounds=(0, 1)),
)
_SD3 = (
    *_COMMON,
    Field("extra_params:output_format", "output_format", allowed=("png", "jpeg")),
    Field("extra_params:cfg_scale", "cfg_scale", bounds=(1, 35)),
    Field("extra_params:steps", "steps", bounds=(1, 50)),
)
_STABLE_IMAGE = (*_COMMON, Field("extra_params:output_format", "output_format", allowed=("png", "jpeg", "webp")))


def _spec(model: str, endpoint: str, fields: tuple[Field, ...]) -> ModelSpec:
    note = " (sends `model` = the configured name)" if endpoint == "sd3" else ""
    return ModelSpec(model, "image", fields, title=f"POST /v2beta/stable-image/generate/{endpoint}{note}")


#: Every model's field mapping (renders the docs table).
SPECS: tuple[ModelSpec, ...] = (
    _spec("sd3.5-large", "sd3", _SD3),
    _spec("sd3.5-large-turbo", "sd3", _SD3),
    _spec("sd3.5-medium", "sd3", _SD3),
    _spec("sd3", "sd3", _SD3),  # any other sd3* model
    _spec("stable-image-ultra", "ultra", _STABLE_IMAGE),
    _spec("stable-image-core", "core", _STABLE_IMAGE),
    _spec("stable-image", "core", _STABLE_IMAGE),
)
_IMAGE_TO_IMAGE = ("sd3", "ultra")


def _endpoint(spec: ModelSpec) -> str:
    return spec.title.split()[1].rsplit("/", 1)[1]


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class StabilityProtocol(ProviderProtocol):
    """Stability's stable-image generate endpoints as a sans-I/O protocol."""

    name = "stability"
    default_base_url = "https://api.stability.ai"
    kinds = ("image",)

    def headers(self, call: Call) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        key = call.config.api_key or os.environ.get("STABILITY_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def prepare(self, call: Call) -> Flow[tuple[str, list[tuple[str, Any]]]]:
        model, request = call.config.model, call.request
        assert isinstance(request, ImageGenerationRequest)  # stability's kinds are ("image",)
        spec = find_spec(SPECS, model, "image")
        if spec is None:
            known = ", ".join(s.model for s in SPECS)
            raise exc.ValidationError(f"unknown stability model {model!r}; known: {known}", provider=self.name, model=model)
        if request.mask_image is not None:
            raise exc.ValidationError(f"{model} does not take mask_image", provider=self.name, model=model)
        endpoint = _endpoint(spec)
        payload = map_request(
            spec, request, provider=self.name, model=model, reads=("image_list", "mask_image"),
            strict=strict_fields(call.config),
        )
        if endpoint == "sd3":
            payload["model"] = model  # as named: sd3.5-large, sd3.5-large-turbo, sd3.5-medium, ...
        parts: list[tuple[str, Any]] = []
        if request.image_list:
            if endpoint not in _IMAGE_TO_IMAGE or len(request.image_list) > 1:
                raise exc.ValidationError(
                    f"{model} takes at most one input image (image-to-image on sd3 and ultra only)",
                    provider=self.name,
                    model=model,
                )
            if "strength" not in payload:
                raise exc.ValidationError(
                    f"{model} image-to-image needs extra_params strength (0..1)", provider=self.name, model=model
                )
            data, content_type = yield from wire_bytes(request.image_list[0]["image"])
            parts.append(("image", (f"image.{content_type.rsplit('/', 1)[-1]}", data, content_type)))
            if endpoint == "sd3":
                payload["mode"] = "image-to-image"
            payload.pop("aspect_ratio", None)  # image-to-image keeps the input's shape
        fields = [(key, (None, _form_value(value))) for key, value in payload.items() if value is not None]
        return endpoint, fields + parts

    def submit(self, call: Call, payload: tuple[str, list[tuple[str, Any]]]) -> httpx.Request:
        endpoint, files = payload
        return self.request(call, "POST", f"/v2beta/stable-image/generate/{endpoint}", files=files)

    def parse_submit(self, call: Call, response: httpx.Response) -> Job:
        content_type = response.headers.get("content-type", "")
        body: dict[str, Any] = {}
        if content_type.startswith("image/"):
            data, image_type = response.content, content_type.split(";", 1)[0]
        else:
            body = self.json_object(call, response, "submit")
            encoded = body.get("image") or ((body.get("artifacts") or [{}])[0]).get("base64")
            try:
                data = base64.b64decode(encoded or "", validate=True)
            except (binascii.Error, ValueError):
                data = b""
            image_type = _json_image_type(content_type, data)
        request_id = response.headers.get("x-request-id") or body.get("id") or f"stability-{uuid.uuid4().hex}"
        finish = body.get("finish_reason") or response.headers.get("finish-reason") or "SUCCESS"
        seed = body.get("seed", response.headers.get("seed"))
        raw = {k: v for k, v in body.items() if k not in ("image", "artifacts")}
        raw.update(finish_reason=finish, seed=seed, content_type=image_type, image_bytes=len(data))
        where: exc.ErrorSource = {"provider": self.name, "model": call.config.model, "request_id": request_id}
        if str(finish).upper() == "CONTENT_FILTERED":
            error: exc.TarashException = exc.ContentModerationError(
                "stability filtered the image (finish_reason CONTENT_FILTERED)",
                raw_response={"phase": "result", "body": raw},
                **where,
            )
            return Job(id=request_id, status="failed", update={"finish_reason": finish}, error=error)
        if not data:
            error = exc.GenerationFailedError(
                "stability answered without an image", raw_response={"phase": "result", "body": raw}, **where
            )
            return Job(id=request_id, status="failed", update={"finish_reason": finish}, error=error)
        result = ImageGenerationResponse(
            request_id=request_id,
            images=[to_data_uri(data, image_type)],
            content_type=image_type,
            raw_response=raw,
        )
        return Job(id=request_id, status="completed", update={"finish_reason": finish}, result=result)

    def error(self, call: Call, response: httpx.Response, phase: str) -> exc.TarashException:
        error = http_error(self.name, call.config.model, response, phase)
        body = (error.raw_response or {}).get("body")
        name = str(body.get("name", "")) if isinstance(body, dict) else ""
        where: exc.ErrorContext = {"provider": self.name, "model": call.config.model, "raw_response": error.raw_response}
        if response.status_code == 403 and "moderation" in name:
            return exc.ContentModerationError(error.message, **where)
        if response.status_code == 413:
            return exc.ValidationError(error.message, **where)
        return error


def _json_image_type(content_type: str, data: bytes) -> str:
    """`application/json; type=image/png` -> `image/png`; else told by the bytes."""
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key == "type" and value.startswith("image/"):
            return value
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/png"


ADAPTER = HttpProvider(StabilityProtocol())
