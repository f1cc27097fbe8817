"""Stability's v2beta stable-image generate endpoints on the simulator.

Routes: `POST /v2beta/stable-image/generate/{sd3,ultra,core}`, synchronous. Like the
real API, the body must be `multipart/form-data` (anything else is a 400, which is
what upstream's url-encoded form would get), `prompt` is required, and a bearer
token is required (401). `Accept: application/json` answers `{"image": <base64>,
"finish_reason", "seed"}` with `content-type: application/json; type=image/png`;
any other `Accept` answers the PNG bytes with `finish-reason` and `seed` headers.
Every answer carries `x-request-id` (the job id).

Scenarios (a synchronous API has no polls, so a job's whole life is this one answer):
`submit_error` validation -> 400 `bad_request`, moderation -> 403
`content_moderation`, auth -> 401, rate_limit -> 429 (`Retry-After` when the
scenario has one), server_error -> 500; `fail_after_polls` set -> 200 with
`finish_reason: CONTENT_FILTERED` when `job_error="moderation"`, else 500
`internal_error`; `stuck` -> the answer is held for 10 s (a client deadline shorter
than that times out); `latency` delays the answer.
"""

from __future__ import annotations

import base64
import re
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from ..mock.stock import STOCK_DIR, match_image
from .base import Job, SimRequest, SimResponse, SimulatedProvider

__all__ = ["StabilitySimulator"]

_ROUTE = re.compile(r"^/v2beta/stable-image/generate/(sd3|ultra|core)$")
STUCK_SECONDS = 10.0


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]] | None:
    """The text fields and the files of a `multipart/form-data` body (`None` if it is not one)."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    if not message.is_multipart():
        return None
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)  # bytes or None for a non-multipart part
        data = payload if isinstance(payload, bytes) else b""
        if not name:
            continue
        if part.get_filename():
            files[str(name)] = data
        else:
            fields[str(name)] = data.decode("utf-8", "replace")
    return fields, files


def _error(status: int, name: str, message: str, job_id: str, headers: dict[str, str]) -> SimResponse:
    return SimResponse(status, {"id": job_id, "name": name, "errors": [message]}, headers)


class StabilitySimulator(SimulatedProvider):
    """Stability's synchronous image endpoints (see the module docstring)."""

    name = "stability"

    def handle(self, request: SimRequest) -> SimResponse:
        route = _ROUTE.match(request.path)
        if route is None:
            return _error(404, "not_found", f"no route {request.method} {request.path}", "", {})
        if request.method != "POST":
            return _error(405, "method_not_allowed", "use POST", "", {})
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return _error(401, "unauthorized", "authorization: invalid or missing header value", "", {})
        parsed = parse_multipart(request.headers.get("content-type", ""), request.body)
        if parsed is None:
            return _error(400, "bad_request", "content-type: must be multipart/form-data", "", {})
        fields, files = parsed
        payload: dict[str, Any] = {"endpoint": route.group(1), **fields}
        payload.update({name: f"<{len(data)} bytes>" for name, data in files.items()})
        job = self.new_job("image", fields.get("prompt"), payload, synchronous=True)
        return self._answer(job, fields, request.headers.get("accept", ""))

    def rate_limited(self, retry_after: float | None) -> SimResponse:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        return _error(429, "rate_limit_exceeded", "You have exceeded the rate limit of 150 requests in 10 s", "", headers)

    def server_error(self) -> SimResponse:
        return _error(500, "internal_error", "An unexpected server error occurred.", "", {})

    def _answer(self, job: Job, fields: dict[str, str], accept: str) -> SimResponse:
        scenario = job.scenario
        headers = {"x-request-id": job.id, "x-sim-latency": str(STUCK_SECONDS if scenario.stuck else scenario.latency)}
        if not fields.get("prompt"):
            return _error(400, "bad_request", "prompt: cannot be empty", job.id, headers)
        failure = scenario.submit_error
        if failure == "validation":
            return _error(400, "bad_request", "aspect_ratio: must be one of the supported values", job.id, headers)
        if failure == "moderation":
            message = "Your request was flagged by our content moderation system."
            return _error(403, "content_moderation", message, job.id, headers)
        if failure == "auth":
            return _error(401, "unauthorized", "authorization: invalid API key", job.id, headers)
        if failure == "rate_limit":
            if scenario.retry_after is not None:
                headers["retry-after"] = f"{scenario.retry_after:g}"
            return _error(429, "rate_limit_exceeded", "You have exceeded the rate limit of 150 requests in 10 s", job.id, headers)
        if failure == "server_error" or (scenario.fail_after_polls is not None and scenario.job_error == "failed"):
            return _error(500, "internal_error", "An unexpected server error occurred.", job.id, headers)
        finish = "CONTENT_FILTERED" if scenario.fail_after_polls is not None else "SUCCESS"
        seed = int(fields.get("seed") or 0) or 1234567
        image = (STOCK_DIR / match_image(None, fields.get("aspect_ratio")).file).read_bytes()
        if "application/json" in accept:
            body = {"image": base64.b64encode(image).decode("ascii"), "finish_reason": finish, "seed": seed}
            headers["content-type"] = "application/json; type=image/png"
            return SimResponse(200, body, headers)
        headers.update({"content-type": "image/png", "finish-reason": finish, "seed": str(seed)})
        return SimResponse(200, image, headers)
