"""fal's queue API, simulated (mounted at `/fal`; a config's `base_url` is `sim.base_url("fal")`).

Routes, below the prefix:

- `POST /{owner}/{app}[/{path}]` submit: 200 `{request_id, status: IN_QUEUE,
  queue_position, status_url, response_url, cancel_url}` with absolute URLs on this server;
- `GET /{owner}/{app}/requests/{id}/status`: advances the job one step; 202 with
  `IN_QUEUE` (+ `queue_position`) or `IN_PROGRESS` (+ `logs` when `logs=1`),
  200 with `COMPLETED` (+ `error`/`error_type` for failed or cancelled jobs);
- `GET /{owner}/{app}/requests/{id}`: the output (`{"video": {...}}` or
  `{"images": [...]}`) pointing at `/media/...`; a moderated job answers 422 with a
  `content_policy_violation` detail, a failed one 500, an unfinished one 400;
- `PUT /{owner}/{app}/requests/{id}/cancel`: 202 `CANCELLATION_REQUESTED`, or 400
  `ALREADY_COMPLETED`, or 404;
- `POST /run/{owner}/{app}[/{path}]`: fal's synchronous run host (`fal.run`, which
  fal-client's `run` calls): the job runs to its end at once and the answer is its
  output, as `GET .../requests/{id}` would give it.

Phase faults: a 429 or 503 on a status poll or on the result fetch (`phase="result"`),
a dropped connection, a forgotten job (404 `Request not found`), `COMPLETED` with an
`error` (`completed_with_error`); an expired media URL answers 404.

Scenarios (`Scenario.submit_error`) answer the submit with: validation 422 `detail[]`,
moderation 422 `content_policy_violation`, auth 401, rate_limit 429 (+ `Retry-After`
when the scenario has one; fal documents none), server_error 503
`runner_scheduling_failure`. A request without `Authorization: Key ...` gets 401.

Video or image? Decided from the model id (fal has no `kind` field): ids naming a
video family (`video`, veo, sora, kling, minimax, wan, seedance, pixverse) are video,
the others image.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..mock.stock import match_image, match_video
from .base import Host, Job, SimRequest, SimResponse, SimulatedProvider

__all__ = ["FalSimulator"]

_VIDEO_WORDS = ("video", "veo", "sora", "kling", "minimax", "hailuo", "wan", "seedance", "pixverse")
_IMAGE_SIZES = {
    "square_hd": "1024x1024",
    "square": "512x512",
    "landscape_4_3": "1152x864",
    "landscape_16_9": "1344x756",
    "portrait_4_3": "864x1152",
    "portrait_16_9": "756x1344",
}
_MODERATION_DETAIL = {
    "loc": ["body", "prompt"],
    "msg": "The content was flagged by a content checker.",
    "type": "content_policy_violation",
    "url": "https://docs.fal.ai/errors#content_policy_violation",
}


def _kind(model: str) -> str:
    return "video" if any(word in model.lower() for word in _VIDEO_WORDS) else "image"


class FalSimulator(SimulatedProvider):
    """fal's queue protocol on the loopback simulator."""

    name = "fal"

    def __init__(self, sim: Host) -> None:
        super().__init__(sim)
        self._apps: dict[str, str] = {}  # job id -> owner/app

    def handle(self, request: SimRequest) -> SimResponse:
        if not request.headers.get("authorization", "").startswith("Key "):
            return SimResponse(401, {"detail": "Missing or invalid credentials: send 'Authorization: Key <FAL_KEY>'"})
        parts = [p for p in request.path.split("/") if p]
        if "requests" in parts[:-1]:
            at = parts.index("requests")
            job = self.sim.job(parts[at + 1])
            if job is None or job.provider != self.name:
                return SimResponse(404, {"detail": "Request not found"})
            tail = parts[at + 2 :]
            if request.method == "GET" and tail == ["status"]:
                return self._status(job, request)
            if request.method == "GET" and not tail:
                return self._result(job)
            if request.method == "PUT" and tail == ["cancel"]:
                return self._cancel(job)
            return SimResponse(405, {"detail": "Method not allowed"})
        if request.method == "POST" and len(parts) >= 3 and parts[0] == "run":
            return self._run("/".join(parts[1:]), request)
        if request.method == "POST" and len(parts) >= 2:
            return self._submit("/".join(parts), request)
        return SimResponse(404, {"detail": f"no route for {request.method} {request.path}"})

    # -- routes --------------------------------------------------------------------------
    def _submit(self, model: str, request: SimRequest, *, synchronous: bool = False) -> SimResponse:
        try:
            payload = request.json()
        except ValueError:
            return SimResponse(422, {"detail": [{"loc": ["body"], "msg": "invalid JSON", "type": "json_invalid"}]})
        payload = payload if isinstance(payload, dict) else {}
        job = self.new_job(_kind(model), payload.get("prompt"), payload, synchronous=synchronous)
        failure = self._submit_failure(job)
        if failure is not None:
            return failure
        app = "/".join(model.split("/")[: 3 if model.startswith(("workflows/", "comfy/")) else 2])
        self._apps[job.id] = app
        base = f"{self.base_url()}/{app}/requests/{job.id}"
        body = {
            "request_id": job.id,
            "status": "IN_QUEUE",
            "queue_position": job.queue_position,
            "response_url": base,
            "status_url": f"{base}/status",
            "cancel_url": f"{base}/cancel",
        }
        return SimResponse(200, body, self._latency(job))

    def _run(self, model: str, request: SimRequest) -> SimResponse:
        submitted = self._submit(model, request, synchronous=True)
        if submitted.status != 200:
            return submitted
        job = self.sim.job(submitted.body["request_id"])
        if job is None:  # lost at once (`job_lost` with no good poll)
            return SimResponse(404, {"detail": "Request not found"})
        while not job.finished and not job.scenario.stuck:
            job.advance()
        return self._result(job)

    def _submit_failure(self, job: Job) -> SimResponse | None:
        kind = job.scenario.submit_error
        if kind is None:
            return None
        headers = self._latency(job)
        if kind == "validation":
            detail = [{"loc": ["body", "duration"], "msg": "Input should be '5' or '10'", "type": "enum"}]
            return SimResponse(422, {"detail": detail}, {**headers, "x-fal-retryable": "false"})
        if kind == "moderation":
            return SimResponse(422, {"detail": [{**_MODERATION_DETAIL, "input": "…"}]}, headers)
        if kind == "auth":
            return SimResponse(401, {"detail": "Invalid API key"}, headers)
        answer = self.rate_limited(job.scenario.retry_after) if kind == "rate_limit" else self.server_error()
        answer.headers.update(headers)
        return answer

    def rate_limited(self, retry_after: float | None) -> SimResponse:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        return SimResponse(429, {"detail": "Concurrent request limit reached"}, headers)

    def server_error(self) -> SimResponse:
        return SimResponse(
            503,
            {"detail": "Runner scheduling failure", "error_type": "runner_scheduling_failure"},
            {"x-fal-error-type": "runner_scheduling_failure"},
        )

    def _status(self, job: Job, request: SimRequest) -> SimResponse:
        if job.state not in ("completed", "failed", "cancelled"):
            job.advance()
        state = job.state
        with_logs = request.query.get("logs", ["0"])[0].lower() in ("1", "true")
        body: dict[str, Any] = {"status": "IN_QUEUE", "response_url": f"{self._url(job)}"}
        headers = self._latency(job)
        if state == "queued":
            body["queue_position"] = job.queue_position
            return SimResponse(202, body, headers)
        logs = self._logs(job) if with_logs else None
        if state == "processing":
            return SimResponse(202, {**body, "status": "IN_PROGRESS", "logs": logs}, headers)
        body.update(status="COMPLETED", logs=logs, metrics={"inference_time": 0.1 * job.polls})
        body.update(error=None, error_type=None)
        if state == "failed" and job.scenario.job_error == "moderation":
            body.update(error=_MODERATION_DETAIL["msg"], error_type="content_policy_violation")
        elif state == "failed":
            body.update(error="Runner disconnected while processing the request", error_type="runner_disconnected")
        elif state == "cancelled":
            body.update(error="Request was cancelled", error_type="request_cancelled")
        return SimResponse(200, body, headers)

    def _result(self, job: Job) -> SimResponse:
        headers = self._latency(job)
        job.fault_at("result", before=job.state == "completed")
        state = job.state
        if state == "failed" and job.scenario.job_error == "moderation":
            return SimResponse(422, {"detail": [{**_MODERATION_DETAIL, "input": "…"}]}, headers)
        if state == "failed":
            return SimResponse(500, {"detail": "Runner disconnected", "error_type": "runner_disconnected"}, headers)
        if state == "cancelled":
            return SimResponse(400, {"detail": "Request was cancelled"}, headers)
        if state != "completed":
            return SimResponse(400, {"detail": "Request is still in progress"}, headers)
        payload = job.payload if isinstance(job.payload, dict) else {}
        if job.kind == "video":
            seconds = "".join(ch for ch in str(payload.get("duration") or "") if ch.isdigit() or ch == ".")
            item = match_video(payload.get("aspect_ratio"), payload.get("resolution"), float(seconds or 0) or None)
            url = self.stock_url(item.file, job)
            video = {"url": url, "content_type": "video/mp4", "file_name": url.rsplit("/", 1)[-1]}
            return SimResponse(200, {"video": video, "seed": payload.get("seed", 1)}, headers)
        width, height = self._image_size(payload)
        stock = match_image(f"{width}x{height}", None)
        url = self.stock_url(stock.file, job)
        count = int(payload.get("num_images") or 1)
        image = {"url": url, "width": stock.width, "height": stock.height, "content_type": stock.content_type}
        body = {"images": [image] * count, "seed": payload.get("seed", 1), "has_nsfw_concepts": [False] * count,
                "prompt": payload.get("prompt")}
        return SimResponse(200, body, headers)

    def _cancel(self, job: Job) -> SimResponse:
        if job.state in ("completed", "failed"):
            return SimResponse(400, {"status": "ALREADY_COMPLETED"}, self._latency(job))
        job.cancelled = True
        return SimResponse(202, {"status": "CANCELLATION_REQUESTED"}, self._latency(job))

    # -- helpers ---------------------------------------------------------------------------
    def _url(self, job: Job) -> str:
        return f"{self.base_url()}/{self._apps.get(job.id, 'fal-ai/unknown')}/requests/{job.id}"

    @staticmethod
    def _latency(job: Job) -> dict[str, str]:
        return {"x-sim-latency": str(job.scenario.latency)} if job.scenario.latency > 0 else {}

    @staticmethod
    def _logs(job: Job) -> list[dict[str, Any]]:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        steps = max(job.polls - job.scenario.queue_polls - job.scenario.stall_polls + 1, 0)
        return [{"message": f"step {i}", "level": "INFO", "source": "user", "timestamp": now}
                for i in range(1, steps + 1)]

    @staticmethod
    def _image_size(payload: dict[str, Any]) -> tuple[int, int]:
        size = payload.get("image_size")
        if isinstance(size, dict) and size.get("width") and size.get("height"):
            return int(size["width"]), int(size["height"])
        width, _, height = _IMAGE_SIZES.get(str(size), "1024x1024").partition("x")
        return int(width), int(height)
