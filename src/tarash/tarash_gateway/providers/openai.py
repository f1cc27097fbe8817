"""OpenAI (`provider="openai"`) and Azure OpenAI (`provider="azure_openai"`).

One protocol, two hosts. Endpoints are relative to `base_url`, which replaces
`https://api.openai.com/v1` (Azure: `https://{resource}.openai.azure.com/openai/v1`):

- Images (synchronous): `POST /images/generations` (JSON), or `POST /images/edits`
  (multipart, `image` / repeated `image[]` file parts and `mask`) when the request
  carries input images. GPT image models answer `data[].b64_json` only; it becomes a
  `data:` URI in `images`. dall-e models answer `data[].url` unless asked for
  `response_format="b64_json"` (`extra_params`); both are handled.
- Videos (Sora): `POST /videos` (always multipart: `prompt`, `model`,
  `seconds`, `size`, an `input_reference` image file) -> a `video_...` object;
  `POST /videos/{id}/remix` (JSON `{"prompt"}`) when `extra_params["video_id"]`
  names a finished video, as upstream. Poll `GET /videos/{id}`; the result is the
  MP4 bytes of `GET /videos/{id}/content`, returned as
  `{"content": bytes, "content_type": "video/mp4"}`. On timeout the job is cancelled
  with `DELETE /videos/{id}`: there is no documented cancel endpoint, deleting is the
  only way to drop a job [U], best effort.

Auth: `Authorization: Bearer <key>` (`config.api_key`, else `OPENAI_API_KEY`);
`provider_config` `organization` / `project` become `OpenAI-Organization` /
`OpenAI-Project`. Azure: `api-key: <key>` (`config.api_key`, else
`AZURE_OPENAI_API_KEY`), or `Authorization: Bearer` with
`provider_config["azure_ad_token"]`; `base_url` is required (a bare resource URL
gets `/openai/v1` appended); `config.api_version`, when set, is sent as the
`api-version` query parameter on every request (the v1 API does not need one).
On Azure `model` is the deployment name: when it is not a known model id, the
mapping of `provider_config["base_model"]` is used, else `sora-2` for videos and
`gpt-image-1` for images. On OpenAI, `base_model` likewise maps an unknown id.

States: `queued` -> queued, `in_progress` -> processing (`progress` 0-100 is
`progress_percent`), `completed`, `failed` (with `error{code, message}`).
Unknown statuses count as processing; `cancelled`/`expired` end as failed. The wait
between polls is `max(poll_interval, openai-poll-after-ms)`: the server's hint can
slow polling down, never speed it up past the configured interval.

Errors: 400 with `code` `moderation_blocked` / `content_policy_violation` /
`content_filter` (Azure) -> `ContentModerationError`; other 400/422 ->
`ValidationError`; 401/403 -> `HTTPError`; 429 (`rate_limit_exceeded`
or `insufficient_quota`) -> `RateLimitError` with `retry_after` from
`retry-after-ms` / `Retry-After`; 5xx -> `HTTPError` (falls back). A
`failed` video whose error code or message says moderation ->
`ContentModerationError`, else `GenerationFailedError`.

Models: images `gpt-image-1` (and `-mini`), `gpt-image-1.5`, `gpt-image-2`,
`chatgpt-image-latest`, `dall-e-3`, `dall-e-2`; videos `sora-2`,
`sora-2-pro` (and dated variants). `aspect_ratio` picks the `size`: Sora
`16:9` -> `1280x720`, `9:16` -> `720x1280` (only `720p`; the pro sizes
`1792x1024`/`1024x1792` go through `extra_params={"size": ...}`); GPT image
`1:1`/`3:2`/`2:3`; dall-e-3 `1:1`, `16:9` -> `1792x1024`, `9:16` ->
`1024x1792`; an explicit `size` wins. Fields a model has no equivalent for (`seed`,
`negative_prompt`, ...) are not sent, as upstream; values a model cannot take are
refused before any network call. `extra_params` go on the wire as given
(`background`, `output_format`, `moderation`, `input_fidelity`, `size` ...).
`raw_response` is the provider's JSON with base64 image payloads elided (the images
themselves are in `images`).
"""

# One module for both names: the registry (providers/__init__.py) fixes the module name,
# and Azure is a thin subclass. It runs past 400 lines because it holds two APIs (images
# and videos); the sections below (mapping, prepare, submit, poll, result, errors) keep
# each part short.

from __future__ import annotations

import math
import os
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import exceptions as exc
from ..call import Call
from ..flow import Flow
from ..media import StatusType
from ..responses import ImageGenerationResponse, VideoGenerationResponse
from .base import HttpProvider, Job, ProviderProtocol, http_error
from .inputs import wire_bytes
from .mapping import Field, ModelSpec, find_spec, map_request, strict_fields

if TYPE_CHECKING:
    import httpx

__all__ = ["ADAPTER", "AZURE_ADAPTER", "AzureOpenAIProtocol", "OpenAIProtocol", "SPECS"]

# -- field mapping ---------------------------------------------------------------------

_SORA = (
    Field("prompt", "prompt", required=True),
    Field("duration_seconds", "seconds", allowed=(4, 8, 12), convert="str"),
    Field("aspect_ratio", "size", allowed=("16:9", "9:16"), convert={"16:9": "1280x720", "9:16": "720x1280"}),
    Field("resolution", "", allowed=("720p",)),
    Field("number_of_videos", "", allowed=(1,)),
    Field("image_list:reference", "input_reference"),
    Field("image_list:first_frame", "input_reference"),
)
_GPT_IMAGE = (
    Field("prompt", "prompt", required=True),
    Field("aspect_ratio", "size", allowed=("1:1", "3:2", "2:3"),
          convert={"1:1": "1024x1024", "3:2": "1536x1024", "2:3": "1024x1536"}),
    Field("size", "size", allowed=("auto", "1024x1024", "1536x1024", "1024x1536")),
    Field("quality", "quality", allowed=("low", "medium", "high", "auto")),
    Field("n", "n", bounds=(1, 10)),
    Field("image_list:*", "image"),
    Field("mask_image", "mask"),
)
_DALLE3 = (
    Field("prompt", "prompt", required=True),
    Field("aspect_ratio", "size", allowed=("1:1", "16:9", "9:16"),
          convert={"1:1": "1024x1024", "16:9": "1792x1024", "9:16": "1024x1792"}),
    Field("size", "size", allowed=("1024x1024", "1792x1024", "1024x1792")),
    Field("quality", "quality", allowed=("standard", "hd")),
    Field("style", "style", allowed=("vivid", "natural")),
    Field("n", "n", allowed=(1,)),
)
_DALLE2 = (
    Field("prompt", "prompt", required=True),
    Field("aspect_ratio", "size", allowed=("1:1",), convert={"1:1": "1024x1024"}),
    Field("size", "size", allowed=("256x256", "512x512", "1024x1024")),
    Field("n", "n", bounds=(1, 10)),
    Field("image_list:*", "image"),
    Field("mask_image", "mask"),
)

_GPT_TITLE = "b64_json only; input images -> POST /images/edits"
#: Every model's field mapping (renders the docs table).
SPECS: tuple[ModelSpec, ...] = (
    ModelSpec("sora-2", "video", _SORA, title="POST /videos (multipart)"),
    ModelSpec("sora-2-pro", "video", _SORA, title="POST /videos (multipart); larger sizes via extra_params size"),
    ModelSpec("gpt-image-1", "image", _GPT_IMAGE, title=f"also gpt-image-1-mini; {_GPT_TITLE}"),
    ModelSpec("gpt-image-1.5", "image", _GPT_IMAGE, title=_GPT_TITLE),
    ModelSpec("gpt-image-2", "image", _GPT_IMAGE, title=_GPT_TITLE),
    ModelSpec("chatgpt-image-latest", "image", _GPT_IMAGE, title=_GPT_TITLE),
    ModelSpec("dall-e-3", "image", _DALLE3, title="generations only; url (or b64_json) answers"),
    ModelSpec("dall-e-2", "image", _DALLE2, title="one input image -> POST /images/edits"),
)
_DEFAULT_SPEC = {"video": "sora-2", "image": "gpt-image-1"}

_STATES: dict[str, StatusType] = {
    "queued": "queued",
    "pending": "queued",
    "in_progress": "processing",
    "processing": "processing",
    "completed": "completed",
    "succeeded": "completed",
    "failed": "failed",
    "cancelled": "failed",
    "canceled": "failed",
    "expired": "failed",
}
_MODERATION_CODES = frozenset(
    {"moderation_blocked", "content_policy_violation", "content_filter", "responsibleaipolicyviolation"}
)
_MODERATION_WORDS = ("moderation", "safety system", "content policy", "content filter")
_IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}


def _is_moderation(error: Any) -> bool:
    """Whether an OpenAI/Azure `error` object describes a safety refusal."""
    if not isinstance(error, dict):
        return False
    inner = error.get("innererror")
    inner = inner if isinstance(inner, dict) else {}
    codes = {str(error.get("code") or "").lower(), str(inner.get("code") or "").lower()}
    if codes & _MODERATION_CODES:
        return True
    if error.get("param") or codes - {""}:
        return False  # a complaint about one parameter, or another known code: not a refusal
    message = str(error.get("message") or "").lower()
    return any(word in message for word in _MODERATION_WORDS)


def _elide_b64(body: Any) -> Any:
    """`body` with `b64_json` payloads replaced by a note of their length."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return body
    data = []
    for item in body["data"]:
        if isinstance(item, dict) and isinstance(item.get("b64_json"), str):
            item = {**item, "b64_json": f"<{len(item['b64_json'])} base64 chars, in images>"}
        data.append(item)
    return {**body, "data": data}


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _shape(size: Any) -> tuple[str | None, str | None]:
    """`(resolution, aspect_ratio)` of a `"WxH"` size: `1280x720` -> `720p`, `16:9`."""
    try:
        width, height = (int(x) for x in str(size).lower().split("x"))
    except ValueError:
        return None, None
    if width <= 0 or height <= 0:
        return None, None
    short = min(width, height)
    resolution = f"{short}p" if short in (480, 720, 1080) else f"{width}x{height}"
    divisor = math.gcd(width, height)
    return resolution, f"{width // divisor}:{height // divisor}"


class OpenAIProtocol(ProviderProtocol):
    """OpenAI's Images and Videos APIs as a sans-I/O protocol."""

    name = "openai"
    default_base_url = "https://api.openai.com/v1"
    key_env = "OPENAI_API_KEY"

    # -- building blocks ---------------------------------------------------------------
    def api_key(self, call: Call) -> str | None:
        return call.config.api_key or os.environ.get(self.key_env)

    def headers(self, call: Call) -> dict[str, str]:
        headers: dict[str, str] = {}
        key = self.api_key(call)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        extra = call.config.provider_config
        if extra.get("organization"):
            headers["OpenAI-Organization"] = str(extra["organization"])
        if extra.get("project"):
            headers["OpenAI-Project"] = str(extra["project"])
        return headers

    def check_auth(self, call: Call) -> None:
        if not self.api_key(call):
            raise exc.ValidationError(
                f"{self.name} needs an API key: set config.api_key or {self.key_env}",
                provider=self.name,
                model=call.config.model,
            )

    def spec(self, call: Call) -> ModelSpec:
        model, kind = call.config.model, call.kind
        spec = find_spec(SPECS, model, kind)
        base_model = call.config.provider_config.get("base_model")
        if spec is None and base_model:
            spec = find_spec(SPECS, str(base_model), kind)
        if spec is None:
            spec = self.unknown_model(call)
        return spec

    def unknown_model(self, call: Call) -> ModelSpec:
        known = ", ".join(s.model for s in SPECS if s.kind == call.kind)
        raise exc.ValidationError(
            f"{self.name} has no {call.kind} model {call.config.model!r}; known: {known} "
            "(for a new id, provider_config={'base_model': <known id>} borrows that model's mapping)",
            provider=self.name,
            model=call.config.model,
        )

    def _invalid(self, call: Call, message: str) -> exc.ValidationError:
        return exc.ValidationError(f"{call.config.model}: {message}", provider=self.name, model=call.config.model)

    # -- prepare -----------------------------------------------------------------------
    def prepare(self, call: Call) -> Flow[dict[str, Any]]:
        self.check_auth(call)
        spec = self.spec(call)
        takes_images = any(f.source.startswith("image_list") for f in spec.fields)
        if call.request.image_list and not takes_images:
            raise self._invalid(call, "takes no input images (edits: gpt-image-* or dall-e-2)")
        payload = map_request(
            spec, call.request, provider=self.name, model=call.config.model, reads=("image_list",),
            strict=strict_fields(call.config),
        )
        payload["model"] = call.config.model
        if call.kind == "image":
            return (yield from self._prepare_image(call, spec, payload))
        return (yield from self._prepare_video(call, payload))

    def _prepare_image(self, call: Call, spec: ModelSpec, payload: dict[str, Any]) -> Flow[dict[str, Any]]:
        images = payload.pop("image", None)
        mask = payload.pop("mask", None)
        if not images:
            if mask is not None:
                raise self._invalid(call, "mask_image needs an input image in image_list")
            return {"path": "images/generations", "json": payload}
        if spec.model == "dall-e-2" and len(images) > 1:
            raise self._invalid(call, f"edits take one input image; got {len(images)}")
        name = "image[]" if len(images) > 1 else "image"
        files: list[tuple[str, Any]] = []
        for index, media in enumerate(images):
            data, content_type = yield from wire_bytes(media)
            files.append((name, (f"image{index}.{content_type.split('/')[-1]}", data, content_type)))
        if mask is not None:
            data, content_type = yield from wire_bytes(mask)
            files.append(("mask", (f"mask.{content_type.split('/')[-1]}", data, content_type)))
        return {"path": "images/edits", "form": payload, "files": files}

    def _prepare_video(self, call: Call, payload: dict[str, Any]) -> Flow[dict[str, Any]]:
        remix = payload.pop("video_id", None)
        if remix:
            return {"path": f"videos/{remix}/remix", "json": {"prompt": payload["prompt"]}}
        images = call.request.image_list
        if len(images) > 1 or any(item.get("type") not in ("first_frame", "reference") for item in images):
            roles = [item.get("type") for item in images]
            raise self._invalid(call, f"takes one image_list entry of type first_frame or reference; got {roles}")
        files: list[tuple[str, Any]] = []
        reference = payload.pop("input_reference", None)
        if reference is not None:
            data, content_type = yield from wire_bytes(reference)
            files.append(("input_reference", (f"reference.{content_type.split('/')[-1]}", data, content_type)))
        return {"path": "videos", "form": payload, "files": files}

    # -- submit ------------------------------------------------------------------------
    def submit(self, call: Call, payload: dict[str, Any]) -> httpx.Request:
        if "json" in payload:
            return self.request(call, "POST", payload["path"], json=payload["json"])
        # Multipart even without a file (the SDK always sends these endpoints multipart).
        parts = [(key, (None, _form_value(value))) for key, value in payload["form"].items() if value is not None]
        request = self.request(call, "POST", payload["path"], files=[*parts, *payload["files"]])
        request.read()  # a plain body: replayable, and the same on both faces
        return request

    def parse_submit(self, call: Call, response: httpx.Response) -> Job:
        body = self.json_object(call, response, "submit")
        if call.kind == "image":
            result = self._image_result(call, response, body)
            return Job(id=result.request_id, status="completed", data=body, result=result)
        return self._video_job(call, body, None)

    # -- poll --------------------------------------------------------------------------
    def poll(self, call: Call, job: Job) -> httpx.Request:
        return self.request(call, "GET", f"videos/{job.id}")

    def parse_poll(self, call: Call, job: Job, response: httpx.Response) -> Job:
        return self._video_job(call, self.json_object(call, response, "poll"), job)

    def poll_delay(self, call: Call, job: Job, response: httpx.Response | None) -> float:
        interval = call.config.poll_interval
        hint = response.headers.get("openai-poll-after-ms") if response is not None else None
        try:
            return max(interval, float(hint) / 1000) if hint else interval
        except ValueError:
            return interval

    def cancel(self, call: Call, job: Job) -> httpx.Request:
        return self.request(call, "DELETE", f"videos/{job.id}")

    # -- result ------------------------------------------------------------------------
    def fetch_result(self, call: Call, job: Job) -> httpx.Request | None:
        if call.kind == "image":
            return None
        return self.request(call, "GET", f"videos/{job.id}/content", headers={"Accept": "application/binary"})

    def parse_result(self, call: Call, job: Job, response: httpx.Response | None) -> Any:
        if response is None:
            return super().parse_result(call, job, response)
        video = job.data if isinstance(job.data, dict) else {}
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        if not content_type.startswith("video/"):
            content_type = "video/mp4"  # the API answers application/binary-ish types for MP4
        if not response.content:
            raise exc.GenerationFailedError(
                f"{self.name} video {job.id} has no content",
                provider=self.name,
                model=call.config.model,
                request_id=job.id,
                raw_response={"phase": "result", "body": video},
            )
        resolution, aspect = _shape(video.get("size"))
        seconds = video.get("seconds")
        try:
            duration = float(seconds) if seconds is not None else None
        except (TypeError, ValueError):
            duration = None
        return VideoGenerationResponse(
            request_id=job.id,
            video={"content": response.content, "content_type": content_type},
            content_type=content_type,
            duration=duration,
            resolution=resolution,
            aspect_ratio=aspect,
            raw_response=video,
        )

    # -- errors ------------------------------------------------------------------------
    def error(self, call: Call, response: httpx.Response, phase: str) -> exc.TarashException:
        mapped = http_error(self.name, call.config.model, response, phase)
        body = (mapped.raw_response or {}).get("body")
        detail = body.get("error") if isinstance(body, dict) else None
        if response.status_code in (400, 403, 422) and _is_moderation(detail):
            return exc.ContentModerationError(
                mapped.message, provider=self.name, model=call.config.model, raw_response=mapped.raw_response
            )
        return mapped

    # -- helpers -----------------------------------------------------------------------

    def _video_job(self, call: Call, body: dict[str, Any], previous: Job | None) -> Job:
        video_id = str(body.get("id") or (previous.id if previous else ""))
        if not video_id:
            raise exc.GenerationFailedError(
                f"{self.name} answered a video without an id",
                provider=self.name,
                model=call.config.model,
                raw_response={"phase": "submit", "body": body},
            )
        raw = str(body.get("status") or "queued").lower()
        status = _STATES.get(raw, "processing")
        value: Any = body.get("progress")  # JSON: int(value) only when `numeric`
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        progress = 100 if status == "completed" else max(0, min(int(value), 100)) if numeric else None
        update: dict[str, Any] = {"status": raw}
        if numeric:
            update["progress"] = value
        error = self._job_error(call, video_id, raw, body) if status == "failed" else None
        return Job(id=video_id, status=status, progress=progress, update=update, data=body, error=error)

    def _job_error(self, call: Call, video_id: str, raw: str, body: dict[str, Any]) -> exc.TarashException:
        detail = body.get("error")
        detail = detail if isinstance(detail, dict) else {}
        code = detail.get("code")
        reason = detail.get("message") or f"status {raw}"
        message = f"{self.name} video {video_id} failed" + (f" ({code})" if code else "") + f": {reason}"
        where: exc.ErrorContext = {
            "provider": self.name,
            "model": call.config.model,
            "request_id": video_id,
            "raw_response": {"phase": "job", "body": body},
        }
        if _is_moderation(detail):
            return exc.ContentModerationError(message, **where)
        return exc.GenerationFailedError(message, **where)

    def _image_result(self, call: Call, response: httpx.Response, body: dict[str, Any]) -> ImageGenerationResponse:
        request_id = response.headers.get("x-request-id") or f"{self.name}-image-{uuid.uuid4().hex}"
        sent = call.request.extra_params.get("output_format")
        content_type = _IMAGE_TYPES.get(str(body.get("output_format") or sent or "png").lower(), "image/png")
        images: list[str] = []
        revised: str | None = None
        for item in body.get("data") or []:
            if not isinstance(item, dict):
                continue
            if item.get("b64_json"):
                images.append(f"data:{content_type};base64,{item['b64_json']}")
            elif item.get("url"):
                images.append(str(item["url"]))
            revised = revised or item.get("revised_prompt")
        if not images:
            raise exc.GenerationFailedError(
                f"{self.name} answered no images",
                provider=self.name,
                model=call.config.model,
                request_id=request_id,
                raw_response={"phase": "submit", "body": _elide_b64(body)},
            )
        return ImageGenerationResponse(
            request_id=request_id,
            images=images,
            content_type=content_type,
            revised_prompt=revised,
            raw_response=_elide_b64(body),
        )


class AzureOpenAIProtocol(OpenAIProtocol):
    """Azure OpenAI's v1 API: OpenAI's protocol with Azure's host, auth and `api-version`."""

    name = "azure_openai"
    default_base_url = ""
    key_env = "AZURE_OPENAI_API_KEY"

    def base_url(self, call: Call) -> str:
        url = (call.config.base_url or "").rstrip("/")
        if not url:
            raise exc.ValidationError(
                "azure_openai needs config.base_url, e.g. https://<resource>.openai.azure.com/openai/v1",
                provider=self.name,
                model=call.config.model,
            )
        if urlsplit(url).path in ("", "/"):  # a bare resource endpoint, as the Azure portal shows it
            url += "/openai/v1"
        return url

    def headers(self, call: Call) -> dict[str, str]:
        token = call.config.provider_config.get("azure_ad_token")
        if token:
            return {"Authorization": f"Bearer {token}"}
        key = self.api_key(call)
        return {"api-key": key} if key else {}

    def check_auth(self, call: Call) -> None:
        self.base_url(call)
        if not call.config.provider_config.get("azure_ad_token"):
            if not self.api_key(call):
                raise exc.ValidationError(
                    f"azure_openai needs an API key (config.api_key or {self.key_env}) "
                    "or provider_config['azure_ad_token']",
                    provider=self.name,
                    model=call.config.model,
                )

    def unknown_model(self, call: Call) -> ModelSpec:
        # A deployment name: use the default mapping of the kind.
        spec = find_spec(SPECS, _DEFAULT_SPEC[call.kind], call.kind)
        assert spec is not None
        return spec

    def request(self, call: Call, method: str, url: str, **kwargs: Any) -> httpx.Request:
        if call.config.api_version:
            kwargs["params"] = {**kwargs.get("params", {}), "api-version": call.config.api_version}
        return super().request(call, method, url, **kwargs)


ADAPTER = HttpProvider(OpenAIProtocol())
AZURE_ADAPTER = HttpProvider(AzureOpenAIProtocol())
