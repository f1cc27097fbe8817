"""Which Google surface serves a call, Gemini API or Vertex AI, and its URLs, auth and paths.

Vertex AI when `provider_config` has `project` (or `vertexai: True`), which then needs
`location` too; the Gemini Developer API otherwise.
"""

from __future__ import annotations

import os

from ... import exceptions as exc
from ...call import Call

__all__ = ["GEMINI_BASE_URL", "base_url", "check_auth", "headers", "invalid", "model_id", "path", "vertex"]

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"


def invalid(call: Call, message: str) -> exc.ValidationError:
    """A refusal of this call, before any network call, naming its model."""
    return exc.ValidationError(f"{call.config.model}: {message}", provider="google", model=call.config.model)


def vertex(call: Call) -> tuple[str, str] | None:
    """`(project, location)` when the call goes to Vertex AI, else `None`."""
    extra = call.config.provider_config
    if not (extra.get("vertexai") or extra.get("project")):
        return None
    missing = [key for key in ("project", "location") if not extra.get(key)]
    if missing:
        raise invalid(call, f"Vertex AI needs provider_config {' and '.join(missing)}")
    return str(extra["project"]), str(extra["location"])


def base_url(call: Call) -> str:
    if call.config.base_url:
        return call.config.base_url.rstrip("/")
    where = vertex(call)
    if where is None:
        return GEMINI_BASE_URL
    location = where[1]
    host = "aiplatform.googleapis.com" if location == "global" else f"{location}-aiplatform.googleapis.com"
    return f"https://{host}/v1"


def _token(call: Call) -> str | None:
    if vertex(call) is not None:
        return call.config.api_key or call.config.provider_config.get("access_token")
    return call.config.api_key or os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")


def headers(call: Call) -> dict[str, str]:
    """The auth header of the surface: a Bearer token on Vertex AI, `x-goog-api-key` on the Gemini API."""
    token = _token(call)
    if not token:
        return {}
    if vertex(call) is not None:
        return {"Authorization": f"Bearer {token}"}
    return {"x-goog-api-key": token}


def check_auth(call: Call) -> None:
    """Refuse a call without the credentials its surface needs."""
    if _token(call):
        return
    if vertex(call) is not None:
        hint = (
            " (credentials_path / service-account files are not supported: no Google auth library is used)"
            if call.config.provider_config.get("credentials_path")
            else ""
        )
        raise invalid(
            call,
            "Vertex AI needs an OAuth access token in config.api_key or provider_config['access_token'] "
            f"(e.g. from `gcloud auth print-access-token`){hint}",
        )
    raise invalid(call, "the Gemini API needs an API key: config.api_key, GEMINI_API_KEY or GOOGLE_API_KEY")


def model_id(call: Call) -> str:
    return call.config.model.removeprefix("models/")


def path(call: Call, verb: str) -> str:
    """The path of `models/{m}:{verb}` on the call's surface."""
    where = vertex(call)
    model = f"models/{model_id(call)}:{verb}"
    if where is None:
        return model
    return f"projects/{where[0]}/locations/{where[1]}/publishers/google/{model}"
