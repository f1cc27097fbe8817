"""Simulated OpenAI Images and Videos (Sora) APIs, also serving Azure OpenAI.

Mounted at `/openai`: `base_url=sim.base_url("openai")` replaces
`https://api.openai.com/v1` (a `/v1` below the mount is accepted too). Azure
OpenAI's v1 API is the same protocol, so an `azure_openai` config reaches this
simulator with the same `base_url` (there is no separate `/azure_openai` mount),
and so does the `openai` SDK's `AzureOpenAI` client with
`azure_endpoint=sim.base_url("openai")`: its `/openai/deployments/{d}/...` paths
(the deployment stands for the model when the body names none) and the v1 API's
`/openai/v1/...` paths are served as the routes below. Either auth header is accepted
(`Authorization: Bearer` or `api-key`), as is an `api-version` query; each job
records which it came with in `job.payload["auth"]` / `["api_version"]`, so a test
can tell an Azure call from an OpenAI one. A request with neither header gets 401.

Routes (below the mount):

- `POST /images/generations` (JSON) and `POST /images/edits` (multipart, `image`
  or `image[]` files required): synchronous. GPT image models answer `b64_json`
  (a stock PNG of the asked size), as does any model not named `dall-e-*` (e.g. an
  Azure deployment name); dall-e models answer a `url` on the simulator's `/media`
  unless `response_format=b64_json`. With `stream: true` the answer is a
  `text/event-stream`: `partial_images` `image_generation.partial_image` events
  (`image_edit.*` for edits), then one `*.completed` event per image.
- `GET /videos`: the list of this simulator's videos, newest first (`limit`,
  `after`, `order` honoured).
- `POST /videos` (multipart; `seconds` must be 4/8/12 and `size` a Sora size,
  else 400 `invalid_value`), `POST /videos/{id}/remix`, `GET /videos/{id}`
  (advances the job; sends `openai-poll-after-ms`), `GET /videos/{id}/content`
  (the stock MP4 matching the size), `DELETE /videos/{id}` (marks the job cancelled).

Phase faults: a 429 or 500 on a video poll or on `/content` (`phase="result"`), a
dropped connection, a forgotten video (404 `No video found`); past
`media_expires_after` (counted from the status that first said `completed`),
`/content` and media URLs answer 404.

Scenarios: `submit_error` answers the submit with OpenAI's error envelope (400
`invalid_value`, 400 `moderation_blocked`, 401 `invalid_api_key`, 429
`rate_limit_exceeded` with `retry-after` when `retry_after` is set, 500). A
video job that fails answers `status: failed` with `error.code`
`moderation_blocked` or `internal_error`. The image endpoints are synchronous:
queue and run polls do not apply; a scenario with `fail_after_polls` answers the
image call with 400 `moderation_blocked` (`job_error="moderation"`) or 500.
"""

from __future__ import annotations

import base64
import json
import re
import time
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from ..mock.stock import match_image, match_video
from .base import Job, SimRequest, SimResponse, SimulatedProvider

__all__ = ["OpenAISimulator", "parse_form"]

SORA_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
_VIDEO = re.compile(r"^/videos/([^/]+)(/content|/remix)?$")
#: Azure's deployment paths and the v1 API's prefix, around the OpenAI routes.
_PREFIX = re.compile(r"^(?:/openai)?(?:/deployments/(?P<deployment>[^/]+)|/v1)?(?=/)")


def parse_form(request: SimRequest) -> dict[str, list[Any]]:
    """The fields of a multipart (or JSON) body: text parts as `str`, files as `bytes`."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = request.json()
        return {k: [v] for k, v in body.items()} if isinstance(body, dict) else {}
    if not content_type.startswith("multipart/form-data"):
        return {}
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    fields: dict[str, list[Any]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)  # bytes or None for a non-multipart part
        data = payload if isinstance(payload, bytes) else b""
        fields.setdefault(str(name), []).append(data if part.get_filename() is not None else data.decode())
    return fields


def _error(status: int, message: str, kind: str, code: str | None, param: str | None = None) -> SimResponse:
    return SimResponse(status, {"error": {"message": message, "type": kind, "param": param, "code": code}})


def _missing(param: str) -> SimResponse:
    message = f"Missing required parameter: '{param}'."
    return _error(400, message, "invalid_request_error", "missing_required_parameter", param)


def _first(fields: dict[str, list[Any]], name: str, default: Any = None) -> Any:
    values = fields.get(name)
    return values[0] if values else default


def _aspect(size: str | None) -> tuple[str | None, str | None]:
    """Stock-matching hints (aspect ratio, resolution) for a `"WxH"` size."""
    table = {
        "1280x720": ("16:9", "720p"),
        "720x1280": ("9:16", "720p"),
        "1792x1024": ("16:9", "1080p"),
        "1024x1792": ("9:16", "1080p"),
    }
    return table.get(size or "720x1280", (None, None))


def _event_stream(body: dict[str, Any], fields: dict[str, list[Any]], kind: str,
                  headers: dict[str, str]) -> SimResponse:
    """The streamed form of an images answer: partial images, then one completed event per image."""
    partials = min(max(int(_first(fields, "partial_images", 0) or 0), 0), 3)
    common: dict[str, Any] = {key: body[key] for key in ("background", "output_format", "quality", "size") if key in body}
    common["created_at"] = body["created"]
    events: list[tuple[str, dict[str, Any]]] = []
    for item in body["data"]:
        b64 = item.get("b64_json", "")
        events += [(f"{kind}.partial_image", {**common, "b64_json": b64, "partial_image_index": index})
                   for index in range(partials)]
        events.append((f"{kind}.completed", {**common, "b64_json": b64, "usage": body.get("usage")}))
    data = "".join(f"event: {name}\ndata: {json.dumps({'type': name, **event})}\n\n" for name, event in events)
    return SimResponse(200, data.encode(), {**headers, "content-type": "text/event-stream; charset=utf-8"})


class OpenAISimulator(SimulatedProvider):
    """OpenAI's Images and Videos APIs (and Azure OpenAI's v1 API) on the simulator."""

    name = "openai"
    #: the `openai-poll-after-ms` hint sent with every video status answer.
    poll_after_ms = 100

    def handle(self, request: SimRequest) -> SimResponse:
        auth = self._auth(request)
        if auth is None:
            return _error(401, "You didn't provide an API key.", "invalid_request_error", "invalid_api_key")
        prefix = _PREFIX.match(request.path)
        path, method = request.path[prefix.end() if prefix else 0 :].rstrip("/"), request.method
        if prefix is not None and prefix.group("deployment"):
            auth = {**auth, "deployment": prefix.group("deployment")}
        if method == "POST" and path in ("/images/generations", "/images/edits"):
            return self._image(request, auth, edit=path.endswith("edits"))
        if method == "POST" and path == "/videos":
            return self._create_video(request, auth)
        if method == "GET" and path == "/videos":
            return self._list_videos(request)
        match = _VIDEO.match(path)
        if match:
            job = self.sim.job(match.group(1))
            if job is None or job.provider != self.name or job.kind != "video" or (job.cancelled and method != "DELETE"):
                message = f"No video found with id '{match.group(1)}'."
                return _error(404, message, "invalid_request_error", None, "video_id")
            suffix = match.group(2)
            if method == "GET" and suffix is None:
                return self._status(job)
            if method == "GET" and suffix == "/content":
                return self._content(job)
            if method == "POST" and suffix == "/remix":
                return self._remix(request, auth, job)
            if method == "DELETE" and suffix is None:
                job.cancelled = True
                return SimResponse(200, {"id": job.id, "object": "video.deleted", "deleted": True}, self._latency(job))
        return _error(404, f"Invalid URL ({method} {path})", "invalid_request_error", None)

    # -- images ------------------------------------------------------------------------
    def _image(self, request: SimRequest, auth: dict[str, Any], *, edit: bool) -> SimResponse:
        fields = parse_form(request)
        prompt = _first(fields, "prompt")
        model = str(_first(fields, "model", auth.get("deployment") or "dall-e-2"))
        size = _first(fields, "size")
        images = fields.get("image", []) + fields.get("image[]", [])
        summary = {
            "model": model,
            "size": size if size and size != "auto" else "1024x1024",
            "n": int(_first(fields, "n", 1)),
            "images": len(images),
            "mask": "mask" in fields,
            "fields": sorted(fields),
            **auth,
        }
        job = self.new_job("image", prompt, summary, synchronous=True)
        early = self._submit_error(job)
        if early is not None:
            return early
        if not prompt:
            return _missing("prompt")
        if edit and not images:
            return _missing("image")
        if job.scenario.fail_after_polls is not None:
            if job.scenario.job_error == "moderation":
                return self._moderation(job)
            response = _error(500, "The server had an error while processing your request.", "server_error", None)
            response.headers.update(self._latency(job))
            return response
        stock = match_image(summary["size"], None)
        gpt = not model.startswith("dall-e")  # GPT image models (and unknown names, e.g. Azure deployments)
        b64 = gpt or _first(fields, "response_format") == "b64_json"
        item: dict[str, Any] = {"url": self.media_url("image", job)}
        if b64:
            item = {"b64_json": base64.b64encode(stock.path.read_bytes()).decode()}
        if model.startswith("dall-e-3"):
            item["revised_prompt"] = f"{prompt} (revised)"
        body: dict[str, Any] = {"created": int(time.time()), "data": [dict(item) for _ in range(summary["n"])]}
        if gpt:
            body.update(
                output_format="png", size=f"{stock.width}x{stock.height}", quality=_first(fields, "quality", "auto"),
                background="opaque", usage={"input_tokens": 10, "output_tokens": 1000, "total_tokens": 1010,
                                            "input_tokens_details": {"image_tokens": 0, "text_tokens": 10}},
            )
        headers = {"x-request-id": f"req_{job.id}", **self._latency(job)}
        if str(_first(fields, "stream", "")).lower() == "true":
            return _event_stream(body, fields, "image_edit" if edit else "image_generation", headers)
        return SimResponse(200, body, headers)

    # -- videos ------------------------------------------------------------------------
    def _create_video(self, request: SimRequest, auth: dict[str, Any]) -> SimResponse:
        fields = parse_form(request)
        prompt = _first(fields, "prompt")
        seconds = str(_first(fields, "seconds", "4"))
        size = str(_first(fields, "size", "720x1280"))
        aspect, resolution = _aspect(size)
        reference = _first(fields, "input_reference")
        payload = {
            "model": _first(fields, "model", "sora-2"),
            "seconds": seconds,
            "size": size,
            "aspect_ratio": aspect,
            "resolution": resolution,
            "input_reference": len(reference) if isinstance(reference, bytes) else None,
            "multipart": request.headers.get("content-type", "").startswith("multipart/form-data"),
            "fields": sorted(fields),
            **auth,
        }
        job = self.new_job("video", prompt, payload)
        early = self._submit_error(job)
        if early is not None:
            return early
        if not prompt:
            return _missing("prompt")
        if seconds not in ("4", "8", "12"):
            return _error(400, f"Invalid value: '{seconds}'. Supported values are: '4', '8', and '12'.",
                          "invalid_request_error", "invalid_value", "seconds")
        if size not in SORA_SIZES:
            return _error(400, f"Invalid value: '{size}'. Supported values are: {', '.join(SORA_SIZES)}.",
                          "invalid_request_error", "invalid_value", "size")
        return SimResponse(200, self._video(job), self._latency(job))

    def _list_videos(self, request: SimRequest) -> SimResponse:
        videos = [job for job in self.own_jobs() if job.kind == "video" and not job.cancelled]
        videos.reverse()  # newest first, as OpenAI lists them
        if request.query.get("order", ["desc"])[0] == "asc":
            videos.reverse()
        after = request.query.get("after", [None])[0]
        if after is not None:
            ids = [job.id for job in videos]
            videos = videos[ids.index(after) + 1 :] if after in ids else []
        limit = max(int(request.query.get("limit", ["20"])[0]), 1)
        page = [self._video(job) for job in videos[:limit]]
        return SimResponse(200, {
            "object": "list", "data": page, "has_more": len(videos) > limit,
            "first_id": page[0]["id"] if page else None, "last_id": page[-1]["id"] if page else None,
        })

    def _remix(self, request: SimRequest, auth: dict[str, Any], source: Job) -> SimResponse:
        fields = parse_form(request)
        payload = {**source.payload, "remixed_from": source.id, **auth}
        job = self.new_job("video", _first(fields, "prompt"), payload)
        early = self._submit_error(job)
        return early or SimResponse(200, self._video(job), self._latency(job))

    def _status(self, job: Job) -> SimResponse:
        job.advance()
        if job.state == "completed" and job.media_issued is None:
            job.media_issued = time.monotonic()  # the content "URL" is handed out now
        headers = {"openai-poll-after-ms": str(self.poll_after_ms), **self._latency(job)}
        return SimResponse(200, self._video(job), headers)

    def _content(self, job: Job) -> SimResponse:
        job.fault_at("result", before=job.state == "completed")
        expires = job.scenario.media_expires_after
        if expires is not None and time.monotonic() - (job.media_issued or time.monotonic()) >= expires:
            return _error(404, f"The content of video {job.id} has expired.", "invalid_request_error", None)
        if job.state != "completed":
            return _error(404, f"Video {job.id} is not ready (status {job.state}).", "invalid_request_error", None)
        payload = job.payload or {}
        stock = match_video(payload.get("aspect_ratio"), payload.get("resolution"), float(payload.get("seconds") or 4))
        return SimResponse(200, stock.path.read_bytes(), {"content-type": "video/mp4", **self._latency(job)})

    def _video(self, job: Job) -> dict[str, Any]:
        payload = job.payload or {}
        state = job.state
        status = {"queued": "queued", "processing": "in_progress", "completed": "completed"}.get(state, "failed")
        error = None
        if state == "failed":
            if job.scenario.job_error == "moderation":
                error = {"code": "moderation_blocked", "message": "Your request was blocked by our moderation system."}
            else:
                error = {"code": "internal_error", "message": "Video generation failed."}
        return {
            "id": job.id,
            "object": "video",
            "model": payload.get("model", "sora-2"),
            "status": status,
            "progress": 100 if state == "completed" else job.progress,
            "created_at": int(time.time()),
            "completed_at": int(time.time()) if state == "completed" else None,
            "expires_at": None,
            "prompt": None,
            "seconds": payload.get("seconds", "4"),
            "size": payload.get("size", "720x1280"),
            "remixed_from_video_id": payload.get("remixed_from"),
            "error": error,
        }

    # -- shared ------------------------------------------------------------------------
    @staticmethod
    def _auth(request: SimRequest) -> dict[str, Any] | None:
        versions = request.query.get("api-version")
        version = versions[0] if versions else None
        if request.headers.get("api-key"):
            return {"auth": "api-key", "api_version": version}
        if request.headers.get("authorization", "").lower().startswith("bearer "):
            return {"auth": "bearer", "api_version": version}
        return None

    @staticmethod
    def _latency(job: Job) -> dict[str, str]:
        return {"x-sim-latency": str(job.scenario.latency)} if job.scenario.latency else {}

    def _moderation(self, job: Job) -> SimResponse:
        body = {"error": {
            "message": "Your request was rejected as a result of our safety system.",
            "type": "image_generation_user_error",
            "param": None,
            "code": "moderation_blocked",
        }}
        return SimResponse(400, body, self._latency(job))

    def _submit_error(self, job: Job) -> SimResponse | None:
        failure = job.scenario.submit_error
        if failure is None:
            return None
        if failure == "validation":
            response = _error(400, "Invalid value: 'size'.", "invalid_request_error", "invalid_value", "size")
        elif failure == "moderation":
            response = self._moderation(job)
        elif failure == "auth":
            response = _error(401, "Incorrect API key provided: sk-****.", "invalid_request_error", "invalid_api_key")
        elif failure == "rate_limit":
            response = self.rate_limited(job.scenario.retry_after)
        else:
            response = self.server_error()
        response.headers.update(self._latency(job))
        return response

    def rate_limited(self, retry_after: float | None) -> SimResponse:
        response = _error(429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded")
        if retry_after is not None:
            response.headers["retry-after"] = f"{retry_after:g}"
        return response

    def server_error(self) -> SimResponse:
        return _error(500, "The server had an error while processing your request.", "server_error", None)
