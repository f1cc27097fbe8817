"""Runway's task API on the simulator (`sim.base_url("runway")`).

Routes: `POST /v1/{text_to_video,image_to_video,video_to_video,text_to_image}` ->
`{"id"}` (a `text_to_image` task's output is a stock PNG);
`GET /v1/tasks/{id}` -> the task (advances the job one step); `DELETE
/v1/tasks/{id}` -> 204 (the task then reads `CANCELLED`).

Phase faults: a 429 or 500 on a task poll, a dropped connection, a forgotten task
(404); an expired output URL answers 403 (Runway's URLs are signed and expire).

Like Runway, a request without `X-Runway-Version` or with snake_case body keys is a
400 with zod-style `issues`, and one without a bearer token is a 401. Scenarios:

- queue polls read `THROTTLED` while more than one queue poll is left, then `PENDING`;
- run polls read `RUNNING` with `progress` 0-1; the outcome is `SUCCEEDED` with
  `output: [<stock video URL>]`;
- `submit_error`: validation -> 400 `issues`; auth -> 401; rate_limit -> 429 (with
  `Retry-After` when the scenario has one); server_error -> 500. `moderation` is
  not an HTTP error at Runway: the task is created and its first poll reads
  `FAILED` with `failureCode: SAFETY.INPUT.TEXT`;
- `fail_after_polls`: `FAILED` with `INTERNAL.BAD_OUTPUT.CODE01`, or
  `SAFETY.OUTPUT.VIDEO` when `job_error="moderation"`.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

from .base import Host, Job, SimRequest, SimResponse, SimulatedProvider

__all__ = ["RunwaySimulator"]

_SUBMIT = re.compile(r"^/v1/(text_to_video|image_to_video|video_to_video|text_to_image)$")
_TASK = re.compile(r"^/v1/tasks/([^/]+)$")
_SNAKE = ("prompt_text", "prompt_image", "video_uri", "content_moderation", "negative_prompt")


class RunwaySimulator(SimulatedProvider):
    """Runway's task API (see the module docstring)."""

    name = "runway"

    def __init__(self, sim: Host) -> None:
        super().__init__(sim)
        self._created: dict[str, str] = {}

    def handle(self, request: SimRequest) -> SimResponse:
        if "x-runway-version" not in request.headers:
            return SimResponse(400, {"error": "You must provide a valid X-Runway-Version header"})
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return SimResponse(401, {"error": "Missing or invalid API key"})
        submit = _SUBMIT.match(request.path)
        if submit and request.method == "POST":
            return self._submit(submit.group(1), request)
        task = _TASK.match(request.path)
        if task:
            job = self.sim.job(task.group(1))
            if job is None or job.provider != self.name:
                return SimResponse(404, {"error": "Task not found"})
            if request.method == "GET":
                return self._task(job)
            if request.method == "DELETE":
                job.cancelled = True
                return SimResponse(204, None, _latency(job))
        return SimResponse(405 if task or submit else 404, {"error": f"no route {request.method} {request.path}"})

    def _submit(self, endpoint: str, request: SimRequest) -> SimResponse:
        try:
            body = request.json()
        except ValueError:
            return SimResponse(400, {"error": "Body is not valid JSON"})
        if not isinstance(body, dict):
            return SimResponse(400, {"error": "Body must be a JSON object"})
        kind = "image" if endpoint == "text_to_image" else "video"
        job = self.new_job(kind, body.get("promptText"), {"endpoint": endpoint, **body})
        self._created[job.id] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        headers = _latency(job)
        failure = job.scenario.submit_error
        snake = [key for key in _SNAKE if key in body]
        if failure == "validation" or snake or "model" not in body:
            issues = [{"code": "unrecognized_keys", "path": [key], "message": f"Unrecognized key: {key}"} for key in snake]
            if "model" not in body:
                issues.append({"code": "invalid_union", "path": ["model"], "message": "Required"})
            if not issues:
                issues = [{"code": "invalid_value", "path": ["ratio"], "message": "Invalid option: expected one of ..."}]
            body_out = {"error": "Validation of body failed", "issues": issues, "docUrl": "https://docs.dev.runwayml.com/api"}
            return SimResponse(400, body_out, headers)
        if failure == "auth":
            return SimResponse(401, {"error": "Invalid API key"}, headers)
        if failure in ("rate_limit", "server_error"):
            answer = self.rate_limited(job.scenario.retry_after) if failure == "rate_limit" else self.server_error()
            answer.headers.update(headers)
            return answer
        return SimResponse(200, {"id": job.id}, headers)

    def rate_limited(self, retry_after: float | None) -> SimResponse:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        return SimResponse(429, {"error": "You have exceeded the rate limit"}, headers)

    def server_error(self) -> SimResponse:
        return SimResponse(500, {"error": "Internal server error"})

    def _task(self, job: Job) -> SimResponse:
        job.advance()
        task: dict[str, Any] = {"id": job.id, "createdAt": self._created.get(job.id, "")}
        state = job.state
        if job.scenario.submit_error == "moderation" and state != "cancelled":
            task.update(status="FAILED", failure="The prompt was flagged by content moderation.",
                        failureCode="SAFETY.INPUT.TEXT")
        elif state == "queued":
            task["status"] = "THROTTLED" if job.queue_position > 0 else "PENDING"
        elif state == "processing":
            task.update(status="RUNNING", progress=round(job.progress / 100, 2))
        elif state == "completed":
            task.update(status="SUCCEEDED", output=[self._output_url(job)])
        elif state == "failed":
            if job.scenario.job_error == "moderation":
                task.update(status="FAILED", failure="The output was flagged by content moderation.",
                            failureCode="SAFETY.OUTPUT.VIDEO")
            else:
                task.update(status="FAILED", failure="An unexpected error occurred.",
                            failureCode="INTERNAL.BAD_OUTPUT.CODE01")
        else:
            task["status"] = "CANCELLED"
        return SimResponse(200, task, _latency(job))

    def _output_url(self, job: Job) -> str:
        payload = job.payload if isinstance(job.payload, dict) else {}
        try:
            width, height = (int(x) for x in str(payload.get("ratio", "1280:720")).split(":"))
        except ValueError:
            width, height = 1280, 720
        aspect = "16:9" if width > height * 1.2 else "9:16" if height > width * 1.2 else "1:1"
        short = min(width, height)
        resolution = "1080p" if short >= 1000 else "480p" if short <= 500 else "720p"
        hint = {"aspect_ratio": aspect, "resolution": resolution}
        if job.kind == "image":
            hint = {"size": f"{width}x{height}"}
        return self.media_url(job.kind, dataclasses.replace(job, payload=hint))


def _latency(job: Job) -> dict[str, str]:
    return {"x-sim-latency": str(job.scenario.latency)}
