"""Why an HTTP request missed: the nearest recorded requests and what differs.

The call level's `matching.explain_miss` in HTTP terms, with the same sentences
(`misses`): the message names the cassette, the record mode, and for up to three
nearest recordings of the same host the fields that differ (method, path, query
parameters, body fields). Pure.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..misses import asked_again, difference, nearest_recordings, no_cassette

__all__ = ["explain_exchange_miss", "request_fields"]


def request_fields(canonical: dict[str, Any]) -> dict[str, Any]:
    """A canonical request as flat fields: `method`, `path`, `query.<name>`, `body.<key>`."""
    parts = urlsplit(canonical.get("url") or "")
    fields: dict[str, Any] = {"method": canonical.get("method"), "host": parts.netloc, "path": parts.path}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        fields[f"query.{name}"] = value
    body = canonical.get("body")
    if isinstance(body, dict) and isinstance(body.get("json"), dict):
        for name, value in body["json"].items():
            fields[f"body.{name}"] = value
    elif isinstance(body, dict) and isinstance(body.get("multipart"), list):
        for part in body["multipart"]:
            fields[f"body.{part.get('name')}"] = part.get("content")
    elif isinstance(body, dict) and isinstance(body.get("form"), list):
        for name, value in body["form"]:
            fields[f"body.{name}"] = value
    else:
        fields["body"] = body
    return fields


def _differences(asked: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    return [difference(name, asked.get(name), recorded.get(name))
            for name in sorted(set(asked) | set(recorded)) if asked.get(name) != recorded.get(name)]


def explain_exchange_miss(
    *,
    path: str,
    mode: str,
    asked: dict[str, Any],
    candidates: Sequence[dict[str, Any]],
    recorded_count: int,
    index: int,
    exists: bool,
    unfinished: bool = False,
    nearest: int = 3,
) -> str:
    """The message of a `RecordingNotFoundError` for an HTTP request (`unfinished`: a
    poll whose recorded answers all say its job was still running)."""
    what = f"HTTP request {asked.get('method')} {asked.get('url')}"
    if not exists:
        return no_cassette(path, what, mode)
    if recorded_count and unfinished:
        return (f"cassette {path} holds {recorded_count} answer(s) to this poll, {what}, but none that ends its "
                f"job (record_mode={mode!r}): the recording stopped before the job did. Record it again with "
                "record_mode='new_episodes' (or 'all'), letting the job finish.")
    if recorded_count:
        return asked_again(path, what, count=recorded_count, index=index, mode=mode, unit="request")
    mine = request_fields(asked)
    scored = sorted(
        ((_differences(mine, request_fields(json.loads(c["request"]))), c) for c in candidates),
        key=lambda pair: (len(pair[0]), -pair[1]["id"]),
    )[:nearest]
    return nearest_recordings(
        path, what, mode,
        [(f"#{c['id']} {c['method']} {c['url'][:100]} recorded {c['recorded_at']}", diffs) for diffs, c in scored],
        heading="Nearest recorded requests:", nothing="It holds no HTTP recordings of this host at all.",
        unit="request",
    )
