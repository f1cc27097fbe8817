"""Veo: the inputs of a video request, and the long-running operation it becomes.

Submitted -> queued; `done: false` -> processing (a `metadata.progressPercent`, if ever
present, becomes the progress); `done: true` with `response` -> completed, with `error`
-> failed. The first sample is the result: downloaded, inline bytes, or a `gs://` URL.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from ... import exceptions as exc
from ...call import Call
from ...flow import Flow
from ...models import VideoGenerationRequest
from ...responses import VideoGenerationResponse
from ..base import Job
from ..mapping import ModelSpec
from .surface import invalid
from .wire import elide, media, says_moderation

if TYPE_CHECKING:
    import httpx

__all__ = ["operation", "video_inputs", "video_result"]


def video_inputs(call: Call, spec: ModelSpec, instance: dict[str, Any], vertex: bool) -> Flow[None]:
    """Check and encode a Veo instance's images and video in place."""
    request = call.request
    assert isinstance(request, VideoGenerationRequest)  # called for video calls only
    images = request.image_list
    roles = [item.get("type") for item in images]
    takes_refs = any(f.source == "image_list:asset" for f in spec.fields)
    refs = [item for item in images if item.get("type") in ("asset", "style")]
    if refs and not takes_refs:
        raise invalid(call, f"takes no asset/style reference images; got types {roles}")
    if len(refs) > 3:
        raise invalid(call, f"takes at most 3 asset/style reference images; got {len(refs)}")
    if refs and "image" in instance:
        raise invalid(call, "reference images (asset/style) cannot be combined with a first frame")
    if "lastFrame" in instance and "image" not in instance:
        raise invalid(call, "a last_frame needs a first_frame")
    for key in ("image", "lastFrame"):
        if key in instance:
            instance[key] = yield from media(call, instance[key], vertex)
    if refs:
        instance["referenceImages"] = []
        for item in refs:
            image = yield from media(call, item["image"], vertex)
            instance["referenceImages"].append({"image": image, "referenceType": item["type"]})
    yield from _video_input(call, request, instance, vertex)


def _video_input(call: Call, request: VideoGenerationRequest, instance: dict[str, Any], vertex: bool) -> Flow[None]:
    video = instance.get("video")
    if request.video is not None and video is None:
        raise invalid(call, "takes no video input (extending a video: veo-3.1)")
    if video is not None:
        text = video if isinstance(video, str) else ""
        if text.startswith("gs://"):
            instance["video"] = {"gcsUri": text, "mimeType": "video/mp4"}
        elif text.startswith(("http://", "https://")):
            instance["video"] = {"uri": text}
        else:
            instance["video"] = yield from media(call, video, vertex, "video/mp4")


def operation(call: Call, job: Job, body: dict[str, Any], submitted: bool = False) -> Job:
    """The job after one look at a long-running operation."""
    if not body.get("done"):
        metadata = body.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        value = metadata.get("progressPercent", metadata.get("progress_percent"))
        progress = int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        update: dict[str, Any] = {"done": False}
        if progress is not None:
            update["progress"] = value
        return job.evolve(status="queued" if submitted else "processing", progress=progress, update=update)
    videos, failure = _outcome(call, job, body)
    if failure is not None:
        code = body["error"].get("code") if isinstance(body.get("error"), dict) else None
        update = {"done": True, **({"error": code} if code is not None else {})}
        return job.evolve(status="failed", update=update, error=failure)
    data = {**(job.data or {}), "operation": elide(body), "video": videos[0]}
    return job.evolve(status="completed", progress=100, update={"done": True}, data=data)


def _outcome(call: Call, job: Job, body: dict[str, Any]) -> tuple[list[dict[str, Any]], exc.TarashException | None]:
    """The videos of a finished operation, or why there are none."""
    where: exc.ErrorContext = {
        "provider": "google",
        "model": call.config.model,
        "request_id": job.id,
        "raw_response": {"phase": "job", "body": elide(body)},
    }
    error = body.get("error")
    if isinstance(error, dict):
        text = error.get("message", "")
        message = f"google operation {job.id} failed (code {error.get('code')}): {text}"
        cls = exc.ContentModerationError if says_moderation(text) else exc.GenerationFailedError
        return [], cls(message, **where)
    response = body.get("response")
    response = response if isinstance(response, dict) else {}
    nested = response.get("generateVideoResponse")  # Gemini API; Vertex answers flat
    generated = nested if isinstance(nested, dict) else response
    samples = generated.get("generatedSamples") or generated.get("generatedVideos") or response.get("videos") or []
    videos = [s.get("video", s) for s in samples if isinstance(s, dict)]
    videos = [v for v in videos if isinstance(v, dict) and v]
    if videos:
        return videos, None
    filtered = generated.get("raiMediaFilteredCount") or 0
    reasons = generated.get("raiMediaFilteredReasons") or []
    if filtered or reasons:
        why = "; ".join(map(str, reasons)) or "no reason given"
        message = f"google operation {job.id}: {filtered} video(s) filtered by safety: {why}"
        return [], exc.ContentModerationError(message, **where)
    return [], exc.GenerationFailedError(f"google operation {job.id} finished without a video", **where)


def video_result(call: Call, job: Job, response: httpx.Response | None) -> VideoGenerationResponse:
    """The response for a completed operation: the downloaded video, its inline bytes, or its URL."""
    video = job.data["video"]
    content_type = str(video.get("mimeType") or video.get("encoding") or "video/mp4")
    inline = video.get("bytesBase64Encoded") or video.get("encodedVideo")
    result: Any
    if response is not None:
        header = response.headers.get("content-type", "").split(";")[0].strip()
        content_type = header if header.startswith("video/") else content_type
        result = {"content": response.content, "content_type": content_type}
    elif inline:
        try:
            result = {"content": base64.b64decode(inline), "content_type": content_type}
        except (binascii.Error, ValueError):
            raise exc.GenerationFailedError(
                f"google operation {job.id} returned undecodable video bytes",
                provider="google", model=call.config.model, request_id=job.id,
            ) from None
    else:
        result = str(video.get("uri") or video.get("gcsUri"))
    parameters = (job.data.get("sent") or {}).get("parameters") or {}
    duration = parameters.get("durationSeconds")
    return VideoGenerationResponse(
        request_id=job.id,
        video=result,
        content_type=content_type,
        duration=float(duration) if isinstance(duration, int | float) else None,
        resolution=parameters.get("resolution"),
        aspect_ratio=parameters.get("aspectRatio"),
        raw_response=job.data.get("operation") or {},
    )
