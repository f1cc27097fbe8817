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

# A package: one module per surface and family (`surface`: Gemini API or Vertex AI, its
# URLs, auth and paths; `specs`: the field mapping of each family on each surface; `veo`:
# long-running video operations; `images`: Imagen and Gemini image answers; `wire`: the
# JSON shapes both share; `protocol`: the protocol that puts them together).

from .protocol import ADAPTER, GoogleProtocol
from .specs import SPECS

__all__ = ["ADAPTER", "GoogleProtocol", "SPECS"]
