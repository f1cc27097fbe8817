"""Runway (`provider="runway"`): video generation over Runway's task API.

Endpoints (`base_url` replaces `https://api.dev.runwayml.com`):

- `POST /v1/text_to_video` | `/v1/image_to_video` | `/v1/video_to_video` -> `{"id"}`;
  the endpoint is picked from the model and the inputs (below).
- `GET /v1/tasks/{id}` polls; `DELETE /v1/tasks/{id}` cancels on timeout.

Auth: `Authorization: Bearer <api_key>` (`config.api_key`, else the
`RUNWAYML_API_SECRET` environment variable, as Runway's SDK does) and the required
`X-Runway-Version` header (`config.api_version`, default `2024-11-06`). Wire
fields are camelCase (`promptText`, `promptImage`, `videoUri`, `contentModeration`).

States: `PENDING`/`THROTTLED` -> queued, `RUNNING` -> processing (`progress`
0-1 becomes `progress_percent`), `SUCCEEDED` -> completed (`output[0]` is the
video URL), `FAILED`/`CANCELLED` -> failed. An unknown status counts as processing.

Errors: a `FAILED` task whose `failureCode` starts with `SAFETY.` (input or output
moderation) -> `ContentModerationError`; any other failure or a cancelled task
-> `GenerationFailedError`. HTTP: 400 -> `ValidationError` (zod
`issues` paths included in the message), 401/403 -> `HTTPError`, 429 ->
`RateLimitError`, 5xx -> `HTTPError` (falls back).

Models and routing (the upstream registry's models, plus the current SDK's):

- `veo3.1`, `veo3.1_fast`, `veo3`, `gen4.5`: text_to_video, or image_to_video
  when an image is given;
- `gen4_turbo`, `gen3a_turbo`: image_to_video only (an image is required);
- `gen4_aleph`: video_to_video only (`request.video` is required).

Unknown models follow upstream's name rules ("aleph" -> video_to_video, "turbo" ->
image_to_video, otherwise by input) with a permissive mapping.

`aspect_ratio` and `resolution` together pick Runway's pixel `ratio`: for Veo,
`16:9` is `1280:720` and `16:9` at `1080p` is `1920:1080` (portrait
`1080:1920`). Upstream's table swapped the two "wide" entries; this one does not.
`extra_params` go on the wire as given (`ratio` there overrides the computed one).
Inputs: `first_frame` (or, as upstream, the first `reference`) -> `promptImage`;
`last_frame` (Veo 3.1 only) makes `promptImage` a `[{uri, position}]` list;
`reference` images of `gen4_aleph` -> `references`. Bytes become data URIs.
Scalar fields a model does not take (e.g. `negative_prompt` on `gen4_turbo`) are
not sent, as upstream.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from .. import exceptions as exc
from ..call import Call
from ..flow import Flow
from ..media import ImageType
from ..models import VideoGenerationRequest
from ..responses import VideoGenerationResponse
from .base import HttpProvider, Job, ProviderProtocol, http_error
from .inputs import wire_url
from .mapping import Field, ModelSpec, find_spec, map_request, strict_fields

if TYPE_CHECKING:
    import httpx

__all__ = ["ADAPTER", "RunwayProtocol", "SPECS"]

DEFAULT_VERSION = "2024-11-06"
T2V, I2V, V2V = "text_to_video", "image_to_video", "video_to_video"


def _ratio_field(table: dict[tuple[str, str], str], default_resolution: str = "720p") -> Field:
    """`aspect_ratio`+`resolution` -> `ratio`; a missing part takes the default."""
    convert: dict[tuple[str | None, str | None], str] = dict(table.items())
    for (aspect, resolution), wire in table.items():
        if resolution == default_resolution:
            convert[(aspect, None)] = wire
        if aspect == "16:9":
            convert[(None, resolution)] = wire
    return Field("aspect_ratio+resolution", "ratio", allowed=tuple(convert), convert=convert, default=("16:9", None))


_GEN4_RATIOS = {
    ("16:9", "720p"): "1280:720",
    ("9:16", "720p"): "720:1280",
    ("4:3", "720p"): "1104:832",
    ("1:1", "720p"): "960:960",
    ("21:9", "720p"): "1584:672",
}
_VEO_RATIOS = {
    ("16:9", "720p"): "1280:720",
    ("9:16", "720p"): "720:1280",
    ("16:9", "1080p"): "1920:1080",  # upstream's "16:9-wide" (it sent 1080:1920: swapped)
    ("9:16", "1080p"): "1080:1920",
}
_GEN3_RATIOS = {("16:9", "720p"): "1280:768", ("9:16", "720p"): "768:1280"}
_ALEPH_RATIOS = {**_GEN4_RATIOS, ("16:9", "480p"): "848:480", ("4:3", "480p"): "640:480"}

_PROMPT = Field("prompt", "promptText", required=True)
_FIRST = Field("image_list:first_frame", "promptImage", required=True, convert="media_url")
_SEED = Field("seed", "seed")
_MODERATION = Field("extra_params:content_moderation", "contentModeration")
_VEO = (
    _PROMPT,
    Field("duration_seconds", "duration", allowed=(4, 6, 8)),
    _ratio_field(_VEO_RATIOS),
    Field("generate_audio", "audio"),
    Field("negative_prompt", "negativePrompt"),
)
_VEO3 = (
    _PROMPT,
    Field("duration_seconds", "duration", allowed=(8,), default=8),
    _ratio_field(_VEO_RATIOS),
)
_GEN45 = (
    _PROMPT,
    Field("duration_seconds", "duration", allowed=tuple(range(2, 11)), default=5),
    _ratio_field(_GEN4_RATIOS),
    _SEED,
    _MODERATION,
)


def _spec(model: str, endpoint: str, *fields: Field) -> ModelSpec:
    return ModelSpec(model, "video", fields, title=f"POST /v1/{endpoint}")


TEXT_TO_VIDEO: tuple[ModelSpec, ...] = (
    _spec("veo3.1", T2V, *_VEO),
    _spec("veo3.1_fast", T2V, *_VEO),
    _spec("veo3", T2V, *_VEO3),
    _spec("gen4.5", T2V, *_GEN45),
)
IMAGE_TO_VIDEO: tuple[ModelSpec, ...] = (
    _spec("veo3.1", I2V, _FIRST, *_VEO),
    _spec("veo3.1_fast", I2V, _FIRST, *_VEO),
    _spec("veo3", I2V, _FIRST, *_VEO3),
    _spec("gen4.5", I2V, _FIRST, *_GEN45),
    _spec(
        "gen4_turbo",
        I2V,
        _FIRST,
        Field("prompt", "promptText"),
        Field("duration_seconds", "duration", allowed=tuple(range(2, 11))),
        _ratio_field(_GEN4_RATIOS),
        _SEED,
        _MODERATION,
    ),
    _spec(
        "gen3a_turbo",
        I2V,
        _FIRST,
        Field("prompt", "promptText"),
        Field("duration_seconds", "duration", allowed=(5, 10)),
        _ratio_field(_GEN3_RATIOS),
        _SEED,
    ),
)
VIDEO_TO_VIDEO: tuple[ModelSpec, ...] = (
    _spec(
        "gen4_aleph",
        V2V,
        Field("video", "videoUri", required=True, convert="video_url"),
        _PROMPT,
        _ratio_field(_ALEPH_RATIOS),
        _SEED,
        _MODERATION,
    ),
)
#: Every model's field mapping (renders the docs table).
SPECS: tuple[ModelSpec, ...] = (*TEXT_TO_VIDEO, *IMAGE_TO_VIDEO, *VIDEO_TO_VIDEO)

_BY_ENDPOINT = {T2V: TEXT_TO_VIDEO, I2V: IMAGE_TO_VIDEO, V2V: VIDEO_TO_VIDEO}
_ANY_RATIO = _ratio_field({**_GEN4_RATIOS, **_VEO_RATIOS})
#: Unknown models: what every endpoint takes; ratios from the known tables, other values left to Runway.
_GENERIC = {
    T2V: _spec("*", T2V, _PROMPT, Field("duration_seconds", "duration"), _ANY_RATIO, _SEED),
    I2V: _spec("*", I2V, _FIRST, Field("prompt", "promptText"), Field("duration_seconds", "duration"), _ANY_RATIO, _SEED),
    V2V: _spec("*", V2V, Field("video", "videoUri", required=True, convert="video_url"), _PROMPT, _ANY_RATIO, _SEED),
}
_LAST_FRAME_MODELS = ("veo3.1", "veo3.1_fast")
_STATES = {"PENDING": "queued", "THROTTLED": "queued", "RUNNING": "processing", "SUCCEEDED": "completed"}
_ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0, "4:3": 4 / 3, "3:4": 3 / 4, "21:9": 21 / 9}


def endpoints_for(model: str) -> tuple[str, ...]:
    """The endpoints `model` is served on, from the specs (or upstream's name rules)."""
    found = tuple(e for e, specs in _BY_ENDPOINT.items() if find_spec(specs, model, "video") is not None)
    if found:
        return found
    lower = model.lower()
    if "aleph" in lower:
        return (V2V,)
    if "turbo" in lower and "veo" not in lower:
        return (I2V,)
    return (T2V, I2V)


def _route(model: str, request: Any) -> str:
    endpoints = endpoints_for(model)
    if request.video is not None:
        if V2V not in endpoints:
            raise exc.ValidationError(
                f"{model} does not take a video input; video_to_video models: gen4_aleph",
                provider="runway",
                model=model,
            )
        return V2V
    if endpoints == (V2V,):
        raise exc.ValidationError(f"{model} edits a video: set request.video", provider="runway", model=model)
    if request.image_list and I2V in endpoints:
        return I2V
    return T2V if T2V in endpoints else I2V


def _check_images(model: str, endpoint: str, images: list[ImageType]) -> list[ImageType]:
    """The images with upstream's roles normalised; refuses roles the endpoint cannot use."""
    roles = [item.get("type") for item in images]
    if endpoint == I2V:
        if "first_frame" not in roles and "reference" in roles:  # upstream took a reference as first frame
            index = roles.index("reference")
            images = [*images[:index], {**images[index], "type": "first_frame"}, *images[index + 1 :]]
            roles[index] = "first_frame"
        allowed = {"first_frame", "last_frame"} if model in _LAST_FRAME_MODELS else {"first_frame"}
        if any(r not in allowed or roles.count(r) > 1 for r in roles):
            raise exc.ValidationError(
                f"{model} image_to_video takes one image of each type in {sorted(allowed)}; got types {roles}",
                provider="runway",
                model=model,
            )
    elif endpoint == V2V:
        if any(r != "reference" for r in roles):
            raise exc.ValidationError(
                f"{model} video_to_video takes only image_list entries of type 'reference'; got types {roles}",
                provider="runway",
                model=model,
            )
    elif images:
        raise exc.ValidationError(f"{model} does not take images", provider="runway", model=model)
    return images


def _aspect_of(ratio: str | None) -> str | None:
    try:
        width, height = (int(x) for x in str(ratio).split(":"))
        value = width / height
    except (ValueError, ZeroDivisionError):
        return None
    for name, target in _ASPECTS.items():
        if abs(value - target) / target < 0.02:
            return name
    return None


def _resolution_of(ratio: str | None) -> str | None:
    try:
        short = min(int(x) for x in str(ratio).split(":"))
    except ValueError:
        return None
    return f"{short}p" if short in (480, 720, 1080) else None


def _progress(value: Any) -> int | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    percent = value * 100 if value <= 1 else value  # 0-1 per the SDK; tolerate 0-100
    return max(0, min(int(round(percent)), 100))


class RunwayProtocol(ProviderProtocol):
    """Runway's task API as a sans-I/O protocol."""

    name = "runway"
    default_base_url = "https://api.dev.runwayml.com"
    kinds = ("video",)

    def headers(self, call: Call) -> dict[str, str]:
        headers = {"X-Runway-Version": call.config.api_version or DEFAULT_VERSION}
        key = call.config.api_key or os.environ.get("RUNWAYML_API_SECRET")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def prepare(self, call: Call) -> Flow[tuple[str, dict[str, Any]]]:
        model, request = call.config.model, call.request
        assert isinstance(request, VideoGenerationRequest)  # runway's kinds are ("video",)
        endpoint = _route(model, request)
        images = _check_images(model, endpoint, list(request.image_list))
        request = request.model_copy(update={"image_list": images})
        if request.number_of_videos != 1:
            raise exc.ValidationError(
                f"{model} makes one video per task; number_of_videos={request.number_of_videos}",
                provider=self.name,
                model=model,
            )
        spec = find_spec(_BY_ENDPOINT[endpoint], model, "video") or _GENERIC[endpoint]
        payload = map_request(
            spec, request, provider=self.name, model=model, reads=("image_list", "video", "number_of_videos"),
            strict=strict_fields(call.config),
        )
        payload["model"] = model
        last = [item["image"] for item in images if item.get("type") == "last_frame"]
        if endpoint == I2V and last:
            payload["promptImage"] = [
                {"uri": payload["promptImage"], "position": "first"},
                {"uri": wire_url(last[0]), "position": "last"},
            ]
        references = [item["image"] for item in images if item.get("type") == "reference"]
        if endpoint == V2V and references:
            payload["references"] = [{"type": "image", "uri": wire_url(image)} for image in references]
        return endpoint, payload
        yield  # pragma: no cover - a flow with no effects

    def submit(self, call: Call, payload: tuple[str, dict[str, Any]]) -> httpx.Request:
        endpoint, body = payload
        return self.request(call, "POST", f"/v1/{endpoint}", json=body)

    def parse_submit(self, call: Call, response: httpx.Response) -> Job:
        body = self.json_object(call, response, "submit")
        task_id = self.job_id(call, body, "id", "a task id")
        return Job(id=task_id, status="queued", data=_sent_json(response))

    def poll(self, call: Call, job: Job) -> httpx.Request:
        return self.request(call, "GET", f"/v1/tasks/{job.id}")

    def parse_poll(self, call: Call, job: Job, response: httpx.Response) -> Job:
        task = self.json_object(call, response, "poll")
        raw = str(task.get("status", "")).upper()
        update: dict[str, Any] = {"status": raw}
        if raw == "FAILED":
            return job.evolve(status="failed", update=update, error=self._failure(call, job, task))
        if raw == "CANCELLED":
            error = exc.GenerationFailedError(
                f"runway task {job.id} was cancelled",
                provider=self.name,
                model=call.config.model,
                request_id=job.id,
                raw_response={"phase": "job", "body": task},
            )
            return job.evolve(status="failed", update=update, error=error)
        if raw == "SUCCEEDED":
            return job.evolve(status="completed", progress=100, update=update, result=self._result(call, job, task))
        progress = _progress(task.get("progress")) if raw == "RUNNING" else None
        if progress is not None:
            update["progress"] = task["progress"]
        return job.evolve(status=_STATES.get(raw, "processing"), progress=progress, update=update)

    def cancel(self, call: Call, job: Job) -> httpx.Request:
        return self.request(call, "DELETE", f"/v1/tasks/{job.id}")

    def error(self, call: Call, response: httpx.Response, phase: str) -> exc.TarashException:
        error = http_error(self.name, call.config.model, response, phase)
        body = (error.raw_response or {}).get("body")
        issues = body.get("issues") if isinstance(body, dict) else None
        if isinstance(issues, list) and issues:
            details = "; ".join(
                f"{'.'.join(str(p) for p in issue.get('path', [])) or '(body)'}: {issue.get('message', '')}"
                for issue in issues
                if isinstance(issue, dict)
            )
            error.message = f"{error.message} ({details})"
        return error

    # -- helpers -----------------------------------------------------------------------
    def _failure(self, call: Call, job: Job, task: dict[str, Any]) -> exc.TarashException:
        code = str(task.get("failureCode") or "")
        reason = task.get("failure") or "no reason given"
        where: exc.ErrorContext = {
            "provider": self.name,
            "model": call.config.model,
            "request_id": job.id,
            "raw_response": {"phase": "job", "body": task},
        }
        message = f"runway task {job.id} failed" + (f" ({code})" if code else "") + f": {reason}"
        if code.upper().startswith("SAFETY"):
            return exc.ContentModerationError(message, **where)
        return exc.GenerationFailedError(message, **where)

    def _result(self, call: Call, job: Job, task: dict[str, Any]) -> VideoGenerationResponse:
        output = task.get("output")
        if isinstance(output, list):
            output = output[0] if output else None
        if isinstance(output, dict):
            output = output.get("url") or output.get("uri")
        if not output:
            raise exc.GenerationFailedError(
                f"runway task {job.id} succeeded without an output URL",
                provider=self.name,
                model=call.config.model,
                request_id=job.id,
                raw_response={"phase": "result", "body": task},
            )
        sent = job.data if isinstance(job.data, dict) else {}
        ratio = sent.get("ratio")
        duration = sent.get("duration")
        request = call.request
        assert isinstance(request, VideoGenerationRequest)  # runway's kinds are ("video",)
        return VideoGenerationResponse(
            request_id=job.id,
            video=str(output),
            content_type="video/mp4",
            duration=float(duration) if isinstance(duration, int | float) else None,
            resolution=_resolution_of(ratio) or request.resolution,
            aspect_ratio=request.aspect_ratio or _aspect_of(ratio),
            raw_response=task,
        )


def _sent_json(response: httpx.Response) -> dict[str, Any]:
    """The JSON body that was submitted (to report duration and ratio on the result)."""
    try:
        sent = json.loads(response.request.content or b"{}")
    except (RuntimeError, ValueError):
        return {}
    return sent if isinstance(sent, dict) else {}


ADAPTER = HttpProvider(RunwayProtocol())
