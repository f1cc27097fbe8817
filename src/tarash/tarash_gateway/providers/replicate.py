"""Replicate over its predictions API (httpx only, no replicate SDK).

Endpoints (`config.base_url` replaces `https://api.replicate.com/v1`):

- submit, by the form of `config.model`:
  `owner/name` -> `POST {base}/models/{owner}/{name}/predictions` `{"input": ...}`;
  `owner/name:<version>` -> `POST {base}/predictions` `{"version": ..., "input": ...}`;
  `deployments/owner/name` -> `POST {base}/deployments/{owner}/{name}/predictions`.
  Answer: 201 with the prediction.
- poll: `GET {base}/predictions/{id}` (built from `base`, as the SDK does, so a proxy
  given as `base_url` stays in the path even if it echoes Replicate's own `urls.get`).
- cancel: `POST {base}/predictions/{id}/cancel` (on timeout; best effort).

Auth: `Authorization: Bearer <token>` from `config.api_key`, else the
`REPLICATE_API_TOKEN` (or `REPLICATE_API_KEY`) variable; refused before any request
when there is none.

States: `starting` -> queued, `processing` -> processing, `succeeded` -> completed,
`failed`/`canceled`/`aborted` -> failed; unknown strings count as processing.
Replicate has no progress field: `progress_percent` is parsed from the last tqdm-style
line of `logs` (`" 38%|███▊      | 19/50 [...]"`), as the SDK does. `update` holds
`provider_status` and `logs` (the last lines of the log).

Errors (HTTP answers go through `http_error`): 401/403 -> HTTPError,
422/400 -> ValidationError, 429 -> RateLimitError (`Retry-After` when sent), 5xx ->
HTTPError. A `failed` prediction whose error says E005 / "flagged as sensitive" / NSFW
-> ContentModerationError; other failures, `canceled` and `aborted` ->
GenerationFailedError. The message and `raw_response["phase"]` say whether the
failure was seen in the submit answer or while polling.

Output: a URL string or a list of URLs (or a dict holding them): images -> `images`,
video -> the first URL.

Models: as data in `SPECS`: Kling (kwaivgi/kling*), MiniMax/Hailuo, Luma (URL-only
image inputs), Wan (wan-video/, alibaba/wan), Google Veo 3/3.1; images: FLUX.2 Pro,
Z-Image-Turbo, Stable Diffusion 3.5 Large, SDXL; any other model gets a generic spec.
`extra_params` are merged into `input`.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from .. import exceptions as exc
from ..call import Call
from ..flow import Flow
from ..media_io import guess_content_type
from ..responses import ImageGenerationResponse, VideoGenerationResponse
from .base import HttpProvider, Job, ProviderProtocol, json_or_empty
from .inputs import inline_local_files
from .mapping import Field, ModelSpec, find_spec, map_request, strict_fields

if TYPE_CHECKING:
    import httpx

__all__ = ["ADAPTER", "GENERIC_SPECS", "ReplicateProtocol", "SPECS", "parse_progress"]

# -- field mapping ------------------------------------------------------------------------

_PROMPT = Field("prompt", "prompt", required=True)


def _image(role: str, target: str, *, required: bool = False, convert: str = "media_url") -> Field:
    return Field(f"image_list:{role}", target, convert=convert, required=required)


def _first_image(target: str, *, convert: str = "media_url") -> tuple[Field, ...]:
    """The first frame, else a plain reference image (the later rule writes last)."""
    return (_image("reference", target, convert=convert), _image("first_frame", target, convert=convert))


_KLING = (
    _PROMPT,
    *_first_image("start_image"),
    _image("last_frame", "end_image"),
    Field("duration_seconds", "duration", allowed=(5, 10), convert="int"),
    Field("aspect_ratio", "aspect_ratio"),
    Field("negative_prompt", "negative_prompt"),
    Field("seed", "seed"),
)
_MINIMAX = (
    _PROMPT,
    Field("duration_seconds", "duration", allowed=(6, 10), convert="int"),
    *_first_image("first_frame_image"),
    _image("last_frame", "last_frame_image"),
    Field("enhance_prompt", "prompt_optimizer"),
)
_WAN = (
    _PROMPT,
    *_first_image("image"),
    Field("negative_prompt", "negative_prompt"),
    Field("duration_seconds", "num_frames", convert="frames_at_24fps"),
    Field("seed", "seed"),
)
_SIZE = (
    Field("size", "width", convert="size_width"),
    Field("size", "height", convert="size_height"),
)
_FLUX2 = (
    _PROMPT,
    Field("aspect_ratio", "aspect_ratio", allowed=("1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3")),
    Field("image_list:reference[]", "input_images", convert="media_urls"),
    Field("seed", "seed"),
)

#: Used for any model no spec names.
GENERIC_SPECS: dict[str, ModelSpec] = {
    "video": ModelSpec(
        "(any other model)",
        "video",
        (
            _PROMPT,
            Field("duration_seconds", "duration", convert="int"),
            Field("aspect_ratio", "aspect_ratio"),
            *_first_image("image"),
            Field("negative_prompt", "negative_prompt"),
            Field("seed", "seed"),
        ),
        title="generic",
    ),
    "image": ModelSpec(
        "(any other model)",
        "image",
        (
            _PROMPT,
            Field("negative_prompt", "negative_prompt"),
            Field("aspect_ratio", "aspect_ratio"),
            Field("seed", "seed"),
        ),
        title="generic",
    ),
}

SPECS: tuple[ModelSpec, ...] = (
    # -- video --
    ModelSpec("kwaivgi/kling", "video", _KLING, title="Kling (v2.x)"),
    ModelSpec(
        "kwaivgi/kling-v2.1",
        "video",
        (*_KLING, Field("image_list:first_frame+image_list:reference", "", required=True)),  # a start image
        title="Kling v2.1 (image-to-video only: a first_frame or reference image is required)",
    ),
    ModelSpec("minimax/", "video", _MINIMAX, title="MiniMax / Hailuo"),
    ModelSpec("hailuo/", "video", _MINIMAX, title="Hailuo (alias kept from upstream)"),
    ModelSpec(
        "luma/",
        "video",
        (
            _PROMPT,
            *_first_image("start_image_url", convert="http_url"),
            _image("last_frame", "end_image_url", convert="http_url"),
            Field("aspect_ratio", "aspect_ratio"),
        ),
        title="Luma (image inputs must be http(s) URLs)",
    ),
    ModelSpec("wan-video/", "video", _WAN, title="Wan (num_frames = seconds x 24, as upstream)"),
    ModelSpec("alibaba/wan", "video", _WAN, title="Wan (alibaba)"),
    ModelSpec(
        "google/veo-3",
        "video",
        (
            _PROMPT,
            Field("aspect_ratio", "aspect_ratio"),
            Field("duration_seconds", "duration", allowed=(4, 6, 8), convert="int"),
            _image("first_frame", "image"),
            _image("last_frame", "last_frame"),
            Field("image_list:reference[]", "reference_images", convert="media_urls"),
            Field("negative_prompt", "negative_prompt"),
            Field("resolution", "resolution"),
            Field("generate_audio", "generate_audio"),
            Field("seed", "seed"),
        ),
        title="Google Veo 3 / 3.1",
    ),
    # -- image --
    ModelSpec("black-forest-labs/flux-2-pro", "image", _FLUX2, title="FLUX.2 [pro]"),
    ModelSpec("black-forest-labs/flux.2-pro", "image", _FLUX2, title="FLUX.2 [pro] (upstream's spelling)"),
    ModelSpec(
        "tongyi-mai/z-image-turbo",
        "image",
        (_PROMPT, Field("negative_prompt", "negative_prompt"), Field("aspect_ratio", "aspect_ratio"), *_SIZE,
         Field("seed", "seed")),
        title="Z-Image-Turbo",
    ),
    ModelSpec(
        "stability-ai/stable-diffusion-3.5-large",
        "image",
        (
            _PROMPT,
            Field("negative_prompt", "negative_prompt"),
            Field(
                "aspect_ratio",
                "aspect_ratio",
                allowed=("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"),
            ),
            Field("seed", "seed"),
            _image("reference", "image"),
        ),
        title="Stable Diffusion 3.5 Large",
    ),
    ModelSpec(
        "stability-ai/sdxl",
        "image",
        (
            _PROMPT,
            Field("negative_prompt", "negative_prompt"),
            *_SIZE,
            Field("seed", "seed"),
            Field("n", "num_outputs", allowed=(1, 2, 3, 4)),
            _image("reference", "image"),
            _image("first_frame", "image"),
            Field("mask_image", "mask", convert="media_url"),
        ),
        title="SDXL",
    ),
    # -- any other model (listed for the docs; find_spec never matches these names) --
    *GENERIC_SPECS.values(),
)


# -- progress and outcome -----------------------------------------------------------------

_TQDM = re.compile(r"^\s*(\d+)%\s*\|.+?\|\s*(\d+)/(\d+)")
_MODERATION = re.compile(r"\bE005\b|flagged as sensitive|\bnsfw\b|content policy|safety filter", re.IGNORECASE)
_STATES = {"starting": "queued", "processing": "processing", "succeeded": "completed"}
_FAILED = {"failed", "canceled", "cancelled", "aborted"}
_LOG_TAIL = 5


def parse_progress(logs: str | None) -> int | None:
    """The percentage of the last tqdm-style progress line in `logs`, if any."""
    for line in reversed((logs or "").splitlines()):
        match = _TQDM.match(line)
        if match:
            return max(0, min(int(match.group(1)), 100))
    return None


def _urls(output: Any) -> list[str]:
    """The URLs in a prediction's `output`: a string, a list, or a dict holding them."""
    if isinstance(output, str):
        return [output] if output else []
    if isinstance(output, list):
        return [url for item in output for url in _urls(item)]
    if isinstance(output, dict):
        for key in ("url", "video", "images", "image", "output"):
            if key in output:
                return _urls(output[key])
    return []




class ReplicateProtocol(ProviderProtocol):
    """Replicate's predictions protocol: requests built and answers parsed, no I/O."""

    name = "replicate"
    default_base_url = "https://api.replicate.com/v1"

    def _token(self, call: Call) -> str | None:
        return call.config.api_key or os.environ.get("REPLICATE_API_TOKEN") or os.environ.get("REPLICATE_API_KEY")

    def headers(self, call: Call) -> dict[str, str]:
        token = self._token(call)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def prepare(self, call: Call) -> Flow[Any]:
        model = call.config.model
        name, _, version = model.partition(":")
        owner_name = name.removeprefix("deployments/")
        if owner_name.count("/") != 1 or not all(owner_name.split("/")) or (":" in model and not version):
            raise exc.ValidationError(
                f"Replicate models look like owner/name, owner/name:<version> or deployments/owner/name, not {model!r}",
                provider=self.name,
                model=model,
            )
        if not self._token(call):
            raise exc.ValidationError(
                "Replicate needs an API token: set config.api_key or REPLICATE_API_TOKEN",
                provider=self.name,
                model=model,
            )
        spec = find_spec(SPECS, name, call.kind) or GENERIC_SPECS[call.kind]
        request = yield from inline_local_files(call.request)
        return {"input": map_request(spec, request, provider=self.name, model=model, strict=strict_fields(call.config))}

    def submit(self, call: Call, payload: Any) -> httpx.Request:
        name, _, version = call.config.model.partition(":")
        if version:
            return self.request(call, "POST", "/predictions", json={"version": version, **payload})
        if name.startswith("deployments/"):
            return self.request(call, "POST", f"/{name}/predictions", json=payload)
        return self.request(call, "POST", f"/models/{name}/predictions", json=payload)

    def parse_submit(self, call: Call, response: httpx.Response) -> Job:
        body = json_or_empty(response)
        if not isinstance(body, dict) or not body.get("id"):
            raise exc.GenerationFailedError(
                "Replicate accepted the submit but its answer holds no prediction id",
                provider=self.name,
                model=call.config.model,
                raw_response={"phase": "submit", "body": body},
            )
        return self._job(call, Job(id=str(body["id"])), body, "submit")

    def poll(self, call: Call, job: Job) -> httpx.Request:
        return self.request(call, "GET", f"/predictions/{job.id}")

    def parse_poll(self, call: Call, job: Job, response: httpx.Response) -> Job:
        body = json_or_empty(response)
        return self._job(call, job, body if isinstance(body, dict) else {}, "poll")

    def _job(self, call: Call, job: Job, body: dict[str, Any], phase: str) -> Job:
        status = str(body.get("status") or "").lower()
        logs = body.get("logs") or ""
        update: dict[str, Any] = {"provider_status": status or None}
        tail = [line for line in str(logs).splitlines() if line.strip()][-_LOG_TAIL:]
        if tail:
            update["logs"] = tail
        urls = body.get("urls")
        urls = urls if isinstance(urls, dict) else job.urls
        job = job.evolve(update=update, data=body, urls=dict(urls))
        if status in _FAILED:
            return job.evolve(status="failed", error=self._failure(call, job, body, phase))
        mapped = _STATES.get(status, "processing")
        progress = parse_progress(logs)
        if mapped == "completed":
            progress = 100
        return job.evolve(status=mapped, progress=progress if progress is not None else job.progress)

    def _failure(self, call: Call, job: Job, body: dict[str, Any], phase: str) -> exc.TarashException:
        status = str(body.get("status")).lower()
        detail = str(body.get("error") or "")
        seen = "in the submit answer" if phase == "submit" else "while polling"
        where: exc.ErrorContext = {
            "provider": self.name,
            "model": call.config.model,
            "request_id": job.id,
            "raw_response": {"phase": phase, "prediction": body},
        }
        if status == "failed" and _MODERATION.search(detail):
            return exc.ContentModerationError(
                f"Replicate prediction {job.id} was refused by moderation ({seen}): {detail}", **where
            )
        if status == "aborted":
            detail = detail or "its Cancel-After deadline passed before it started"
        return exc.GenerationFailedError(
            f"Replicate prediction {job.id} {status} ({seen})" + (f": {detail}" if detail else ""), **where
        )

    def parse_result(self, call: Call, job: Job, response: httpx.Response | None) -> Any:
        body = job.data if isinstance(job.data, dict) else {}
        urls = _urls(body.get("output"))
        if not urls:
            raise exc.GenerationFailedError(
                f"Replicate prediction {job.id} succeeded without an output URL",
                provider=self.name,
                model=call.config.model,
                request_id=job.id,
                raw_response={"phase": "result", "prediction": body},
            )
        if call.kind == "image":
            return ImageGenerationResponse(
                request_id=job.id,
                images=urls,
                content_type=guess_content_type(urls[0], "image/png"),
                raw_response=body,
            )
        request = call.request
        return VideoGenerationResponse(
            request_id=job.id,
            video=urls[0],
            content_type=guess_content_type(urls[0], "video/mp4"),
            duration=getattr(request, "duration_seconds", None),
            resolution=getattr(request, "resolution", None),
            aspect_ratio=getattr(request, "aspect_ratio", None),
            raw_response=body,
        )

    def cancel(self, call: Call, job: Job) -> httpx.Request:
        return self.request(call, "POST", f"/predictions/{job.id}/cancel")


ADAPTER = HttpProvider(ReplicateProtocol())
