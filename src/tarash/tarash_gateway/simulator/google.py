"""Simulated Google generation APIs: the Gemini API and Vertex AI (Veo, Imagen, Gemini image).

Mounted at `/google`. `base_url=sim.base_url("google")` replaces
`https://generativelanguage.googleapis.com/v1beta` for the Gemini API, and
`https://{location}-aiplatform.googleapis.com/v1` for Vertex AI (whose paths start
with `/projects/{p}/locations/{l}/publishers/google`).

Routes (below the mount; `[V]` = the Vertex prefix, optional). The API version the
Google SDKs put first (`/v1`, `/v1beta`, `/v1alpha`, `/v1beta1`) is accepted
before any of them, so google-genai reaches them with `base_url=sim.base_url("google")`
and its default `api_version`:

- `POST [V]/models/{m}:predictLongRunning` -> `{"name": ".../operations/<id>"}`.
  On the Gemini API, `parameters.seed` / `generateAudio` / `storageUri` are
  refused with 400 `INVALID_ARGUMENT`, as the real API does.
- Gemini: `GET /models/{m}/operations/{id}`; Vertex:
  `POST [V]/models/{m}:fetchPredictOperation` `{"operationName"}`. Each poll
  advances the job: `done: false`, then `done: true` with
  `generateVideoResponse.generatedSamples[].video.uri` (Gemini; the URI is
  `/files/{id}:download?alt=media` here, which redirects 302 to `/media`) or
  `videos[].bytesBase64Encoded` (Vertex; `gcsUri` when `storageUri` was set).
  A failed job is `done` with `error {code: 13}`; a moderated one is `done` with
  no samples and `raiMediaFilteredCount: 1`; a cancelled one `error {code: 1}`.
- `POST [V]/models/{m}/operations/{id}:cancel` marks the job cancelled.
- `POST [V]/models/{m}:predict` (Imagen) and `:generateContent` (Gemini image):
  synchronous, stock PNGs inline. Moderation: Imagen answers only
  `raiFilteredReason` entries; Gemini answers `promptFeedback.blockReason` (at
  submit) or `finishReason: IMAGE_SAFETY` (`fail_after_polls` + `moderation`).

Phase faults: a 429 (`RetryInfo`) or 500 on an operation poll or on the file download
(`phase="result"`), a dropped connection, a forgotten operation (404); an expired
media URL answers 403 (signed storage URLs).

Auth: the Gemini API needs `x-goog-api-key` (or `?key=`): missing -> 403
`PERMISSION_DENIED`; the key `invalid` -> 400 `API_KEY_INVALID`. Vertex needs
`Authorization: Bearer` (missing -> 401 `UNAUTHENTICATED`). Scenario errors use
Google's envelope `{"error": {code, message, status, details}}`: validation 400
`INVALID_ARGUMENT`, moderation at submit (Veo) 400 with a usage-guidelines message
[U], auth 403 (Gemini) / 401 (Vertex), rate limit 429 `RESOURCE_EXHAUSTED` with a
`RetryInfo.retryDelay` detail when `retry_after` is set (no `Retry-After` header,
as Google does not promise one), server error 500 `INTERNAL`.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from ..mock.stock import match_image, match_video
from .base import Job, SimRequest, SimResponse, SimulatedProvider

__all__ = ["GoogleSimulator"]

_ROUTE = re.compile(
    r"^(?P<vertex>/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/google)?"
    r"/models/(?P<model>[^/:]+)"
    r"(?::(?P<verb>[A-Za-z]+)|/operations/(?P<op>[^/:]+)(?::(?P<opverb>cancel))?)$"
)
_VERSION = re.compile(r"^/v1(?:alpha|beta1?)?(?=/)")
_DOWNLOAD = re.compile(r"^/files/(?P<id>[^/:]+):download$")
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}


def _error(code: int, message: str, details: list[dict[str, Any]] | None = None) -> SimResponse:
    error: dict[str, Any] = {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}
    if details:
        error["details"] = details
    return SimResponse(code, {"error": error})


def _b64(path: Any) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


class GoogleSimulator(SimulatedProvider):
    """The Gemini API and Vertex AI generation endpoints on the simulator."""

    name = "google"

    def handle(self, request: SimRequest) -> SimResponse:
        path = _VERSION.sub("", request.path.rstrip("/"), count=1)
        download = _DOWNLOAD.match(path)
        if download and request.method == "GET":
            return self._download(request, download.group("id"))
        route = _ROUTE.match(path)
        if route is None:
            return _error(404, f"Method not found: {request.method} {path}")
        vertex = route.group("vertex") is not None
        denied = self._auth(request, vertex)
        if denied is not None:
            return denied
        verb, op = route.group("verb"), route.group("op")
        if request.method == "POST" and verb == "predictLongRunning":
            return self._submit_video(request, route, vertex)
        if request.method == "POST" and verb == "fetchPredictOperation" and vertex:
            body = request.json() or {}
            name = str(body.get("operationName", ""))
            return self._poll(name.rsplit("/operations/", 1)[-1], vertex)
        if request.method == "GET" and op and not route.group("opverb") and not vertex:
            return self._poll(op, vertex)
        if request.method == "POST" and op and route.group("opverb") == "cancel":
            job = self._job(op)
            if job is None:
                return _error(404, f"Operation {op} not found")
            job.cancelled = True
            return SimResponse(200, {})
        if request.method == "POST" and verb in ("predict", "generateContent"):
            return self._image(request, route, vertex, verb)
        return _error(404, f"Method not found: {request.method} {path}")

    # -- auth ----------------------------------------------------------------------------
    @staticmethod
    def _auth(request: SimRequest, vertex: bool) -> SimResponse | None:
        if vertex:
            if not request.headers.get("authorization", "").lower().startswith("bearer "):
                return _error(401, "Request is missing required authentication credential.")
            return None
        keys = request.query.get("key")
        key = request.headers.get("x-goog-api-key") or (keys[0] if keys else None)
        if not key:
            return _error(403, "Method doesn't allow unregistered callers. Please use an API key.")
        if key == "invalid":
            return _error(400, "API key not valid. Please pass a valid API key.", [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                 "domain": "googleapis.com"},
            ])
        return None

    # -- Veo -----------------------------------------------------------------------------
    def _submit_video(self, request: SimRequest, route: re.Match[str], vertex: bool) -> SimResponse:
        body = request.json() or {}
        instance = (body.get("instances") or [{}])[0]
        parameters = body.get("parameters") or {}
        payload = {
            "model": route.group("model"),
            "vertex": vertex,
            "aspect_ratio": parameters.get("aspectRatio", "16:9"),
            "resolution": parameters.get("resolution", "720p"),
            "duration": parameters.get("durationSeconds", 8),
            "samples": int(parameters.get("sampleCount") or 1),
            "storage_uri": parameters.get("storageUri"),
            "instance_keys": sorted(instance),
            "parameters": parameters,
            "prefix": route.group("vertex") or "",
        }
        job = self.new_job("video", instance.get("prompt"), payload)
        early = self._submit_error(job, vertex, video=True)
        if early is not None:
            return early
        if not instance.get("prompt") and "image" not in instance:
            return self._with_latency(job, _error(400, "A prompt or an image is required."))
        if not vertex:
            refused = sorted({"seed", "generateAudio", "storageUri"} & set(parameters))
            if refused:
                return self._with_latency(job, _error(400, f"{', '.join(refused)} isn't supported by this model."))
        if parameters.get("aspectRatio", "16:9") not in ("16:9", "9:16"):
            return self._with_latency(job, _error(400, "Unsupported aspect ratio."))
        name = f"{payload['prefix'].lstrip('/')}/models/{route.group('model')}/operations/{job.id}".lstrip("/")
        payload["name"] = name
        return self._with_latency(job, SimResponse(200, {"name": name}))

    def _poll(self, op: str, vertex: bool) -> SimResponse:
        job = self._job(op)
        if job is None or job.kind != "video":
            return _error(404, f"Operation {op} not found")
        job.advance()
        payload = job.payload
        operation: dict[str, Any] = {"name": payload["name"]}
        state = job.state
        if state in ("queued", "processing"):
            operation["done"] = False
        elif state == "cancelled":
            operation.update(done=True, error={"code": 1, "message": "Operation was cancelled."})
        elif state == "failed" and job.scenario.job_error == "failed":
            error = {"code": 13, "message": "Video generation failed due to an internal error."}
            operation.update(done=True, error=error)
        elif state == "failed":  # moderated output: done, nothing generated
            reasons = ["The output was blocked by our safety filters."]
            result = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": reasons}
            operation.update(done=True, response=self._response(result, vertex))
        else:
            operation.update(done=True, response=self._response(self._samples(job, vertex), vertex))
        return self._with_latency(job, SimResponse(200, operation))

    def _samples(self, job: Job, vertex: bool) -> dict[str, Any]:
        payload = job.payload
        count = payload["samples"]
        if not vertex:
            uri = f"{self.base_url()}/files/{job.id}:download?alt=media"
            return {"generatedSamples": [{"video": {"uri": uri}} for _ in range(count)], "raiMediaFilteredCount": 0}
        if payload["storage_uri"]:
            prefix = str(payload["storage_uri"]).rstrip("/")
            videos = [{"gcsUri": f"{prefix}/{job.id}/sample_{i}.mp4", "mimeType": "video/mp4"} for i in range(count)]
        else:
            stock = self._stock(job)
            videos = [{"bytesBase64Encoded": _b64(stock.path), "mimeType": "video/mp4"} for _ in range(count)]
        return {"raiMediaFilteredCount": 0, "videos": videos}

    @staticmethod
    def _response(result: dict[str, Any], vertex: bool) -> dict[str, Any]:
        if vertex:
            return {"@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse", **result}
        return {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": result,
        }

    def _download(self, request: SimRequest, job_id: str) -> SimResponse:
        denied = self._auth(request, vertex=False)
        if denied is not None:
            return denied
        job = self._job(job_id)
        if job is None or job.state != "completed":
            return _error(404, f"File {job_id} not found")
        job.fault_at("result")
        stock = self._stock(job)
        return SimResponse(302, None, {"location": self.stock_url(stock.file, job), **self._latency(job)})

    @staticmethod
    def _stock(job: Job) -> Any:
        payload = job.payload
        return match_video(payload.get("aspect_ratio"), payload.get("resolution"), float(payload.get("duration") or 8))

    # -- images --------------------------------------------------------------------------
    def _image(self, request: SimRequest, route: re.Match[str], vertex: bool, verb: str) -> SimResponse:
        body = request.json() or {}
        if verb == "predict":
            instance = (body.get("instances") or [{}])[0]
            parameters = body.get("parameters") or {}
            prompt, aspect = instance.get("prompt"), parameters.get("aspectRatio")
            count = int(parameters.get("sampleCount") or 1)
        else:
            parts = ((body.get("contents") or [{}])[0]).get("parts") or []
            prompt = " ".join(p["text"] for p in parts if isinstance(p, dict) and "text" in p)
            image_config = (body.get("generationConfig") or {}).get("imageConfig") or {}
            aspect, count = image_config.get("aspectRatio"), 1
        payload = {"model": route.group("model"), "vertex": vertex, "verb": verb, "aspect_ratio": aspect, "body": body}
        job = self.new_job("image", prompt, payload, synchronous=True)
        scenario = job.scenario
        moderated = scenario.submit_error == "moderation" or (
            scenario.fail_after_polls is not None and scenario.job_error == "moderation"
        )
        if not moderated:
            early = self._submit_error(job, vertex, video=False)
            if early is not None:
                return early
            if scenario.fail_after_polls is not None:
                return self._with_latency(job, _error(500, "Internal error encountered."))
        if not prompt:
            return self._with_latency(job, _error(400, "A prompt is required."))
        stock = match_image(None, aspect if aspect and ":" in str(aspect) else None)
        answer: dict[str, Any]
        if verb == "predict":
            if moderated:
                answer = {"predictions": [{"raiFilteredReason": "The prompt was blocked by our safety filters."}]}
            else:
                answer = {"predictions": [{"bytesBase64Encoded": _b64(stock.path), "mimeType": "image/png"}] * count}
        elif moderated and scenario.submit_error == "moderation":
            answer = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "responseId": job.id}
        elif moderated:
            answer = {"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "IMAGE_SAFETY"}],
                      "responseId": job.id}
        else:
            image = {"inlineData": {"mimeType": "image/png", "data": _b64(stock.path)}}
            answer = {
                "candidates": [{"content": {"role": "model", "parts": [{"text": "Here is your image."}, image]},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 1290, "totalTokenCount": 1298},
                "modelVersion": route.group("model"),
                "responseId": job.id,
            }
        return self._with_latency(job, SimResponse(200, answer))

    # -- shared --------------------------------------------------------------------------
    def _job(self, job_id: str) -> Job | None:
        job = self.sim.job(job_id)
        return job if job is not None and job.provider == self.name else None

    @staticmethod
    def _latency(job: Job) -> dict[str, str]:
        return {"x-sim-latency": str(job.scenario.latency)} if job.scenario.latency else {}

    def _with_latency(self, job: Job, response: SimResponse) -> SimResponse:
        response.headers.update(self._latency(job))
        return response

    def _submit_error(self, job: Job, vertex: bool, *, video: bool) -> SimResponse | None:
        failure = job.scenario.submit_error
        if failure is None:
            return None
        if failure == "validation":
            response = _error(400, "Request contains an invalid argument.", [
                {"@type": "type.googleapis.com/google.rpc.BadRequest",
                 "fieldViolations": [{"field": "parameters.durationSeconds", "description": "out of range"}]},
            ])
        elif failure == "moderation":  # the image endpoints answer moderation in the body instead
            response = _error(400, "The prompt could not be submitted: it violates Google's usage guidelines.")
        elif failure == "auth":
            response = (
                _error(401, "Request had invalid authentication credentials.")
                if vertex
                else _error(403, "The caller does not have permission.")
            )
        elif failure == "rate_limit":
            response = self.rate_limited(job.scenario.retry_after)
        else:
            response = self.server_error()
        return self._with_latency(job, response)

    def rate_limited(self, retry_after: float | None) -> SimResponse:
        details = [{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}]}]
        if retry_after is not None:
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after:g}s"})
        return _error(429, "Resource has been exhausted (e.g. check quota).", details)

    def server_error(self) -> SimResponse:
        return _error(500, "Internal error encountered.")
