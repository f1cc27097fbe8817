"""fal.ai over its queue API (httpx only, no fal-client).

Endpoints (`config.base_url` replaces the queue host `https://queue.fal.run`):

- submit: `POST {base}/{model_id}` with the model input as the JSON body (no wrapper);
  the answer holds `request_id` and absolute `status_url`/`response_url`/`cancel_url`,
  which are used verbatim (fal's docs say not to build them; they use `owner/app` only).
  Only when an answer lacks them are they built from `{base}/{owner}/{app}/requests/{id}`.
- poll: `GET {status_url}?logs=1`; 202 while running, 200 when done (any 2xx accepted).
- result: `GET {response_url}`, only after `COMPLETED`.
- cancel: `PUT {cancel_url}` (on timeout; best effort).

Auth: `Authorization: Key <key>` from `config.api_key`, else the `FAL_KEY` variable.
A call with neither is refused before any network request.

States: `IN_QUEUE` -> queued (`update["queue_position"]`), `IN_PROGRESS` ->
processing (`update["logs"]`: the log messages), `COMPLETED` -> completed, or failed
when it carries `error`. fal gives no percentage, so `progress_percent` stays `None`
until completion. `FAILED`/`CANCELED`-like strings, seen in third-party schemas, are
read as failed; any other unknown status as still processing.

Errors (HTTP answers go through `http_error` first):

- 422 (or 400) whose body says `content_policy_violation` -> ContentModerationError,
  at submit or when fetching the result;
- `COMPLETED` with `error`: `error_type`/message `content_policy_violation` ->
  ContentModerationError; anything else (`runner_disconnected`, ...) ->
  GenerationFailedError (falls back);
- an image result whose `has_nsfw_concepts` flags every image -> ContentModerationError
  (fal returns blacked-out images then);
- 400/422 -> ValidationError, 401/403 -> HTTPError, 429 -> RateLimitError (fal sends no
  `Retry-After` that we know of; it is read if present), 5xx -> HTTPError.

Models: field mapping per family, as data in `SPECS` (rendered in the docs):
MiniMax/Hailuo, Kling O1, v2.6, v3 and O3, Veo 3 and 3.1, Sora 2, Wan v2.6, 2.5
preview, v2.2-14b animate and v2.2-a14b, ByteDance Seedance, PixVerse v5/v5.5/swap;
images: FLUX, FLUX.2, Z-Image-Turbo, Recraft, Ideogram; any other model gets the
generic spec. `extra_params` are merged into the body as is.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .. import exceptions as exc
from ..call import Call
from ..flow import Flow
from ..responses import ImageGenerationResponse, VideoGenerationResponse
from .base import HttpProvider, Job, ProviderProtocol, http_error, json_or_empty
from .inputs import inline_local_files
from .mapping import Field, ModelSpec, find_spec, map_request, strict_fields

if TYPE_CHECKING:
    import httpx

__all__ = ["ADAPTER", "FalProtocol", "GENERIC_SPECS", "SPECS"]

# -- field mapping ------------------------------------------------------------------------
# The specs are plain data (about half of this module). They stay beside the protocol on
# purpose: this module is the provider's one home (``providers/__init__`` maps "fal" here)
# and the docs render its ``SPECS``.

_PROMPT = Field("prompt", "prompt", required=True)


def _image(role: str, target: str) -> Field:
    return Field(f"image_list:{role}", target, convert="media_url")


def _images(role: str, target: str) -> Field:
    return Field(f"image_list:{role}[]", target, convert="media_urls")


def _duration(allowed: tuple[int, ...] | None, convert: str = "str") -> Field:
    return Field("duration_seconds", "duration", allowed=allowed, convert=convert)


_VIDEO_URL = Field("video", "video_url", convert="video_url")
# fal's image_size takes an enum for common shapes, or {"width", "height"}.
_ASPECT_TO_IMAGE_SIZE = {
    "1:1": "square_hd",
    "4:3": "landscape_4_3",
    "16:9": "landscape_16_9",
    "3:4": "portrait_4_3",
    "9:16": "portrait_16_9",
}
_IMAGE_SIZE = (
    Field("aspect_ratio", "image_size", allowed=tuple(_ASPECT_TO_IMAGE_SIZE), convert=_ASPECT_TO_IMAGE_SIZE),
    Field("size", "image_size", convert="size_object"),  # after aspect_ratio: an exact size wins
)
# The first frame wins over a plain reference when both are given (the later rule writes last).
_START_IMAGE = (_image("reference", "start_image_url"), _image("first_frame", "start_image_url"))
_MAIN_IMAGE = (_image("reference", "image_url"), _image("first_frame", "image_url"))

_KLING_O1 = (
    _PROMPT,
    _image("first_frame", "start_image_url"),
    _image("last_frame", "end_image_url"),
    _images("reference", "image_urls"),  # reference-to-video
    _duration((5, 10)),
    Field("aspect_ratio", "aspect_ratio"),
    _VIDEO_URL,
)
_VEO = (
    _PROMPT,
    Field("aspect_ratio", "aspect_ratio"),
    Field("duration_seconds", "duration", allowed=(4, 6, 7, 8), convert="seconds_suffix"),  # 7: extend-video
    Field("resolution", "resolution"),
    Field("generate_audio", "generate_audio"),
    Field("seed", "seed"),
    Field("negative_prompt", "negative_prompt"),
    _image("reference", "image_url"),
    _image("first_frame", "first_frame_url"),
    _image("last_frame", "last_frame_url"),
    _VIDEO_URL,
)
_WAN = (
    _PROMPT,
    Field("aspect_ratio", "aspect_ratio"),
    Field("resolution", "resolution"),
    Field("negative_prompt", "negative_prompt"),
    Field("seed", "seed"),
    Field("enhance_prompt", "enable_prompt_expansion"),
    *_MAIN_IMAGE,
)
_PIXVERSE = (
    _PROMPT,
    Field("aspect_ratio", "aspect_ratio"),
    Field("resolution", "resolution"),
    _duration((5, 8, 10)),
    Field("seed", "seed"),
    Field("negative_prompt", "negative_prompt"),
    Field("generate_audio", "generate_audio_switch"),
    _image("reference", "image_url"),
    _image("first_frame", "first_image_url"),
    _image("last_frame", "end_image_url"),
    _VIDEO_URL,
)
_FLUX = (_PROMPT, Field("seed", "seed"), *_IMAGE_SIZE, Field("n", "num_images"))

#: Used for any model no spec names: the common field names of fal's model APIs.
GENERIC_SPECS: dict[str, ModelSpec] = {
    "video": ModelSpec(
        "(any other model)",
        "video",
        (
            _PROMPT,
            _duration(None, convert="int"),
            Field("resolution", "resolution"),
            Field("aspect_ratio", "aspect_ratio"),
            Field("image_list:*", "image_urls", convert="media_urls"),
            _VIDEO_URL,
            Field("seed", "seed"),
            Field("negative_prompt", "negative_prompt"),
            Field("generate_audio", "generate_audio"),
        ),
        title="generic",
    ),
    "image": ModelSpec(
        "(any other model)",
        "image",
        (
            _PROMPT,
            Field("seed", "seed"),
            Field("aspect_ratio", "aspect_ratio"),  # newer fal image models take it as is
            Field("size", "image_size", convert="size_object"),
            Field("n", "num_images"),
            Field("negative_prompt", "negative_prompt"),
            Field("image_list:*", "image_urls", convert="media_urls"),
        ),
        title="generic",
    ),
}

SPECS: tuple[ModelSpec, ...] = (
    # -- video --
    ModelSpec(
        "fal-ai/minimax",
        "video",
        (
            _PROMPT,
            _duration((6, 10)),  # fal's DurationEnum is "6" | "10" (upstream sent "6s")
            *_MAIN_IMAGE,
            _image("last_frame", "end_image_url"),
            Field("enhance_prompt", "prompt_optimizer"),
        ),
        title="MiniMax / Hailuo",
    ),
    ModelSpec("fal-ai/kling-video/o1", "video", _KLING_O1, title="Kling O1 (image, reference, video edit)"),
    ModelSpec(
        "fal-ai/kling-video/v2.6",
        "video",
        (
            _PROMPT,
            _duration((5, 10)),  # no "s" suffix (upstream's v2.6 mapper added one)
            *_START_IMAGE,
            _image("last_frame", "end_image_url"),
            Field("generate_audio", "generate_audio"),
            Field("negative_prompt", "negative_prompt"),
            _VIDEO_URL,  # motion control
        ),
        title="Kling v2.6",
    ),
    ModelSpec(
        "fal-ai/kling-video/v3",
        "video",
        (
            _PROMPT,  # dropped when extra_params holds multi_prompt (the API takes one of them)
            _duration(tuple(range(3, 16))),
            Field("aspect_ratio", "aspect_ratio"),
            Field("negative_prompt", "negative_prompt"),
            Field("generate_audio", "generate_audio"),
            *_START_IMAGE,
            _image("last_frame", "end_image_url"),
        ),
        title="Kling v3 (pro, standard)",
    ),
    ModelSpec(
        "fal-ai/kling-video/o3/",
        "video",
        (
            _PROMPT,
            _image("reference", "image_url"),
            _image("first_frame", "start_image_url"),
            _image("last_frame", "end_image_url"),
            _images("reference", "image_urls"),
            Field("aspect_ratio", "aspect_ratio"),
            _duration(tuple(range(3, 16))),
            Field("generate_audio", "generate_audio"),
        ),
        title="Kling O3",
    ),
    ModelSpec("fal-ai/veo3", "video", _VEO, title="Veo 3"),
    ModelSpec("fal-ai/veo3.1", "video", _VEO, title="Veo 3.1"),
    ModelSpec(
        "fal-ai/sora-2",
        "video",
        (
            _PROMPT,
            Field("aspect_ratio", "aspect_ratio"),
            Field("resolution", "resolution"),
            _duration((4, 8, 12), convert="int"),
            *_MAIN_IMAGE,
        ),
        title="Sora 2",
    ),
    ModelSpec("wan/v2.6/", "video", (*_WAN, _duration((5, 10, 15))), title="Wan v2.6"),
    ModelSpec("fal-ai/wan-25-preview/", "video", (*_WAN, _duration((5, 10))), title="Wan 2.5 preview"),
    ModelSpec(
        "fal-ai/wan/v2.2-14b/animate/",
        "video",
        (
            Field("video", "video_url", convert="video_url", required=True),
            _image("reference", "image_url"),
            _image("first_frame", "image_url"),
            Field("resolution", "resolution"),
            Field("seed", "seed"),
        ),
        title="Wan v2.2-14b animate (video + image; no prompt)",
    ),
    ModelSpec(
        "fal-ai/wan/v2.2-a14b/",
        "video",
        (*_WAN, _image("last_frame", "end_image_url"), _VIDEO_URL),
        title="Wan v2.2-a14b (length via extra_params num_frames)",
    ),
    ModelSpec(
        "fal-ai/bytedance/seedance",
        "video",
        (
            _PROMPT,
            Field("aspect_ratio", "aspect_ratio"),
            Field("resolution", "resolution"),
            _duration(tuple(range(2, 13))),
            Field("seed", "seed"),
            Field("generate_audio", "generate_audio"),  # v1.5 only
            *_MAIN_IMAGE,
            _image("last_frame", "end_image_url"),
            _images("reference", "reference_image_urls"),  # reference-to-video
        ),
        title="ByteDance Seedance v1 / v1.5",
    ),
    ModelSpec("fal-ai/pixverse/v5", "video", _PIXVERSE, title="PixVerse v5"),
    ModelSpec("fal-ai/pixverse/v5.5", "video", _PIXVERSE, title="PixVerse v5.5"),
    ModelSpec("fal-ai/pixverse/swap", "video", _PIXVERSE, title="PixVerse swap"),
    # -- image --
    ModelSpec("fal-ai/flux", "image", (*_FLUX, _image("reference", "image_url")), title="FLUX.1"),
    ModelSpec("fal-ai/flux-2", "image", (*_FLUX, _images("reference", "image_urls")), title="FLUX.2"),
    ModelSpec(
        "fal-ai/z-image-turbo",
        "image",
        (*_FLUX, Field("negative_prompt", "negative_prompt")),
        title="Z-Image-Turbo",
    ),
    ModelSpec(
        "fal-ai/recraft",
        "image",
        (_PROMPT, *_IMAGE_SIZE, Field("style", "style")),
        title="Recraft (v3, ...)",
    ),
    ModelSpec(
        "fal-ai/ideogram",
        "image",
        (*_FLUX, Field("style", "style"), Field("negative_prompt", "negative_prompt")),
        title="Ideogram",
    ),
    # -- any other model (listed for the docs; find_spec never matches these names) --
    *GENERIC_SPECS.values(),
)


# -- protocol -----------------------------------------------------------------------------

_NAMESPACES = ("workflows", "comfy")  # their app ids have one more leading segment
_MODERATION = "content_policy_violation"




def _app_id(model: str) -> str:
    """`owner/app` of a model id (status, result and cancel URLs use only that)."""
    parts = model.strip("/").split("/")
    keep = 3 if parts[0] in _NAMESPACES else 2
    return "/".join(parts[:keep])


class FalProtocol(ProviderProtocol):
    """fal's queue protocol: requests built and answers parsed, no I/O."""

    name = "fal"
    default_base_url = "https://queue.fal.run"

    def _key(self, call: Call) -> str | None:
        return call.config.api_key or os.environ.get("FAL_KEY")

    def headers(self, call: Call) -> dict[str, str]:
        key = self._key(call)
        return {"Authorization": f"Key {key}"} if key else {}

    def prepare(self, call: Call) -> Flow[Any]:
        model = call.config.model
        if "/" not in model.strip("/"):
            raise exc.ValidationError(
                f"fal model ids look like owner/app[/path] (e.g. fal-ai/veo3.1), not {model!r}",
                provider=self.name,
                model=model,
            )
        if not self._key(call):
            raise exc.ValidationError(
                "fal needs an API key: set config.api_key or the FAL_KEY variable", provider=self.name, model=model
            )
        spec = find_spec(SPECS, model, call.kind) or GENERIC_SPECS[call.kind]
        request = yield from inline_local_files(call.request)
        payload = map_request(spec, request, provider=self.name, model=model, strict=strict_fields(call.config))
        if "multi_prompt" in payload:  # Kling v3/O3 take a prompt or a multi_prompt, never both
            payload.pop("prompt", None)
        return payload

    def submit(self, call: Call, payload: Any) -> httpx.Request:
        return self.request(call, "POST", f"/{call.config.model.strip('/')}", json=payload)

    def parse_submit(self, call: Call, response: httpx.Response) -> Job:
        body = json_or_empty(response)
        request_id = body.get("request_id") if isinstance(body, dict) else None
        if not request_id:
            raise exc.GenerationFailedError(
                "fal accepted the submit but its answer holds no request_id",
                provider=self.name,
                model=call.config.model,
                raw_response={"phase": "submit", "body": body},
            )
        built = f"{self.base_url(call)}/{_app_id(call.config.model)}/requests/{request_id}"
        urls = {
            "status": body.get("status_url") or f"{built}/status",
            "response": body.get("response_url") or built,
            "cancel": body.get("cancel_url") or f"{built}/cancel",
        }
        job = Job(id=str(request_id), urls=urls)
        return self._with_status(call, job, body if body.get("status") else {**body, "status": "IN_QUEUE"}, "submit")

    def poll(self, call: Call, job: Job) -> httpx.Request:
        return self.request(call, "GET", job.urls["status"], params={"logs": "1"})

    def parse_poll(self, call: Call, job: Job, response: httpx.Response) -> Job:
        body = json_or_empty(response)
        return self._with_status(call, job, body if isinstance(body, dict) else {}, "poll")

    def _with_status(self, call: Call, job: Job, body: dict[str, Any], phase: str) -> Job:
        status = str(body.get("status") or "").upper()
        update: dict[str, Any] = {"provider_status": status or None}
        logs = [entry.get("message", "") if isinstance(entry, dict) else str(entry) for entry in body.get("logs") or []]
        if logs:
            update["logs"] = logs
        if status == "IN_QUEUE":
            if body.get("queue_position") is not None:
                update["queue_position"] = body["queue_position"]
            return job.evolve(status="queued", update=update, data=body)
        if status == "COMPLETED":
            if body.get("error"):
                error = self._job_error(call, job, body, phase)
                return job.evolve(status="failed", update=update, data=body, error=error)
            return job.evolve(status="completed", progress=100, update=update, data=body)
        if status in {"FAILED", "ERROR", "CANCELED", "CANCELLED"}:  # not fal's documented states; tolerated
            return job.evolve(status="failed", update=update, data=body, error=self._job_error(call, job, body, phase))
        return job.evolve(status="processing", update=update, data=body)

    def _job_error(self, call: Call, job: Job, body: dict[str, Any], phase: str) -> exc.TarashException:
        error_type = str(body.get("error_type") or "")
        detail = str(body.get("error") or body.get("status"))
        where: exc.ErrorContext = {
            "provider": self.name,
            "model": call.config.model,
            "request_id": job.id,
            "raw_response": {"phase": phase, "body": body},
        }
        if _MODERATION in error_type or _MODERATION in detail:
            return exc.ContentModerationError(f"fal request {job.id} was refused by moderation: {detail}", **where)
        kind = f" ({error_type})" if error_type else ""
        return exc.GenerationFailedError(f"fal request {job.id} failed{kind}: {detail}", **where)

    def fetch_result(self, call: Call, job: Job) -> httpx.Request:
        return self.request(call, "GET", job.urls["response"])

    def parse_result(self, call: Call, job: Job, response: httpx.Response | None) -> Any:
        body = json_or_empty(response) if response is not None else {}
        if not isinstance(body, dict):
            body = {"output": body}
        where: exc.ErrorSource = {"provider": self.name, "model": call.config.model, "request_id": job.id}
        if call.kind == "image":
            return self._image_response(call, job, body, where)
        return self._video_response(call, job, body, where)

    def _video_response(self, call: Call, job: Job, body: dict[str, Any], where: exc.ErrorSource) -> Any:
        video = body.get("video")
        url = video.get("url") if isinstance(video, dict) else video or body.get("video_url")
        if not url:
            raise exc.GenerationFailedError(
                f"fal result of {job.id} holds no video URL", raw_response={"phase": "result", "body": body}, **where
            )
        info = video if isinstance(video, dict) else {}
        audio = body.get("audio")
        request = call.request
        return VideoGenerationResponse(
            request_id=job.id,
            video=url,
            content_type=info.get("content_type") or "video/mp4",
            audio_url=(audio.get("url") if isinstance(audio, dict) else audio) or body.get("audio_url"),
            duration=info.get("duration") or getattr(request, "duration_seconds", None),
            resolution=getattr(request, "resolution", None),
            aspect_ratio=getattr(request, "aspect_ratio", None),
            raw_response=body,
        )

    def _image_response(self, call: Call, job: Job, body: dict[str, Any], where: exc.ErrorSource) -> Any:
        items = body.get("images") or ([body["image"]] if body.get("image") else [])
        found = [item.get("url") if isinstance(item, dict) else item for item in items]
        urls: list[str] = [u for u in found if u]
        nsfw = body.get("has_nsfw_concepts")
        if isinstance(nsfw, list) and nsfw and all(nsfw):
            raise exc.ContentModerationError(
                f"fal's safety checker flagged every image of {job.id}",
                raw_response={"phase": "result", "body": body},
                **where,
            )
        if not urls:
            raise exc.GenerationFailedError(
                f"fal result of {job.id} holds no image URL", raw_response={"phase": "result", "body": body}, **where
            )
        first = items[0] if isinstance(items[0], dict) else {}
        return ImageGenerationResponse(
            request_id=job.id,
            images=urls,
            content_type=first.get("content_type") or "image/png",
            revised_prompt=body.get("revised_prompt"),
            raw_response=body,
        )

    def cancel(self, call: Call, job: Job) -> httpx.Request | None:
        url = job.urls.get("cancel")
        return self.request(call, "PUT", url) if url else None

    def error(self, call: Call, response: httpx.Response, phase: str) -> exc.TarashException:
        if response.status_code in (400, 422) and _MODERATION in response.text:
            return exc.ContentModerationError(
                f"fal {phase} refused by moderation (HTTP {response.status_code})",
                provider=self.name,
                model=call.config.model,
                raw_response={"status_code": response.status_code, "phase": phase, "body": json_or_empty(response)},
            )
        return http_error(self.name, call.config.model, response, phase)


ADAPTER = HttpProvider(FalProtocol())
