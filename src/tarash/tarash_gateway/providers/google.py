"""Google (`provider="google"`): Veo videos, Imagen and Gemini image models.

Two surfaces, chosen by `provider_config`:

- **Gemini Developer API** (default). `base_url` replaces
  `https://generativelanguage.googleapis.com/v1beta`; auth `x-goog-api-key`
  (`config.api_key`, else `GEMINI_API_KEY`, else `GOOGLE_API_KEY`).
- **Vertex AI**, when `provider_config` has `project` (or `vertexai: True`); it
  then needs `project` and `location`. `base_url` replaces
  `https://{location}-aiplatform.googleapis.com/v1` (`location="global"`:
  `https://aiplatform.googleapis.com/v1`); paths are
  `projects/{p}/locations/{l}/publishers/google/models/{m}:<verb>`. Auth is
  `Authorization: Bearer <OAuth access token>` from `config.api_key` or
  `provider_config["access_token"]` (e.g. `gcloud auth print-access-token`).
  Without a Google auth library there is no Application Default Credentials or
  service-account flow: `credentials_path` with no token, or no token at all, is a
  `ValidationError`. Tokens expire (~1 h); refreshing them is the caller's job.

Endpoints:

- Veo: `POST models/{m}:predictLongRunning` (`instances`/`parameters`) ->
  `{"name": <operation>}`. Poll: Gemini `GET /{name}`; Vertex
  `POST models/{m}:fetchPredictOperation` `{"operationName"}`. On timeout:
  `POST /{name}:cancel` (google.longrunning's cancel; the SDK does not expose it for
  Veo [U], so best effort).
- Imagen: `POST models/{m}:predict` (synchronous; `predictions[].bytesBase64Encoded`).
  python-genai dropped Imagen on the Gemini API in 2026-08; the same `:predict` call is
  still sent there [U], and Vertex is the confirmed surface.
- Gemini image models (`gemini-*image*`): `POST models/{m}:generateContent` with
  `responseModalities: ["IMAGE"]` (synchronous; `inlineData` parts).

States (Veo): submitted -> queued; `done: false` -> processing (a
`metadata.progressPercent`, if ever present, becomes `progress_percent` [U]);
`done: true` with `response` -> completed, with `error` -> failed.

Results: Gemini Veo answers `generateVideoResponse.generatedSamples[].video.uri`;
the first sample is downloaded (`x-goog-api-key`, redirects followed) and returned as
`{"content": bytes, "content_type": "video/mp4"}`; `provider_config
{"download_video": False}` returns the URI instead (it needs the API key to open).
Inline `encodedVideo` / Vertex `bytesBase64Encoded` become the same bytes dict;
a Vertex `gcsUri` (when `extra_params["storage_uri"]` is set) is returned as the
`gs://` URL. Images become `data:` URIs. `raw_response` is the provider's JSON
with inline base64 elided.

Errors: a finished operation with no samples and `raiMediaFilteredCount > 0`, an
Imagen answer with only `raiFilteredReason` entries, a Gemini `promptFeedback
.blockReason` or a safety `finishReason` -> `ContentModerationError`; an
operation `error` (google.rpc.Status, numeric `code`) -> `GenerationFailedError`
(or moderation when its message says so). HTTP: 400 `INVALID_ARGUMENT` ->
`ValidationError`, except "API key not valid" (`API_KEY_INVALID`) which is an
auth `HTTPError`; 401/403 -> `HTTPError` (403 `PERMISSION_DENIED` is an
auth problem, not moderation as upstream had it); 429 `RESOURCE_EXHAUSTED` ->
`RateLimitError`, `retry_after` from `Retry-After` or `RetryInfo.retryDelay`;
5xx -> `HTTPError` (falls back).

Models: Veo `veo-3.1-*`, `veo-3.0-*`, `veo-2.0-*`; Imagen `imagen-3.0-*`,
`imagen-4.0-*`; Gemini `gemini-*image*`. An unknown id can borrow a family's
mapping with `provider_config={"base_model": ...}`. `seed` and `generate_audio`
are Vertex-only and are not sent to the Gemini API (upstream sent them, and the API
refuses them); Veo 3 there always generates audio. Fields a model has no equivalent
for are not sent, as upstream. `extra_params` go into `parameters` (Veo, Imagen)
or `generationConfig.imageConfig` (Gemini image), snake_case keys camelCased
(`person_generation` -> `personGeneration`; upstream's `output_gcs_uri` and
`storage_uri` -> `storageUri`); a dotted key (`generationConfig.temperature`) is
placed from the top of the body as written.
"""

# One module per provider name (fixed by providers/__init__.py). It runs past 400 lines
# because it serves two surfaces and three APIs; the parsing of each answer lives in a
# small function of its own below.

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import uuid
from typing import TYPE_CHECKING, Any

from .. import exceptions as exc
from ..call import Call
from ..flow import Flow
from ..media_io import guess_content_type
from ..models import VideoGenerationRequest
from ..responses import ImageGenerationResponse, VideoGenerationResponse
from .base import HttpProvider, Job, ProviderProtocol, http_error, parse_retry_after
from .inputs import wire_bytes
from .mapping import Field, ModelSpec, find_spec, map_request, strict_fields

if TYPE_CHECKING:
    import httpx

__all__ = ["ADAPTER", "GoogleProtocol", "SPECS"]

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"

# -- field mapping ---------------------------------------------------------------------

_VEO_BASE = (
    Field("prompt", "instances[0].prompt", required=True),
    Field("aspect_ratio", "parameters.aspectRatio", allowed=("16:9", "9:16")),
    Field("negative_prompt", "parameters.negativePrompt"),
    Field("number_of_videos", "parameters.sampleCount", bounds=(1, 4)),
    Field("enhance_prompt", "parameters.enhancePrompt"),
    Field("image_list:reference", "instances[0].image"),  # upstream: a reference is the first frame
    Field("image_list:first_frame", "instances[0].image"),
    Field("image_list:last_frame", "instances[0].lastFrame"),
)
_REFERENCES = (
    Field("image_list:asset", "instances[0].referenceImages"),
    Field("image_list:style", "instances[0].referenceImages"),
)
_VERTEX_ONLY = (Field("seed", "parameters.seed"),)
_AUDIO = Field("generate_audio", "parameters.generateAudio")
_EXTEND = Field("video", "instances[0].video")  # extends an earlier Veo video


def _veo(surface: str, model: str, durations: tuple[int, ...], resolutions: tuple[str, ...],
         *extra: Field, audio: bool = True) -> ModelSpec:
    fields = (
        *_VEO_BASE,
        Field("duration_seconds", "parameters.durationSeconds", allowed=durations),
        Field("resolution", "parameters.resolution", allowed=resolutions),
        *extra,
    )
    if surface == "vertex":
        fields = (*fields, *_VERTEX_ONLY, *((_AUDIO,) if audio else ()))
    return ModelSpec(model, "video", fields, title=f"{_TITLES[surface]} :predictLongRunning")


def _imagen(surface: str, model: str) -> ModelSpec:
    fields: tuple[Field, ...] = (
        Field("prompt", "instances[0].prompt", required=True),
        Field("n", "parameters.sampleCount", bounds=(1, 4)),
        Field("aspect_ratio", "parameters.aspectRatio", allowed=("1:1", "3:4", "4:3", "9:16", "16:9")),
    )
    if surface == "vertex":
        fields = (*fields, Field("negative_prompt", "parameters.negativePrompt"), *_VERTEX_ONLY)
    return ModelSpec(model, "image", fields, title=f"{_TITLES[surface]} :predict")


def _gemini_image(surface: str) -> ModelSpec:
    fields = (
        Field("prompt", "contents[0].parts.text", required=True),
        Field("image_list:*", "contents[0].parts.inlineData"),
        Field("aspect_ratio", "generationConfig.imageConfig.aspectRatio",
              allowed=("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")),
        Field("n", "", allowed=(1,)),
    )
    return ModelSpec(GEMINI_IMAGE, "image", fields, title=f"{_TITLES[surface]} :generateContent")


_TITLES = {"gemini": "Gemini API", "vertex": "Vertex AI"}
GEMINI_IMAGE = "gemini-*image*"


def _surface_specs(surface: str) -> tuple[ModelSpec, ...]:
    return (
        _veo(surface, "veo-3.1", (4, 6, 8), ("720p", "1080p", "4k"), *_REFERENCES, _EXTEND),
        _veo(surface, "veo-3.0", (4, 6, 8), ("720p", "1080p")),
        _veo(surface, "veo-2.0", (5, 6, 7, 8), ("720p",), *_REFERENCES, audio=False),
        _imagen(surface, "imagen-3.0"),
        _imagen(surface, "imagen-4.0"),
        _gemini_image(surface),
    )


GEMINI_SPECS = _surface_specs("gemini")
VERTEX_SPECS = _surface_specs("vertex")
#: Every model's field mapping on both surfaces (renders the docs table).
SPECS: tuple[ModelSpec, ...] = (*GEMINI_SPECS, *VERTEX_SPECS)

_TOP_LEVEL = {"webhookConfig", "safetySettings", "systemInstruction"}
_ALIASES = {"outputGcsUri": "storageUri"}
_SAFETY_FINISH = frozenset(
    {"SAFETY", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"}
)
_MODERATION_WORDS = (
    "usage guidelines", "responsible ai", "safety filter", "safety setting", "prohibited content",
    "sensitive words", "content policy", "filtered",
)


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _says_moderation(message: Any) -> bool:
    text = str(message or "").lower()
    return any(word in text for word in _MODERATION_WORDS)


def _elide(value: Any) -> Any:
    """`value` with inline base64 payloads replaced by a note of their length."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("bytesBase64Encoded", "encodedVideo", "data") and isinstance(item, str) and len(item) > 256:
                out[key] = f"<{len(item)} base64 chars, elided>"
            else:
                out[key] = _elide(item)
        return out
    if isinstance(value, list):
        return [_elide(item) for item in value]
    return value


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


def _imagen_images(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """`(data URIs, refusal reasons)` of an Imagen `:predict` answer.

    Imagen drops filtered images: `raiFilteredReason` entries (with
    `includeRaiReason`) or, without it, no predictions at all, which counts as refused.
    """
    images: list[str] = []
    blocked: list[str] = []
    for item in body.get("predictions") or []:
        if not isinstance(item, dict):
            continue
        if item.get("bytesBase64Encoded"):
            images.append(f"data:{item.get('mimeType') or 'image/png'};base64,{item['bytesBase64Encoded']}")
        elif item.get("raiFilteredReason"):
            blocked.append(str(item["raiFilteredReason"]))
    if not images and not blocked:
        blocked.append("every image was filtered (no predictions returned)")
    return images, blocked


def _gemini_images(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """`(data URIs, refusal reasons)` of a Gemini `:generateContent` answer."""
    images: list[str] = []
    blocked: list[str] = []
    feedback = body.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        blocked.append(f"prompt blocked: {feedback['blockReason']}")
    for candidate in body.get("candidates") or []:
        for part in (candidate.get("content") or {}).get("parts") or []:
            blob = part.get("inlineData") or part.get("inline_data")
            if isinstance(blob, dict) and blob.get("data"):
                mime = blob.get("mimeType") or blob.get("mime_type") or "image/png"
                images.append(f"data:{mime};base64,{blob['data']}")
        reason = str(candidate.get("finishReason") or "")
        if reason in _SAFETY_FINISH:
            blocked.append(f"finishReason {reason}")
    return images, blocked


class GoogleProtocol(ProviderProtocol):
    """The Gemini API and Vertex AI generation endpoints as a sans-I/O protocol."""

    name = "google"
    default_base_url = GEMINI_BASE_URL

    # -- surfaces and auth ---------------------------------------------------------------
    def vertex(self, call: Call) -> tuple[str, str] | None:
        """`(project, location)` when the call goes to Vertex AI, else `None`."""
        extra = call.config.provider_config
        if not (extra.get("vertexai") or extra.get("project")):
            return None
        missing = [key for key in ("project", "location") if not extra.get(key)]
        if missing:
            raise self._invalid(call, f"Vertex AI needs provider_config {' and '.join(missing)}")
        return str(extra["project"]), str(extra["location"])

    def base_url(self, call: Call) -> str:
        if call.config.base_url:
            return call.config.base_url.rstrip("/")
        where = self.vertex(call)
        if where is None:
            return GEMINI_BASE_URL
        location = where[1]
        host = "aiplatform.googleapis.com" if location == "global" else f"{location}-aiplatform.googleapis.com"
        return f"https://{host}/v1"

    def _token(self, call: Call) -> str | None:
        if self.vertex(call) is not None:
            return call.config.api_key or call.config.provider_config.get("access_token")
        return call.config.api_key or os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")

    def headers(self, call: Call) -> dict[str, str]:
        token = self._token(call)
        if not token:
            return {}
        if self.vertex(call) is not None:
            return {"Authorization": f"Bearer {token}"}
        return {"x-goog-api-key": token}

    def _check_auth(self, call: Call) -> None:
        if self._token(call):
            return
        if self.vertex(call) is not None:
            hint = (
                " (credentials_path / service-account files are not supported: no Google auth library is used)"
                if call.config.provider_config.get("credentials_path")
                else ""
            )
            raise self._invalid(
                call,
                "Vertex AI needs an OAuth access token in config.api_key or provider_config['access_token'] "
                f"(e.g. from `gcloud auth print-access-token`){hint}",
            )
        raise self._invalid(call, "the Gemini API needs an API key: config.api_key, GEMINI_API_KEY or GOOGLE_API_KEY")

    def _invalid(self, call: Call, message: str) -> exc.ValidationError:
        return exc.ValidationError(f"{call.config.model}: {message}", provider=self.name, model=call.config.model)

    def _model(self, call: Call) -> str:
        return call.config.model.removeprefix("models/")

    def _path(self, call: Call, verb: str) -> str:
        where = self.vertex(call)
        model = f"models/{self._model(call)}:{verb}"
        if where is None:
            return model
        return f"projects/{where[0]}/locations/{where[1]}/publishers/google/{model}"

    # -- specs ---------------------------------------------------------------------------
    def spec(self, call: Call) -> ModelSpec:
        specs = VERTEX_SPECS if self.vertex(call) is not None else GEMINI_SPECS
        for model in (self._model(call), call.config.provider_config.get("base_model")):
            if not model:
                continue
            model = str(model)
            if call.kind == "image" and model.startswith("gemini") and "image" in model:
                return next(s for s in specs if s.model == GEMINI_IMAGE)
            spec = find_spec(specs, model, call.kind)
            if spec is not None:
                return spec
        known = ", ".join(sorted({s.model for s in specs if s.kind == call.kind}))
        raise self._invalid(
            call,
            f"not a known Google {call.kind} model (families: {known}); "
            "provider_config={'base_model': <known id>} borrows a family's mapping",
        )

    # -- prepare -------------------------------------------------------------------------
    def prepare(self, call: Call) -> Flow[dict[str, Any]]:
        self._check_auth(call)
        spec = self.spec(call)
        request = call.request
        bare = request.model_copy(update={"extra_params": {}})
        payload = map_request(
            spec, bare, provider=self.name, model=call.config.model, reads=("image_list", "video"),
            strict=strict_fields(call.config),
        )
        vertex = self.vertex(call) is not None
        if spec.model == GEMINI_IMAGE:
            body = yield from self._gemini_image_body(call, payload, vertex)
            self._extras(body, request.extra_params, ("generationConfig", "imageConfig"))
            return {"path": self._path(call, "generateContent"), "json": body}
        instance = payload.get("instances[0]", {})
        parameters = payload.get("parameters", {})
        if call.kind == "video":
            yield from self._video_inputs(call, spec, instance, vertex)
            verb = "predictLongRunning"
        else:
            verb = "predict"
        body = {"instances": [instance], "parameters": parameters}
        self._extras(body, request.extra_params, ("parameters",))
        if not vertex and "storageUri" in body["parameters"]:
            raise self._invalid(call, "storage_uri (output to GCS) needs Vertex AI")
        return {"path": self._path(call, verb), "json": body}

    def _video_inputs(self, call: Call, spec: ModelSpec, instance: dict[str, Any], vertex: bool) -> Flow[None]:
        request = call.request
        assert isinstance(request, VideoGenerationRequest)  # called for video calls only
        images = request.image_list
        roles = [item.get("type") for item in images]
        takes_refs = any(f.source == "image_list:asset" for f in spec.fields)
        refs = [item for item in images if item.get("type") in ("asset", "style")]
        if refs and not takes_refs:
            raise self._invalid(call, f"takes no asset/style reference images; got types {roles}")
        if len(refs) > 3:
            raise self._invalid(call, f"takes at most 3 asset/style reference images; got {len(refs)}")
        if refs and "image" in instance:
            raise self._invalid(call, "reference images (asset/style) cannot be combined with a first frame")
        if "lastFrame" in instance and "image" not in instance:
            raise self._invalid(call, "a last_frame needs a first_frame")
        for key in ("image", "lastFrame"):
            if key in instance:
                instance[key] = yield from self._media(call, instance[key], vertex)
        if refs:
            instance["referenceImages"] = []
            for item in refs:
                image = yield from self._media(call, item["image"], vertex)
                instance["referenceImages"].append({"image": image, "referenceType": item["type"]})
        video = instance.get("video")
        if request.video is not None and video is None:
            raise self._invalid(call, "takes no video input (extending a video: veo-3.1)")
        if video is not None:
            text = video if isinstance(video, str) else ""
            if text.startswith("gs://"):
                instance["video"] = {"gcsUri": text, "mimeType": "video/mp4"}
            elif text.startswith(("http://", "https://")):
                instance["video"] = {"uri": text}
            else:
                instance["video"] = yield from self._media(call, video, vertex, "video/mp4")

    def _media(self, call: Call, media: Any, vertex: bool, default_type: str = "image/png") -> Flow[dict[str, Any]]:
        """One input as Google's Image/Video object: inline base64, or a `gcsUri` on Vertex."""
        if isinstance(media, str) and media.startswith("gs://"):
            if not vertex:
                raise self._invalid(call, "gs:// inputs need Vertex AI (provider_config project/location)")
            return {"gcsUri": media, "mimeType": guess_content_type(media, default_type)}
        data, content_type = yield from wire_bytes(media, default_type)
        return {"bytesBase64Encoded": base64.b64encode(data).decode("ascii"), "mimeType": content_type}

    def _gemini_image_body(self, call: Call, payload: dict[str, Any], vertex: bool) -> Flow[dict[str, Any]]:
        given = payload["contents[0]"]["parts"]
        parts: list[dict[str, Any]] = [{"text": given["text"]}]
        for media in given.get("inlineData") or []:
            blob = yield from self._media(call, media, vertex)
            if "gcsUri" in blob:
                parts.append({"fileData": {"fileUri": blob["gcsUri"], "mimeType": blob["mimeType"]}})
            else:
                parts.append({"inlineData": {"mimeType": blob["mimeType"], "data": blob["bytesBase64Encoded"]}})
        config = payload.get("generationConfig", {})
        config["responseModalities"] = ["IMAGE"]
        return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}

    @staticmethod
    def _extras(body: dict[str, Any], extra: dict[str, Any], home: tuple[str, ...]) -> None:
        for key, value in extra.items():
            if "." in key:
                target, path = body, key.split(".")
            else:
                name = _camel(key)
                name = _ALIASES.get(name, name)
                target, path = body, ([name] if name in _TOP_LEVEL else [*home, name])
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value

    # -- submit / poll -------------------------------------------------------------------
    def submit(self, call: Call, payload: dict[str, Any]) -> httpx.Request:
        return self.request(call, "POST", payload["path"], json=payload["json"])

    def parse_submit(self, call: Call, response: httpx.Response) -> Job:
        body = self.json_object(call, response, "submit")
        if call.kind == "image":
            result = self._image_result(call, body)
            return Job(id=result.request_id, status="completed", data=body, result=result)
        name = self.job_id(call, body, "name", "an operation name", shown=_elide(body))
        try:
            sent = json.loads(response.request.content or b"{}")
        except ValueError:
            sent = {}
        job = Job(id=str(name), status="queued", data={"sent": _elide(sent)})
        return self._operation(call, job, body, submitted=True) if body.get("done") else job

    def poll(self, call: Call, job: Job) -> httpx.Request:
        if self.vertex(call) is None:
            return self.request(call, "GET", job.id)
        model_path = job.id.split("/operations/")[0]
        return self.request(call, "POST", f"{model_path}:fetchPredictOperation", json={"operationName": job.id})

    def parse_poll(self, call: Call, job: Job, response: httpx.Response) -> Job:
        return self._operation(call, job, self.json_object(call, response, "poll"))

    def cancel(self, call: Call, job: Job) -> httpx.Request:
        return self.request(call, "POST", f"{job.id}:cancel", json={})

    def _operation(self, call: Call, job: Job, body: dict[str, Any], submitted: bool = False) -> Job:
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
        videos, failure = self._outcome(call, job, body)
        if failure is not None:
            code = body["error"].get("code") if isinstance(body.get("error"), dict) else None
            update = {"done": True, **({"error": code} if code is not None else {})}
            return job.evolve(status="failed", update=update, error=failure)
        data = {**(job.data or {}), "operation": _elide(body), "video": videos[0]}
        return job.evolve(status="completed", progress=100, update={"done": True}, data=data)

    def _outcome(
        self, call: Call, job: Job, body: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], exc.TarashException | None]:
        """The videos of a finished operation, or why there are none."""
        where: exc.ErrorContext = {
            "provider": self.name,
            "model": call.config.model,
            "request_id": job.id,
            "raw_response": {"phase": "job", "body": _elide(body)},
        }
        error = body.get("error")
        if isinstance(error, dict):
            text = error.get("message", "")
            message = f"google operation {job.id} failed (code {error.get('code')}): {text}"
            cls = exc.ContentModerationError if _says_moderation(text) else exc.GenerationFailedError
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

    # -- result --------------------------------------------------------------------------
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
        video = job.data["video"]
        content_type = str(video.get("mimeType") or video.get("encoding") or "video/mp4")
        inline = video.get("bytesBase64Encoded") or video.get("encodedVideo")
        media: Any
        if response is not None:
            header = response.headers.get("content-type", "").split(";")[0].strip()
            content_type = header if header.startswith("video/") else content_type
            media = {"content": response.content, "content_type": content_type}
        elif inline:
            try:
                media = {"content": base64.b64decode(inline), "content_type": content_type}
            except (binascii.Error, ValueError):
                raise exc.GenerationFailedError(
                    f"google operation {job.id} returned undecodable video bytes",
                    provider=self.name, model=call.config.model, request_id=job.id,
                ) from None
        else:
            media = str(video.get("uri") or video.get("gcsUri"))
        parameters = (job.data.get("sent") or {}).get("parameters") or {}
        duration = parameters.get("durationSeconds")
        return VideoGenerationResponse(
            request_id=job.id,
            video=media,
            content_type=content_type,
            duration=float(duration) if isinstance(duration, int | float) else None,
            resolution=parameters.get("resolution"),
            aspect_ratio=parameters.get("aspectRatio"),
            raw_response=job.data.get("operation") or {},
        )

    def _image_result(self, call: Call, body: dict[str, Any]) -> ImageGenerationResponse:
        """The images of an Imagen or Gemini answer; refusals raise, with the body elided."""
        request_id = str(body.get("responseId") or f"google-image-{uuid.uuid4().hex}")
        if self.spec(call).model == GEMINI_IMAGE:
            images, blocked = _gemini_images(body)
        else:
            images, blocked = _imagen_images(body)
        if not images:
            where: exc.ErrorContext = {
                "provider": self.name,
                "model": call.config.model,
                "request_id": request_id,
                "raw_response": {"phase": "submit", "body": _elide(body)},
            }
            if blocked:
                raise exc.ContentModerationError(
                    f"google {call.config.model} refused the image: {'; '.join(blocked)}", **where
                )
            raise exc.GenerationFailedError(f"google {call.config.model} answered no image", **where)
        return ImageGenerationResponse(
            request_id=request_id,
            images=images,
            content_type=images[0][5:].split(";", 1)[0],
            raw_response=_elide(body),
        )

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
        if code in (400, 422) and isinstance(error, dict) and _says_moderation(error.get("message")):
            return exc.ContentModerationError(mapped.message, **where)
        return mapped


ADAPTER = HttpProvider(GoogleProtocol())
