"""Provider job flows in raw HTTP traffic: which request submits, polls, fetches the
result of or cancels a job, when a poll's answer is terminal, and where its media is.

Recognised by the shape of the path (and the answer), not by the host, so a flow recorded
against a local simulator or a proxy is recognised too:

=========== ======================================= ====================================== ==========================
provider    submit                                  poll (terminal when)                   media in the answer
=========== ======================================= ====================================== ==========================
fal         `POST /{owner}/{app}...`              `GET .../requests/{id}/status`       `url` anywhere in the
                                                    (`COMPLETED`)                        result `GET .../requests/{id}`
Replicate   `POST /v1/.../predictions`            `GET /v1/predictions/{id}`           `output`
                                                    (`succeeded`, `failed`, `canceled`)
OpenAI      `POST .../videos`                     `GET .../videos/{id}` (`completed`) `GET .../videos/{id}/content`;
                                                                                           images `data[].url`
Runway      `POST /v1/image_to_video` ...         `GET /v1/tasks/{id}` (`SUCCEEDED`) `output[]`
Google      `POST ...:predictLongRunning`         `GET .../operations/{id}` or         `uri` in `response`
                                                    `POST ...:fetchPredictOperation`
                                                    (`done`)
xAI         `POST /v1/videos/generations`         `GET /v1/videos/{id}` (`done`)     `video.url`, `data[].url`
=========== ======================================= ====================================== ==========================

Pure functions; nothing here does I/O.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["PROVIDER_HOSTS", "Step", "classify", "host_matches", "media_urls", "outcome"]

#: The provider API hosts `http="providers"` records (patterns as in `fnmatch`).
PROVIDER_HOSTS = (
    "fal.run", "*.fal.run", "*.fal.ai", "fal.media", "*.fal.media",
    "api.replicate.com", "replicate.delivery", "*.replicate.delivery",
    "api.openai.com", "*.openai.azure.com",
    "generativelanguage.googleapis.com", "aiplatform.googleapis.com", "*-aiplatform.googleapis.com",
    "api.dev.runwayml.com", "api.runwayml.com",
    "api.stability.ai",
    "api.x.ai",
)

POLL, SUBMIT, RESULT, CANCEL, MEDIA, CALL = "poll", "submit", "result", "cancel", "media", "call"


@dataclass(frozen=True, slots=True)
class Step:
    """What one request is in a provider's job flow."""

    provider: str | None
    role: str
    job: str | None = None


_FAL_POLL = re.compile(r"/requests/([^/]+)/status(?:/stream)?$")
_FAL_CANCEL = re.compile(r"/requests/([^/]+)/cancel$")
_FAL_RESULT = re.compile(r"/requests/([^/]+)$")
_REPLICATE_SUBMIT = re.compile(r"/v1/(?:models/[^/]+/[^/]+/|deployments/[^/]+/[^/]+/)?predictions$")
_REPLICATE_POLL = re.compile(r"/v1/predictions/([^/]+)$")
_REPLICATE_CANCEL = re.compile(r"/v1/predictions/([^/]+)/cancel$")
_VIDEOS_SUBMIT = re.compile(r"/videos(?:/generations)?$")
_VIDEOS_POLL = re.compile(r"(?:^|/v1|/openai)/videos/([^/:.]+)$")  # not a media file under /videos/
_VIDEOS_CONTENT = re.compile(r"/videos/([^/:]+)/content$")
_RUNWAY_SUBMIT = re.compile(r"/v1/(?:image_to_video|text_to_video|video_to_video|text_to_image|video_upscale|"
                            r"character_performance|sound_effect|text_to_speech|speech_to_speech|voice_dubbing|"
                            r"voice_isolation)$")
_RUNWAY_TASK = re.compile(r"/v1/tasks/([^/]+)$")
_GOOGLE_SUBMIT = re.compile(r"/models/[^/:]+:predictLongRunning$")
_GOOGLE_FETCH = re.compile(r"/models/[^/:]+:fetchPredictOperation$")
_GOOGLE_POLL = re.compile(r"/operations/([^/:]+)$")
_IMAGES = re.compile(r"/images/(?:generations|edits|variations)$")
_TERMINAL = frozenset({"completed", "succeeded", "failed", "canceled", "cancelled", "aborted", "done", "expired"})


def classify(method: str, host: str, path: str, body: Any = None) -> Step:
    """The step a request is, from the request alone (`body`: its parsed JSON or `None`)."""
    method = method.upper()
    if method == "GET":
        return _classify_get(host, path)
    if method == "PUT" and (m := _FAL_CANCEL.search(path)):
        return Step("fal", CANCEL, m.group(1))
    if method == "DELETE" and (m := _RUNWAY_TASK.search(path)):
        return Step("runway", CANCEL, m.group(1))
    if method != "POST":
        return Step(None, CALL)
    if m := _REPLICATE_CANCEL.search(path):
        return Step("replicate", CANCEL, m.group(1))
    if _REPLICATE_SUBMIT.search(path):
        return Step("replicate", SUBMIT)
    if _GOOGLE_FETCH.search(path):
        name = body.get("operationName") if isinstance(body, dict) else None
        return Step("google", POLL, name.rsplit("/", 1)[-1] if isinstance(name, str) else None)
    if _GOOGLE_SUBMIT.search(path):
        return Step("google", SUBMIT)
    if _RUNWAY_SUBMIT.search(path):
        return Step("runway", SUBMIT)
    if _VIDEOS_SUBMIT.search(path):
        return Step("xai" if host.endswith("x.ai") else "openai", SUBMIT)
    if _IMAGES.search(path):
        return Step("xai" if host.endswith("x.ai") else "openai", RESULT)
    if host.endswith("fal.run"):
        return Step("fal", RESULT if host == "fal.run" else SUBMIT)
    return Step(None, CALL)


def _classify_get(host: str, path: str) -> Step:
    if m := _FAL_POLL.search(path):
        return Step("fal", POLL, m.group(1))
    if m := _REPLICATE_POLL.search(path):
        return Step("replicate", POLL, m.group(1))
    if m := _RUNWAY_TASK.search(path):
        return Step("runway", POLL, m.group(1))
    if m := _VIDEOS_CONTENT.search(path):
        return Step("openai", MEDIA, m.group(1))
    if m := _VIDEOS_POLL.search(path):
        return Step("xai" if host.endswith("x.ai") else "openai", POLL, m.group(1))
    if m := _GOOGLE_POLL.search(path):
        return Step("google", POLL, m.group(1))
    if m := _FAL_RESULT.search(path):
        return Step("fal", RESULT, m.group(1))
    return Step(None, CALL)


def outcome(step: Step, status: int, answer: Any) -> tuple[bool, str | None]:
    """`(terminal, job id)` of an answer: whether a poll's answer ends its job, and the
    job id a submit's answer names."""
    data = answer if isinstance(answer, dict) else {}
    job = step.job
    if step.role == SUBMIT:
        found = data.get("request_id") or data.get("id") or data.get("name")
        job = found.rsplit("/", 1)[-1] if isinstance(found, str) else None
    if step.role != POLL:
        return False, job
    if status >= 400:
        return True, job  # an error answer ends the job as far as polling goes
    if step.provider == "google":
        return data.get("done") is True, job
    state = data.get("status")
    if step.provider == "xai" and status == 202:
        return False, job
    return isinstance(state, str) and state.lower() in _TERMINAL, job


def media_urls(step: Step, answer: Any) -> list[str]:
    """The output URLs (`http`/`https`) a recorded answer points to, in order, once each."""
    if not isinstance(answer, dict):
        return []
    found: Iterable[str]
    if step.provider == "replicate":
        found = _strings(answer.get("output"))
    elif step.provider == "runway":
        found = _strings(answer.get("output"))
    elif step.provider == "google":
        found = _under(answer.get("response"), "uri")
    elif step.provider in ("openai", "xai"):
        found = [*_under(answer.get("data"), "url"), *_under(answer.get("video"), "url")]
    elif step.provider == "fal":
        found = _under({k: v for k, v in answer.items() if k not in ("response_url", "status_url", "cancel_url")}, "url")
    else:
        found = []
    return list(dict.fromkeys(u for u in found if u.startswith(("http://", "https://"))))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _under(value: Any, key: str) -> Iterator[str]:
    """Every string under `key`, at any depth."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _under(v, key)
    elif isinstance(value, list):
        for item in value:
            yield from _under(item, key)


def host_matches(host: str, port: int | None, patterns: Iterable[str]) -> bool:
    """Whether `host` (or `host:port`) matches one of the patterns (`*.fal.run`)."""
    pattern = _compiled(tuple(patterns))
    return pattern.match(host) is not None or (port is not None and pattern.match(f"{host}:{port}") is not None)


@functools.lru_cache(maxsize=64)  # asked for every request, with the same few tuples of patterns
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or r"(?!)")
