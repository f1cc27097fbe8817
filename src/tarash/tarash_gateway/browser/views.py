"""What the browser's pages show, built from cassette rows: pure functions, no I/O.

The page handlers (`pages`) run the SQL and hand the rows here; the templates
only lay out what these functions return. Every value comes from an untrusted file:
JSON that does not parse is shown as text, numbers are checked, and nothing here is
marked safe for HTML (the templates escape it all).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlencode

from ..cassettes.store import check_digest
from ..exceptions import CassetteError
from .ranges import media_kind, safe_content_type
from .timeline import timeline_entries, timeline_points, timeline_svg

__all__ = ["FilterError", "Filters", "ago", "http_row", "media_item", "pretty_json", "recording_detail",
           "recording_line"]

PAGE_SIZE = 50
MAX_SHOWN = 200_000  # characters of one JSON document shown on a page


class FilterError(ValueError):
    """A filter in the query string that cannot be used (the page answers 400 with it)."""


@dataclass(frozen=True, slots=True)
class Filters:
    """The recordings page's filters, from its query string (every one optional).

    Examples:
        >>> f = Filters.from_args({"provider": "fal", "older_than": "30"})
        >>> f.where(now=1_000_000.0)
        ('provider = ? AND recorded_ts < ?', ['fal', -1592000.0])
    """

    provider: str | None = None
    model: str | None = None
    outcome: str | None = None
    kind: str | None = None
    newer_than: float | None = None  # days
    older_than: float | None = None  # days
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        text = {name: (args.get(name) or "").strip() or None for name in ("provider", "model", "outcome", "kind")}
        return cls(**text, newer_than=_days(args, "newer_than"), older_than=_days(args, "older_than"),
                   page=_page(args.get("page")))

    def where(self, now: float) -> tuple[str, list[Any]]:
        """The SQL condition (`1` when none) and its parameters; values are never spliced in."""
        terms, params = [], []
        for name in ("provider", "model", "outcome", "kind"):
            value = getattr(self, name)
            if value is not None:
                terms.append(f"{name} = ?")
                params.append(value)
        if self.newer_than is not None:
            terms.append("recorded_ts >= ?")
            params.append(now - self.newer_than * 86400)
        if self.older_than is not None:
            terms.append("recorded_ts < ?")
            params.append(now - self.older_than * 86400)
        return (" AND ".join(terms) or "1"), params

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self) if f.name != "page")

    def query(self, **changes: Any) -> str:
        """This page's query string with `changes` (`page=1` and `None` values left out)."""
        values = replace(self, **changes)
        pairs = [(f.name, getattr(values, f.name)) for f in fields(values)]
        kept = [(k, f"{v:g}" if isinstance(v, float) else v) for k, v in pairs if v is not None and (k, v) != ("page", 1)]
        return ("?" + urlencode(kept)) if kept else "?"


def _days(args: Mapping[str, str], name: str) -> float | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        days = float(raw)
    except ValueError:
        days = -1.0
    if not math.isfinite(days) or days < 0:
        raise FilterError(f"{name} must be a number of days (0 or more), not {raw[:40]!r}")
    return days


def _page(raw: str | None) -> int:
    if not raw:
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise FilterError(f"page must be a whole number from 1, not {raw[:40]!r}")
    return int(raw)


def ago(ts: Any, now: float) -> str:
    """How long before `now` a `time.time()` was, in words (`3 h ago`)."""
    if not isinstance(ts, int | float) or not math.isfinite(ts):
        return ""
    seconds = now - ts
    if seconds < 0:
        return "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def pretty_json(raw: str | None) -> str:
    """A JSON column indented for reading; text that is not JSON comes back as it is."""
    if raw is None:
        return ""
    try:
        text = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        text = raw
    if len(text) > MAX_SHOWN:
        return text[:MAX_SHOWN] + f"\n... {len(text) - MAX_SHOWN} more characters (the whole row is in the table view)"
    return text


def _loads(raw: str | None) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def media_item(row: Mapping[str, Any], blob_path: str) -> dict[str, Any]:
    """A captured media file (a `media` row joined with its blob) as the page shows it.

    `src` is `blob_path` followed by the hash, and only for a valid hash: a page never
    points anywhere a cassette chose (`"../../run.db"` is shown as a damaged row).
    """
    content_type, digest = row.get("content_type"), row.get("hash")
    try:
        valid = bool(check_digest(digest, "a media row"))
    except CassetteError:
        valid = False
    kind = "invalid" if not valid else media_kind(content_type) if row.get("size") is not None else "missing"
    return {"slot": row.get("slot"), "url": row.get("url"), "hash": digest, "size": row.get("size"),
            "content_type": content_type, "served_as": safe_content_type(content_type), "kind": kind,
            "src": f"{blob_path}/{digest}" if valid else None}


def recording_line(row: Mapping[str, Any], media: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """One recording in the list: what was asked, how it ended, its media, a small timeline."""
    error = _loads(row.get("error")) if row.get("outcome") == "error" else None
    request = (_loads(row.get("request")) or {}).get("request", {})
    prompt = request.get("prompt") if isinstance(request, dict) else None
    return {
        "id": row["id"], "kind": row.get("kind"), "provider": row.get("provider"), "model": row.get("model"),
        "outcome": row.get("outcome"), "duration": row.get("duration"), "recorded_at": row.get("recorded_at"),
        "age": ago(row.get("recorded_ts"), now), "prompt": prompt if isinstance(prompt, str) else None,
        "error_type": error.get("type") if isinstance(error, dict) else None,
        "error_message": error.get("message") if isinstance(error, dict) else None,
        "media": media,
        "timeline": timeline_svg(timeline_points(row.get("timeline")), duration=_duration(row),
                                 outcome=str(row.get("outcome")), compact=True),
    }


def _duration(row: Mapping[str, Any]) -> float | None:
    value = row.get("duration")
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def recording_detail(row: Mapping[str, Any], media: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """One recording in full: the line, then request and response (or error) and every update."""
    entries = timeline_entries(row.get("timeline"))
    points = [point for point, _ in entries]
    updates = [{"t": p.t, "status": p.status, "percent": p.percent, "update": pretty_json(json.dumps(u))}
               for p, u in entries]
    return {
        **recording_line(row, media, now),
        "key": row.get("key"), "seq": row.get("seq"), "library_version": row.get("library_version"),
        "request_json": pretty_json(row.get("request")),
        "answer_json": pretty_json(row.get("error") if row.get("outcome") == "error" else row.get("response")),
        "chart": timeline_svg(points, duration=_duration(row), outcome=str(row.get("outcome"))),
        "updates": updates,
    }


def _headers(message: Any) -> list[tuple[str, str]]:
    headers = message.get("headers") if isinstance(message, dict) else None
    if not isinstance(headers, dict):
        return []
    return [(str(name), ", ".join(map(str, v)) if isinstance(v, list) else str(v)) for name, v in headers.items()]


def http_row(row: Mapping[str, Any], bodies: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """One raw HTTP interaction: method, URI, status, both sides' headers and bodies.

    `bodies` maps a body's blob hash to what `pages` read of it (`size`,
    `content_type`, `text` when small and readable, `src`).
    """
    request, response = _loads(row.get("request")), _loads(row.get("response"))
    status = response.get("status") if isinstance(response, dict) else None
    code = status.get("code") if isinstance(status, dict) else None
    return {
        "id": row["id"], "method": row.get("method"), "uri": row.get("uri"), "recorded_at": row.get("recorded_at"),
        "status": code if isinstance(code, int) else None,
        "reason": status.get("message") if isinstance(status, dict) else None,
        "request_headers": _headers(request), "response_headers": _headers(response),
        "request_body": bodies.get(str(row.get("request_body"))), "response_body": bodies.get(str(row.get("response_body"))),
    }
