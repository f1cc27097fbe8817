"""xAI's image and video REST endpoints on the simulator (`sim.base_url("xai")`).

Routes:

- `POST /v1/images/generations` and `/v1/images/edits`: synchronous, `{"data": [...]}`
  with `n` items, each a stock image `url` (or `b64_json` when asked) plus
  `revised_prompt` and `respect_moderation`;
- `POST /v1/videos/generations` and `/v1/videos/edits` -> `{"request_id"}`;
- `GET /v1/videos/{request_id}`: advances the job; queue polls answer 202 with an
  empty body, run polls 202 `{"status": "pending"}`, then 200 `done` with
  `video.url` (a stock video), `duration` and `respect_moderation: true`.

There is no cancel route (xAI has none): `DELETE` answers 405. A request without a
bearer token gets xAI's answer to a bad key: 400 "Incorrect API key provided".

Phase faults: a 429 or 500 on a video poll, a dropped connection, a forgotten request
(404); an expired video URL answers 404.

Scenarios: `submit_error` validation -> 422; moderation -> 400 whose error says the
content was rejected by moderation; auth -> 401; rate_limit -> 429 with gRPC's
"Some resource has been exhausted" code (`Retry-After` when the scenario has one);
server_error -> 500. `fail_after_polls`: `failed` with `error.code
internal_error`, or (`job_error="moderation"`) `done` with
`respect_moderation: false` and no URL. Synchronous image calls apply the outcome at
once: moderation -> items with `respect_moderation: false`, failed -> 500.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from typing import Any

from ..mock.stock import STOCK_DIR, match_image
from .base import Job, SimRequest, SimResponse, SimulatedProvider

__all__ = ["XAISimulator"]

_SUBMIT = re.compile(r"^/v1/(images|videos)/(generations|edits)$")
_VIDEO = re.compile(r"^/v1/videos/([^/]+)$")


def _error(status: int, code: str, message: str, headers: dict[str, str]) -> SimResponse:
    return SimResponse(status, {"code": code, "error": message}, headers)


class XAISimulator(SimulatedProvider):
    """xAI's REST media endpoints (see the module docstring)."""

    name = "xai"

    def handle(self, request: SimRequest) -> SimResponse:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return _error(400, "Client specified an invalid argument",
                          "Incorrect API key provided: ***. You can obtain an API key from https://console.x.ai.", {})
        submit = _SUBMIT.match(request.path)
        if submit and request.method == "POST":
            return self._submit(submit.group(1), submit.group(2), request)
        video = _VIDEO.match(request.path)
        if video and request.method == "GET":
            job = self.sim.job(video.group(1))
            if job is None or job.provider != self.name:
                return _error(404, "Some requested entity was not found", f"No video request {video.group(1)}", {})
            return self._video(job)
        if video or submit:
            return _error(405, "Method not allowed", f"{request.method} is not allowed here", {})
        return _error(404, "Not found", f"no route {request.method} {request.path}", {})

    def _submit(self, kind: str, action: str, request: SimRequest) -> SimResponse:
        try:
            body = request.json()
        except ValueError:
            return _error(400, "Client specified an invalid argument", "Body is not valid JSON", {})
        if not isinstance(body, dict):
            return _error(422, "Unprocessable entity", "Body must be a JSON object", {})
        job = self.new_job("image" if kind == "images" else "video", body.get("prompt"), {"action": action, **body},
                           synchronous=kind == "images")
        scenario = job.scenario
        headers = {"x-request-id": job.id, "x-sim-latency": str(scenario.latency)}
        failure = scenario.submit_error
        if failure == "validation" or not body.get("prompt") or not body.get("model"):
            return _error(422, "Unprocessable entity", "Failed to deserialize the JSON body: missing field `prompt`", headers)
        if failure == "moderation":
            return _error(400, "Client specified an invalid argument",
                          "Generated content was rejected by content moderation.", headers)
        if failure == "auth":
            return _error(401, "Unauthenticated", "The API key is not valid", headers)
        if failure in ("rate_limit", "server_error"):
            answer = self.rate_limited(scenario.retry_after) if failure == "rate_limit" else self.server_error()
            answer.headers.update(headers)
            return answer
        if kind == "videos":
            return SimResponse(200, {"request_id": job.id}, headers)
        return self._images(job, body, headers)

    def rate_limited(self, retry_after: float | None) -> SimResponse:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        return _error(429, "Some resource has been exhausted", "Too many requests: rate limit reached", headers)

    def server_error(self) -> SimResponse:
        return _error(500, "Internal error", "The service failed; try again later", {})

    def _images(self, job: Job, body: dict[str, Any], headers: dict[str, str]) -> SimResponse:
        scenario = job.scenario
        if scenario.fail_after_polls is not None and scenario.job_error == "failed":
            return _error(500, "Internal error", "Image generation failed", headers)
        moderated = scenario.fail_after_polls is not None
        aspect = body.get("aspect_ratio") if ":" in str(body.get("aspect_ratio", "")) else None
        stock = match_image(None, aspect)
        items = []
        for _ in range(int(body.get("n") or 1)):
            item: dict[str, Any] = {"revised_prompt": f"A detailed rendering of {body.get('prompt')}",
                                    "respect_moderation": not moderated}
            if body.get("response_format") == "b64_json":
                item["b64_json"] = base64.b64encode((STOCK_DIR / stock.file).read_bytes()).decode("ascii")
            else:
                item["url"] = self.stock_url(stock.file, job)
            items.append(item)
        return SimResponse(200, {"data": items, "usage": {"cost_in_usd_ticks": 200000000}}, headers)

    def _video(self, job: Job) -> SimResponse:
        job.advance()
        headers = {"x-sim-latency": str(job.scenario.latency)}
        state = job.state
        payload = job.payload if isinstance(job.payload, dict) else {}
        model = payload.get("model", "grok-imagine-video")
        if state == "queued":
            return SimResponse(202, None, headers)
        if state == "processing":
            return SimResponse(202, {"status": "pending"}, headers)
        if state == "failed" and job.scenario.job_error == "moderation":
            video = {"url": "", "duration": 0, "respect_moderation": False}
            return SimResponse(200, {"status": "done", "model": model, "video": video}, headers)
        if state == "failed":
            error = {"code": "internal_error", "message": "Video generation failed"}
            body = {"status": "failed", "model": "", "video": {"duration": 0, "respect_moderation": True}, "error": error}
            return SimResponse(200, body, headers)
        hint = {"aspect_ratio": payload.get("aspect_ratio"), "resolution": payload.get("resolution")}
        url = self.media_url("video", dataclasses.replace(job, payload=hint))
        video = {"url": url, "duration": payload.get("duration") or 8, "respect_moderation": True}
        body = {"status": "done", "model": model, "video": video, "usage": {"cost_in_usd_ticks": 500000000}}
        return SimResponse(200, body, headers)
