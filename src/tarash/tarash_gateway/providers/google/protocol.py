"""The Gemini API and Vertex AI generation endpoints as one sans-I/O protocol.

It picks the surface (`surface`) and the family's mapping (`specs`), and hands each
answer to its family (`veo`, `images`); HTTP error answers are classified here.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ... import exceptions as exc
from ...call import Call
from ...flow import Flow
from ..base import HttpProvider, Job, ProviderProtocol, http_error, parse_retry_after
from ..mapping import ModelSpec, find_spec, map_request, strict_fields
from . import surface
from .images import gemini_image_body, image_result
from .specs import GEMINI_IMAGE, GEMINI_SPECS, VERTEX_SPECS
from .veo import operation, video_inputs, video_result
from .wire import elide, place_extras, says_moderation

if TYPE_CHECKING:
    import httpx

__all__ = ["ADAPTER", "GoogleProtocol"]


class GoogleProtocol(ProviderProtocol):
    """The Gemini API and Vertex AI generation endpoints as a sans-I/O protocol."""

    name = "google"
    default_base_url = surface.GEMINI_BASE_URL

    def vertex(self, call: Call) -> tuple[str, str] | None:
        """`(project, location)` when the call goes to Vertex AI, else `None`."""
        return surface.vertex(call)

    def base_url(self, call: Call) -> str:
        return surface.base_url(call)

    def headers(self, call: Call) -> dict[str, str]:
        return surface.headers(call)

    def spec(self, call: Call) -> ModelSpec:
        """The mapping of the call's model on its surface (a `base_model` may lend one)."""
        specs = VERTEX_SPECS if self.vertex(call) is not None else GEMINI_SPECS
        for model in (surface.model_id(call), call.config.provider_config.get("base_model")):
            if not model:
                continue
            model = str(model)
            if call.kind == "image" and model.startswith("gemini") and "image" in model:
                return next(s for s in specs if s.model == GEMINI_IMAGE)
            spec = find_spec(specs, model, call.kind)
            if spec is not None:
                return spec
        known = ", ".join(sorted({s.model for s in specs if s.kind == call.kind}))
        raise surface.invalid(
            call,
            f"not a known Google {call.kind} model (families: {known}); "
            "provider_config={'base_model': <known id>} borrows a family's mapping",
        )

    def prepare(self, call: Call) -> Flow[dict[str, Any]]:
        surface.check_auth(call)
        spec = self.spec(call)
        request = call.request
        bare = request.model_copy(update={"extra_params": {}})
        payload = map_request(
            spec, bare, provider=self.name, model=call.config.model, reads=("image_list", "video"),
            strict=strict_fields(call.config),
        )
        vertex = self.vertex(call) is not None
        if spec.model == GEMINI_IMAGE:
            body = yield from gemini_image_body(call, payload, vertex)
            place_extras(body, request.extra_params, ("generationConfig", "imageConfig"))
            return {"path": surface.path(call, "generateContent"), "json": body}
        instance = payload.get("instances[0]", {})
        parameters = payload.get("parameters", {})
        if call.kind == "video":
            yield from video_inputs(call, spec, instance, vertex)
            verb = "predictLongRunning"
        else:
            verb = "predict"
        body = {"instances": [instance], "parameters": parameters}
        place_extras(body, request.extra_params, ("parameters",))
        if not vertex and "storageUri" in body["parameters"]:
            raise surface.invalid(call, "storage_uri (output to GCS) needs Vertex AI")
        return {"path": surface.path(call, verb), "json": body}

    # -- submit / poll / result ----------------------------------------------------------
    def submit(self, call: Call, payload: dict[str, Any]) -> httpx.Request:
        return self.request(call, "POST", payload["path"], json=payload["json"])

    def parse_submit(self, call: Call, response: httpx.Response) -> Job:
        body = self.json_object(call, response, "submit")
        if call.kind == "image":
            result = image_result(call, body, gemini=self.spec(call).model == GEMINI_IMAGE)
            return Job(id=result.request_id, status="completed", data=body, result=result)
        name = self.job_id(call, body, "name", "an operation name", shown=elide(body))
        try:
            sent = json.loads(response.request.content or b"{}")
        except ValueError:
            sent = {}
        job = Job(id=str(name), status="queued", data={"sent": elide(sent)})
        return operation(call, job, body, submitted=True) if body.get("done") else job

    def poll(self, call: Call, job: Job) -> httpx.Request:
        if self.vertex(call) is None:
            return self.request(call, "GET", job.id)
        model_path = job.id.split("/operations/")[0]
        return self.request(call, "POST", f"{model_path}:fetchPredictOperation", json={"operationName": job.id})

    def parse_poll(self, call: Call, job: Job, response: httpx.Response) -> Job:
        return operation(call, job, self.json_object(call, response, "poll"))

    def cancel(self, call: Call, job: Job) -> httpx.Request:
        return self.request(call, "POST", f"{job.id}:cancel", json={})

    def fetch_result(self, call: Call, job: Job) -> httpx.Request | None:
        if call.kind == "image":
            return None
        video = job.data["video"]
        if video.get("uri") and call.config.provider_config.get("download_video", True):
            return self.request(call, "GET", str(video["uri"]))
        return None

    def parse_result(self, call: Call, job: Job, response: httpx.Response | None) -> Any:
        if call.kind == "image":
            return super().parse_result(call, job, response)
        return video_result(call, job, response)

    # -- errors --------------------------------------------------------------------------
    def error(self, call: Call, response: httpx.Response, phase: str) -> exc.TarashException:
        mapped = http_error(self.name, call.config.model, response, phase)
        body = (mapped.raw_response or {}).get("body")
        where: exc.ErrorContext = {"provider": self.name, "model": call.config.model, "raw_response": mapped.raw_response}
        code = response.status_code
        if code == 429 and isinstance(mapped, exc.RateLimitError):
            header = response.headers.get("retry-after")
            mapped.retry_after = parse_retry_after(response) if header else _retry_delay(body)
            return mapped
        if code == 400 and _is_key_invalid(body):
            return exc.HTTPError(f"{mapped.message} (authentication)", status_code=code, **where)
        error = body.get("error") if isinstance(body, dict) else None
        if code in (400, 422) and isinstance(error, dict) and says_moderation(error.get("message")):
            return exc.ContentModerationError(mapped.message, **where)
        return mapped


def _retry_delay(body: Any) -> float | None:
    """Seconds from a google.rpc.RetryInfo `retryDelay` (`"27s"`, `"1.5s"`)."""
    error = body.get("error") if isinstance(body, dict) else None
    for detail in (error or {}).get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)s\s*", str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _is_key_invalid(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return False
    reasons = {str(d.get("reason")) for d in error.get("details") or [] if isinstance(d, dict)}
    return "API_KEY_INVALID" in reasons or "api key not valid" in str(error.get("message", "")).lower()


ADAPTER = HttpProvider(GoogleProtocol())
