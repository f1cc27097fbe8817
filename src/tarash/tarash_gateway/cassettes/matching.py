"""How a call is matched to its recordings: its canonical request, its key, and why a
miss missed.

The canonical request of a call holds the config's identity fields (kind, provider,
model, API version, `provider_config` scrubbed) and the request's fields that differ
from their defaults. Never the `api_key`, the `base_url` (where the call was sent:
a run recorded against the simulator, a proxy or a staging host replays anywhere), the
`mock` or `cassette` settings, timeouts or fallbacks: changing those does not change
what is generated.
Media given as bytes or as a `data:` URI is represented by its sha256.

Secrets never take part in matching. The canonical request is stored with every secret
scrubbed (`"token": "[REDACTED]"`, so `tarash cassette show` still says a token was
sent); what calls are matched on is its `identity`, which leaves every redacted
field out. A recording made with `provider_config={"auth": {"token": ...}}` is found
by a replay with another token or with none, and the miss explanation never lists a
secret as a difference. Recordings stored before this rule (keyed with their
`[REDACTED]` fields) are found through `legacy_keys`.

The key is the sha256 of the identity's canonical JSON, indexed in the cassette, so
replay is one indexed `SELECT`. A cassette with a narrower `match_on` compares only the chosen
fields (the slow path, see `session`).

Pure functions; nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .config import DEFAULT_MATCH_ON
from .misses import asked_again, difference, nearest_recordings, no_cassette
from .scrub import REDACTED, Scrubber

__all__ = [
    "Candidate",
    "Difference",
    "canonical_json",
    "canonical_request",
    "differences",
    "explain_miss",
    "identity",
    "legacy_keys",
    "match_key",
    "project",
    "request_key",
]

_DATA_URI_INLINE = 256


def canonical_request(kind: str, config: Any, request: Any, scrubber: Scrubber) -> dict[str, Any]:
    """The identity of one call, as plain JSON values, with secrets scrubbed (as
    `[REDACTED]`, so a URL the app got from a replay, holding a stand-in, matches the
    real one it was recorded with)."""
    scrubber = scrubber.for_matching()
    return {
        "kind": kind,
        "provider": config.provider,
        "model": config.model,
        "api_version": config.api_version,
        "provider_config": scrubber.value(_plain(config.provider_config)),
        "request": scrubber.value(_plain(request.model_dump(exclude_defaults=True))),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return {"sha256": hashlib.sha256(value).hexdigest(), "size": len(value)}
    if isinstance(value, str):
        if value.startswith("data:") and len(value) > _DATA_URI_INLINE:
            return {"data_uri_sha256": hashlib.sha256(value.encode()).hexdigest(), "size": len(value)}
        return value
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def identity(canonical: dict[str, Any]) -> dict[str, Any]:
    """What a canonical request is matched on: itself, less every redacted field.

    A field whose value is `[REDACTED]` (or a list of them) is left out, and so is a
    dict that held nothing else: `{"auth": {"token": "[REDACTED]"}}` and `{}` are
    one identity.

    Examples:
        >>> identity({"kind": "video", "provider_config": {"auth": {"token": "[REDACTED]"}, "region": "eu"}})
        {'kind': 'video', 'provider_config': {'region': 'eu'}}
    """
    return {k: (_without_secrets(v) if k in ("provider_config", "request") else v) for k, v in canonical.items()}


def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        kept: dict[str, Any] = {}
        for k, v in value.items():
            if _redacted(v):
                continue
            inner = _without_secrets(v)
            if isinstance(v, dict) and v and not inner:
                continue  # held only secrets
            kept[k] = inner
        return kept
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def _redacted(value: Any) -> bool:
    return value == REDACTED or (isinstance(value, list) and bool(value) and all(v == REDACTED for v in value))


def request_key(canonical: dict[str, Any]) -> str:
    """The indexed key of a canonical request (sha256 of its identity's canonical JSON)."""
    return hashlib.sha256(canonical_json(identity(canonical)).encode()).hexdigest()


def legacy_keys(rows: Iterable[tuple[int, str, str]]) -> dict[str, list[int]]:
    """Recording ids by today's key, for the stored recordings whose stored key is
    another: those keyed before `identity` left redacted fields out.

    `rows` are `(id, stored key, canonical JSON)` as stored, oldest first; only rows
    holding `[REDACTED]` can differ, so a caller may pass just those.
    """
    index: dict[str, list[int]] = {}
    for recording_id, stored_key, text in rows:
        if REDACTED not in text:
            continue
        try:
            canonical = json.loads(text)
        except ValueError:
            continue  # damaged: never matched, reported by verify
        if isinstance(canonical, dict) and (key := request_key(canonical)) != stored_key:
            index.setdefault(key, []).append(recording_id)
    return index


def project(canonical: dict[str, Any], match_on: Sequence[str]) -> dict[str, Any]:
    """The fields of a canonical request's identity that `match_on` compares (absent = `None`)."""
    canonical = identity(canonical)
    out: dict[str, Any] = {}
    for field in match_on:
        head, _, rest = field.partition(".")
        value = canonical.get(head)
        if rest:
            value = value.get(rest) if isinstance(value, dict) else None
        out[field] = value
    return out


def match_key(canonical: dict[str, Any], match_on: Sequence[str], key: str) -> str:
    """The key equal requests share under `match_on` (the request key by default)."""
    if tuple(match_on) == DEFAULT_MATCH_ON:
        return key
    return "m:" + hashlib.sha256(canonical_json(project(canonical, match_on)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Difference:
    """One field that differs between the asked call and a recording."""

    field: str
    asked: Any
    recorded: Any


def _flat(canonical: dict[str, Any], match_on: Sequence[str]) -> dict[str, Any]:
    """Field path -> value, with `request` and `provider_config` opened one level."""
    flat: dict[str, Any] = {}
    for field, value in project(canonical, match_on).items():
        if "." not in field and isinstance(value, dict) and field in ("request", "provider_config"):
            for k, v in value.items():
                flat[f"{field}.{k}"] = v
        else:
            flat[field] = value
    return flat


def differences(asked: dict[str, Any], recorded: dict[str, Any], match_on: Sequence[str]) -> list[Difference]:
    """The `match_on` fields whose values differ, in a stable order."""
    a, r = _flat(asked, match_on), _flat(recorded, match_on)
    return [Difference(f, a.get(f), r.get(f)) for f in sorted(set(a) | set(r)) if a.get(f) != r.get(f)]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A recording considered for a miss message."""

    id: int
    provider: str
    model: str
    recorded_at: str
    request: dict[str, Any]


def explain_miss(
    *,
    path: str,
    mode: str,
    asked: dict[str, Any],
    match_on: Sequence[str],
    candidates: Sequence[Candidate],
    recorded_count: int,
    index: int,
    exists: bool,
    nearest: int = 3,
) -> str:
    """The message of a `RecordingNotFoundError`: nearest recordings and what differs."""
    what = f"{asked['kind']} call to {asked['provider']}/{asked['model']}"
    if not exists:
        return no_cassette(path, what, mode)
    if recorded_count:
        return asked_again(path, what, count=recorded_count, index=index, mode=mode, unit="call")
    scored = sorted(
        ((differences(asked, c.request, match_on), c) for c in candidates),
        key=lambda pair: (len(pair[0]), -pair[1].id),
    )[:nearest]
    return nearest_recordings(
        path, what, mode,
        [(f"#{c.id} {c.provider}/{c.model} recorded {c.recorded_at}", [difference(d.field, d.asked, d.recorded)
                                                                       for d in diffs]) for diffs, c in scored],
        heading="Nearest recordings:", nothing="It holds no recordings of this kind at all.", unit="call",
    )
