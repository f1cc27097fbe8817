"""A recording's progress timeline as an inline SVG chart, drawn on the server.

Time runs left to right (seconds from the call's start), progress bottom to top (0 to
100 %). Each update the provider reported is a dot coloured by its status, with its
time, status and percent as a native tooltip; the line steps from one to the next, and
a last mark at the recorded duration shows how the call ended. No script, no CDN: the
markup is built here with every recorded value escaped.

Example:
    >>> points = timeline_points('[{"t": 0, "u": {"status": "queued"}}, '
    ...                          '{"t": 4, "u": {"status": "completed", "progress_percent": 100}}]')
    >>> [(p.t, p.status, p.percent) for p in points]
    [(0.0, 'queued', None), (4.0, 'completed', 100.0)]
    >>> "<svg" in timeline_svg(points, duration=4.0, outcome="response")
    True
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, TypeGuard

from markupsafe import Markup, escape

__all__ = ["Point", "timeline_entries", "timeline_points", "timeline_svg"]

_KNOWN = {"queued", "processing", "completed", "failed", "cancelled"}


@dataclass(frozen=True, slots=True)
class Point:
    """One progress update: seconds from the start, status, percent (``None`` if not reported)."""

    t: float
    status: str
    percent: float | None


def timeline_entries(raw: str | None) -> list[tuple[Point, dict[str, Any]]]:
    """The updates of a recording's ``timeline`` column with their payloads, in order;
    malformed entries are skipped."""
    try:
        entries = json.loads(raw) if raw else []
    except ValueError:
        return []
    found = []
    for entry in entries if isinstance(entries, list) else []:
        update = entry.get("u") if isinstance(entry, dict) else None
        t = entry.get("t") if isinstance(entry, dict) else None
        if not isinstance(update, dict) or not _number(t):
            continue
        percent = update.get("progress_percent")
        point = Point(float(t), str(update.get("status", "")), float(percent) if _number(percent) else None)
        found.append((point, update))
    return found


def timeline_points(raw: str | None) -> list[Point]:
    """The updates of a recording's ``timeline`` column, in order; malformed entries are skipped."""
    return [point for point, _ in timeline_entries(raw)]


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _css(status: str) -> str:
    return status if status in _KNOWN else "other"  # a class name never comes from the cassette


def _step(span: float) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving at most six ticks."""
    raw = max(span, 1e-9) / 5
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _seconds(t: float) -> str:
    return f"{t:.0f} s" if t == int(t) else f"{t:.1f} s"


def timeline_svg(points: list[Point], *, duration: float | None, outcome: str, compact: bool = False) -> Markup:
    """The chart as SVG markup (``compact``: a small strip for a list, without axes)."""
    if not points:
        return Markup('<span class="tarash-empty">no updates</span>' if compact else
                      '<p class="tarash-empty">no progress updates recorded</p>')
    width, height = (160, 28) if compact else (640, 200)
    left, right, top, bottom = (4, 8, 4, 4) if compact else (44, 16, 14, 34)
    end = max([p.t for p in points] + [duration or 0.0])
    span = end if end > 0 else 1.0

    def x(t: float) -> float:
        return round(left + (width - left - right) * t / span, 1)

    def y(percent: float) -> float:
        return round(top + (height - top - bottom) * (1 - min(max(percent, 0.0), 100.0) / 100), 1)

    parts = [f'<svg class="tarash-timeline{" compact" if compact else ""}" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{len(points)} progress update{'s' if len(points) != 1 else ''} over {_seconds(end)}</title>"]
    if not compact:
        parts.extend(_axes(x, y, end, width, height, left, right, bottom))
    level, coords = 0.0, []
    for point in points:  # a step line: along at the old level, then up to the new one
        coords.append(f"{x(point.t)},{y(level)}")
        level = point.percent if point.percent is not None else level
        coords.append(f"{x(point.t)},{y(level)}")
    if duration is not None and duration > points[-1].t:
        coords.append(f"{x(duration)},{y(level)}")
    parts.append(f'<path class="line" d="M{" L".join(coords)}" fill="none"/>')
    last = "error" if outcome == "error" else "response"
    level = 0.0
    for point in points:
        level = point.percent if point.percent is not None else level
        tip = f"{_seconds(point.t)}: {point.status or '?'}" + (f", {point.percent:g} %" if point.percent is not None else "")
        parts.append(f'<circle class="st-{_css(point.status)}" cx="{x(point.t)}" cy="{y(level)}" '
                     f'r="{2.5 if compact else 4.5}"><title>{escape(tip)}</title></circle>')
    at = duration if duration is not None else points[-1].t
    mark_top = min(max(y(level) - 7, 0), height - 14)
    parts.append(f'<rect class="end-{last}" x="{x(at) - 3}" y="{mark_top}" width="6" height="14">'
                 f"<title>{escape(f'{_seconds(at)}: {last}')}</title></rect>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _axes(x: Any, y: Any, end: float, width: int, height: int, left: int, right: int, bottom: int) -> list[str]:
    parts = []
    for percent in (0, 50, 100):
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(percent)}" y2="{y(percent)}"/>'
                     f'<text class="axis" x="{left - 6}" y="{y(percent) + 4}" text-anchor="end">{percent} %</text>')
    step = _step(end)
    ticks = int(end / step + 1e-9) if end > 0 else 0
    for i in range(ticks + 1):
        t = i * step
        parts.append(f'<line class="tick" x1="{x(t)}" x2="{x(t)}" y1="{height - bottom}" y2="{height - bottom + 4}"/>'
                     f'<text class="axis" x="{x(t)}" y="{height - bottom + 16}" text-anchor="middle">{_seconds(t)}</text>')
    parts.append(f'<text class="axis" x="{width - right}" y="{height - 2}" text-anchor="end">seconds from the call</text>')
    return parts
