"""Replicate's predictions API, simulated (mounted at `/replicate`).

A config's `base_url` is `sim.base_url("replicate")`; it stands for
`https://api.replicate.com/v1`, so routes are served with or without a `/v1` prefix:

- `POST /models/{owner}/{name}/predictions` `{"input": ...}`,
  `POST /predictions` `{"version": ..., "input": ...}` and
  `POST /deployments/{owner}/{name}/predictions`: 201 with the prediction
  (`status: starting`, `urls.get`/`urls.cancel` on this server);
- `GET /predictions/{id}`: advances the job one step: `starting`, then
  `processing` with tqdm-style progress lines in `logs`, then `succeeded` with
  `output` (a list of image URLs, or one video URL, on `/media/...`), or `failed`
  with an `error` (E005 moderation text, or an E1001 out-of-memory failure), or
  `canceled`;
- `POST /predictions/{id}/cancel`: 200 with the prediction, `status: canceled`;
- `GET /models/{owner}/{name}`: the model, its `latest_version` included;
  `GET /models/{owner}/{name}/versions` and `.../versions/{id}`: its versions, each
  with an `openapi_schema` whose `Output` says a list of image URIs or one video URI
  (the replicate SDK reads it in `replicate.run`).

`Prefer: wait` (or `wait=N`, 1-60 seconds, 60 when bare) on a submit blocks like
Replicate does: the job advances (one step per `ReplicateSimulator.wait_step`
seconds) until it finishes or the wait runs out, and the 201 carries the prediction as
it then is: `succeeded` with its output, or still `starting`/`processing` (a
`stuck` job holds the answer the whole wait).

Output URLs are on the listener the request came through: over the TLS listener they
are `https://`, which the replicate SDK turns into `FileOutput` objects.

Phase faults: a 429 or 500 on a prediction poll, a dropped connection, a forgotten
prediction (404); Replicate has no result fetch (the output is on the prediction). An
expired output URL answers 404.

Scenarios answer the submit with: validation 422 (problem details + `invalid_fields`),
auth 401 (`Unauthenticated`, as recorded from the real API), rate_limit 429 (+
`Retry-After` when the scenario has one), server_error 500. `moderation` at submit is
a 201 whose prediction has already `failed` with E005 (Replicate moderates in the run,
not at the door). A request without `Authorization: Bearer|Token ...` gets 401.

Video or image? From the model name when there is one (`video`, kling, minimax,
hailuo, luma, wan, veo, seedance), else from the input (`duration`, `num_frames`,
`start_image`, ...).
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime
from typing import Any

from ..mock.stock import match_image, match_video
from .base import Host, Job, SimRequest, SimResponse, SimulatedProvider

__all__ = ["ReplicateSimulator"]

_VIDEO_WORDS = ("video", "kling", "minimax", "hailuo", "luma", "wan", "veo", "seedance", "ray")
_VIDEO_INPUTS = ("duration", "num_frames", "start_image", "first_frame_image", "last_frame", "generate_audio", "fps")
_TOTAL_STEPS = 50
_PREFER_WAIT = re.compile(r"^wait(?:=(\d+))?$")
_E005 = "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"


def _kind(model: str | None, payload: dict[str, Any]) -> str:
    if model and any(word in model.lower() for word in _VIDEO_WORDS):
        return "video"
    return "video" if any(key in payload for key in _VIDEO_INPUTS) else "image"


def _tqdm(percent: int) -> str:
    done = _TOTAL_STEPS * percent // 100
    bar = ("█" * (percent // 10)).ljust(10)
    return f"{percent:3d}%|{bar}| {done}/{_TOTAL_STEPS} [00:01<00:02, 16.50it/s]"


class ReplicateSimulator(SimulatedProvider):
    """Replicate's predictions protocol on the loopback simulator."""

    name = "replicate"
    #: seconds between two steps of a job while a `Prefer: wait` submit blocks.
    wait_step = 0.01

    def __init__(self, sim: Host) -> None:
        super().__init__(sim)
        self._meta: dict[str, dict[str, Any]] = {}  # job id -> model, version, created_at

    def handle(self, request: SimRequest) -> SimResponse:
        if not request.headers.get("authorization", "").startswith(("Bearer ", "Token ")):
            return self._problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        path = request.path.removeprefix("/v1")
        parts = [p for p in path.split("/") if p]
        if request.method == "POST" and len(parts) == 4 and parts[0] in ("models", "deployments") \
                and parts[3] == "predictions":
            return self._submit(request, model=f"{parts[1]}/{parts[2]}")
        if request.method == "POST" and parts == ["predictions"]:
            return self._submit(request, model=None)
        if request.method == "GET" and len(parts) in (3, 4, 5) and parts[0] == "models":
            return self._model_route(parts[1:])
        if len(parts) >= 2 and parts[0] == "predictions":
            job = self.sim.job(parts[1])
            if job is None or job.provider != self.name:
                return self._problem(404, "Not found", "The requested resource could not be found.")
            if request.method == "GET" and len(parts) == 2:
                if job.state not in ("completed", "failed", "cancelled"):
                    job.advance()
                return SimResponse(200, self._prediction(job), self._latency(job))
            if request.method == "POST" and parts[2:] == ["cancel"]:
                if job.state not in ("completed", "failed"):
                    job.cancelled = True
                return SimResponse(200, self._prediction(job), self._latency(job))
        return self._problem(404, "Not found", f"no route for {request.method} {request.path}")

    # -- routes --------------------------------------------------------------------------
    def _submit(self, request: SimRequest, model: str | None) -> SimResponse:
        try:
            body = request.json()
        except ValueError:
            return self._problem(400, "Invalid JSON", "The request body is not valid JSON.")
        body = body if isinstance(body, dict) else {}
        version = body.get("version")
        if model is None and not version:
            return self._problem(422, "Invalid version or not permitted", "- version: is required")
        payload = body.get("input")
        payload = payload if isinstance(payload, dict) else {}
        job = self.new_job(_kind(model, payload), payload.get("prompt"), payload)
        headers = self._latency(job)
        failure = job.scenario.submit_error
        if failure == "validation":
            detail = "- input.duration: duration must be one of the following: 5, 10"
            return self._problem(422, "Input validation failed", detail, headers,
                                 invalid_fields=[{"type": "enum", "field": "input.duration", "description": detail}])
        if failure == "auth":
            return self._problem(401, "Unauthenticated", "You did not pass a valid authentication token", headers)
        if failure in ("rate_limit", "server_error"):
            answer = self.rate_limited(job.scenario.retry_after) if failure == "rate_limit" else self.server_error()
            answer.headers.update(headers)
            return answer
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        self._meta[job.id] = {"model": model or "unknown/pinned", "version": version or "hidden", "created_at": now}
        if failure != "moderation":
            self._wait(job, request)
        prediction = self._prediction(job)
        if failure == "moderation":
            prediction.update(status="failed", error=_E005)
        return SimResponse(201, prediction, {**headers, "ratelimit-remaining": "599", "ratelimit-reset": "1"})

    def rate_limited(self, retry_after: float | None) -> SimResponse:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        return self._problem(429, "Too Many Requests", "Request was throttled. Your rate limit resets in ~30s.", headers)

    def server_error(self) -> SimResponse:
        return self._problem(500, "Internal Server Error", "Something went wrong on our side.")

    def _wait(self, job: Job, request: SimRequest) -> None:
        """Block a `Prefer: wait` submit until the job finishes or the wait runs out."""
        seconds = _prefer_wait(request.headers.get("prefer", ""))
        if seconds is None:
            return
        deadline = time.monotonic() + seconds
        while not job.finished and time.monotonic() < deadline:
            time.sleep(self.wait_step)
            job.advance()

    def _model_route(self, parts: list[str]) -> SimResponse:
        owner, name, rest = parts[0], parts[1], parts[2:]
        model = f"{owner}/{name}"
        latest = _version(model, _version_id(model))
        if not rest:
            return SimResponse(200, {
                "url": f"https://replicate.com/{model}", "owner": owner, "name": name,
                "description": f"{model} on the tarash provider simulator", "visibility": "public",
                "github_url": None, "paper_url": None, "license_url": None, "run_count": len(self.own_jobs()),
                "cover_image_url": None, "default_example": None, "latest_version": latest,
            })
        if rest == ["versions"]:
            return SimResponse(200, {"next": None, "previous": None, "results": [latest]})
        if rest[0] == "versions" and len(rest) == 2:
            return SimResponse(200, _version(model, rest[1]))
        return self._problem(404, "Not found", f"no route for GET /models/{'/'.join(parts)}")

    def _prediction(self, job: Job) -> dict[str, Any]:
        meta = self._meta.get(job.id, {})
        base = f"{self.base_url()}/predictions/{job.id}"
        state = job.state
        prediction: dict[str, Any] = {
            "id": job.id,
            "model": meta.get("model"),
            "version": meta.get("version"),
            "input": job.payload,
            "logs": "",
            "output": None,
            "data_removed": False,
            "error": None,
            "status": "starting",
            "created_at": meta.get("created_at"),
            "urls": {"get": base, "cancel": f"{base}/cancel"},
        }
        if state == "queued":
            return prediction
        lines = ["Using seed: 1", f"Prompt: {(job.payload or {}).get('prompt', '')}"]
        lines += [_tqdm(p) for p in [*range(0, job.progress, 10), job.progress]]
        prediction["logs"] = "\n".join(lines) + "\n"
        if state == "processing":
            prediction["status"] = "processing"
        elif state == "completed":
            prediction.update(status="succeeded", output=self._output(job), metrics={"predict_time": 0.1 * job.polls})
        elif state == "failed":
            moderated = job.scenario.job_error == "moderation"
            error = _E005 if moderated else "CUDA out of memory. Try a smaller input. (E1001)"
            prediction.update(status="failed", error=error)
        else:  # cancelled
            prediction.update(status="canceled", metrics={"predict_time": 0.1 * job.polls})
        return prediction

    def _output(self, job: Job) -> Any:
        payload = job.payload if isinstance(job.payload, dict) else {}
        if job.kind == "video":
            seconds = payload.get("duration") or (payload.get("num_frames") or 0) / 24 or None
            item = match_video(payload.get("aspect_ratio"), payload.get("resolution"), seconds)
            return self.stock_url(item.file, job)
        size = f"{payload['width']}x{payload['height']}" if payload.get("width") and payload.get("height") else None
        aspect = payload.get("aspect_ratio") if ":" in str(payload.get("aspect_ratio", "")) else None
        stock = match_image(size, aspect)
        return [self.stock_url(stock.file, job)] * int(payload.get("num_outputs") or 1)

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _latency(job: Job) -> dict[str, str]:
        return {"x-sim-latency": str(job.scenario.latency)} if job.scenario.latency > 0 else {}

    @staticmethod
    def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None,
                 **extra: Any) -> SimResponse:
        body = {"title": title, "detail": detail, "status": status, **extra}
        return SimResponse(status, body, {**(headers or {}), "content-type": "application/problem+json"})


def _prefer_wait(header: str) -> float | None:
    """The seconds a `Prefer` header asks a submit to block (`None`: do not block)."""
    for preference in header.replace(" ", "").split(","):
        match = _PREFER_WAIT.match(preference)
        if match:
            return float(min(max(int(match.group(1) or 60), 1), 60))
    return None


def _version_id(model: str) -> str:
    return hashlib.sha256(model.encode()).hexdigest()


def _version(model: str, version_id: str) -> dict[str, Any]:
    """A model version whose OpenAPI schema says what the model outputs."""
    uri = {"type": "string", "format": "uri"}
    output = uri if _kind(model, {}) == "video" else {"type": "array", "items": uri}
    schema_input = {"type": "object", "required": ["prompt"], "properties": {"prompt": {"type": "string"}}}
    return {
        "id": version_id,
        "created_at": "2025-01-01T00:00:00.000000Z",
        "cog_version": "0.13.7",
        "openapi_schema": {
            "openapi": "3.0.2",
            "info": {"title": "Cog", "version": "0.1.0"},
            "components": {"schemas": {"Input": schema_input, "Output": {"title": "Output", **output}}},
        },
    }
